"""What ``d1tui import`` does to the data when stdout closes early, columns do not fit, or the
database is new: real emulator over 127.0.0.1, real SQLite, real pipes, database rows asserted."""

from __future__ import annotations

import _thread
import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from d1tui.api.client import D1Client
from d1tui.api.local import local_emulator, make_client
from d1tui.cli import main as cli_main
from d1tui.cli.deps import Deps
from d1tui.emulator import Emulator
from d1tui.importer.options import ImportOptions
from d1tui.importer.target import default_table_name
from d1tui.settings.config import Settings
from d1tui.tui.screens.source import table_name_for

QUICK = Deps(emulator_kwargs={"hold_seconds": 0.05, "no_poll_timeout": 5.0})
NOTES = """\
CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT);
INSERT INTO notes (id, body) VALUES (1, 'one'), (2, 'two');
"""
DUPLICATE = "INSERT INTO notes (id, body) VALUES (9, 'new');\nINSERT INTO notes (id) VALUES (1);\n"


def main(argv: list[str]) -> int:
    """``d1tui`` with a quick emulator behind --local."""
    return cli_main(argv, deps=QUICK)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Local databases under tmp."""
    folder = tmp_path / "local-data"
    monkeypatch.setenv("D1TUI_DATA_DIR", str(folder))
    return folder


def rows_in(data_dir: Path, database: str, sql: str) -> list[tuple[object, ...]]:
    """Query a local database's SQLite file directly."""
    con = sqlite3.connect(Emulator(data_dir).database_file(database))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def database_names(data_dir: Path) -> list[str]:
    """The local databases, as the API lists them."""
    with local_emulator(data_dir, hold_seconds=0.05) as (_emu, settings):
        client: D1Client
        with make_client(settings) as client:
            return sorted(d.name for d in client.list_databases())


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---- stdout closed early (`| head -1`) ------------------------------------------------------

# The child holds after its first stdout line until the parent has closed the pipe's read end,
# so every later line meets a closed pipe, as behind `| head -1`.
CHILD = """\
import sys
from d1tui.cli import main
from d1tui.cli.deps import Deps

class Gate:
    def __init__(self, inner):
        self.inner, self.held = inner, False
    def write(self, text):
        n = self.inner.write(text)
        if not self.held and "\\n" in text:
            self.held = True
            self.inner.flush()
            sys.stdin.readline()
        return n
    def __getattr__(self, name):
        return getattr(self.inner, name)

sys.stdout = Gate(sys.stdout)
sys.exit(main(sys.argv[1:], deps=Deps(emulator_kwargs={"hold_seconds": 0.05})))
"""


def run_with_stdout_closed_after_one_line(argv: list[str], data_dir: Path) -> tuple[int, str]:
    """Run ``d1tui argv`` in a child, read one stdout line, close the pipe; (exit code, stderr)."""
    env = {**os.environ, "D1TUI_DATA_DIR": str(data_dir)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, *argv],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert child.stdin is not None and child.stdout is not None and child.stderr is not None
    first = child.stdout.readline()
    assert first.strip(), "the child printed nothing"
    child.stdout.close()
    child.stdin.write(b"go\n")
    child.stdin.close()
    err = child.stderr.read().decode("utf-8", "replace")
    return child.wait(timeout=120), err


def test_a_closed_stdout_does_not_drop_the_import(tmp_path: Path, data_dir: Path) -> None:
    sql = write(tmp_path, "notes.sql", NOTES)
    argv = ["import", str(sql), "--local", "-d", "piped", "--yes"]
    code, err = run_with_stdout_closed_after_one_line(argv, data_dir)
    assert code == 0, err
    assert rows_in(data_dir, "piped", "SELECT id, body FROM notes ORDER BY id") == [
        (1, "one"),
        (2, "two"),
    ]
    assert "stdout was closed early; the run went on (exit 0)" in err
    assert "Traceback" not in err


def test_a_closed_json_stdout_keeps_the_failed_imports_exit_6(
    tmp_path: Path, data_dir: Path
) -> None:
    assert main(["import", str(write(tmp_path, "notes.sql", NOTES)), "--local", "-d", "p6"]) == 0
    dup = write(tmp_path, "dup.sql", DUPLICATE)
    code, err = run_with_stdout_closed_after_one_line(
        ["import", str(dup), "--local", "-d", "p6", "--json"], data_dir
    )
    assert code == 6, err
    assert rows_in(data_dir, "p6", "SELECT id, body FROM notes ORDER BY id") == [
        (1, "one"),
        (2, "two"),
    ]
    assert "(exit 6)" in err and "Traceback" not in err


# ---- columns the existing table lacks --------------------------------------------------------

DEMO_ROWS = "SELECT id, text, date_added FROM TargetD1Table WHERE id >= 200 ORDER BY id"


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "extra.ndjson",
            '{"id": 200, "text": "kept", "mood": "happy"}\n{"id": 201, "text": "b"}\n',
        ),
        ("extra.csv", "id,text,mood\n200,kept,happy\n201,b,\n"),
    ],
    ids=["ndjson", "csv"],
)
def test_a_script_is_refused_a_column_the_table_lacks_and_nothing_changes(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str], name: str, text: str
) -> None:
    path = write(tmp_path, name, text)
    argv = ["import", str(path), "--local", "--table", "TargetD1Table"]
    assert main([*argv, "--yes"]) == 3
    err = capsys.readouterr().err
    assert "⚠ not in table 'TargetD1Table', skipped: mood" in err
    assert "has no column 'mood'" in err and "--skip-unknown" in err
    assert rows_in(data_dir, "demo", DEMO_ROWS) == []

    assert main([*argv, "--json"]) == 3
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    skipped = [e for e in lines if e.get("type") == "columns_skipped"]
    assert skipped == [
        {
            "type": "columns_skipped",
            "table": "TargetD1Table",
            "columns": ["mood"],
            "message": "not in table 'TargetD1Table', skipped: mood",
        }
    ]
    assert lines[-1]["result"]["exit_code"] == 3
    assert rows_in(data_dir, "demo", DEMO_ROWS) == []


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "extra.ndjson",
            '{"id": 200, "text": "kept", "mood": "happy"}\n{"id": 201, "text": "b"}\n',
        ),
        ("extra.csv", "id,text,mood\n200,kept,happy\n201,b,\n"),
    ],
    ids=["ndjson", "csv"],
)
def test_skip_unknown_imports_the_other_columns_and_still_warns(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str], name: str, text: str
) -> None:
    path = write(tmp_path, name, text)
    argv = ["import", str(path), "--local", "--table", "TargetD1Table", "--skip-unknown"]
    assert main([*argv, "--yes"]) == 0
    assert "⚠ not in table 'TargetD1Table', skipped: mood" in capsys.readouterr().err
    assert rows_in(data_dir, "demo", DEMO_ROWS) == [(200, "kept", None), (201, "b", None)]
    assert main([*argv, "--json"]) == 6  # the same ids again: D1 refuses, nothing changes
    out = capsys.readouterr().out
    assert '"type": "columns_skipped"' in out
    assert rows_in(data_dir, "demo", DEMO_ROWS) == [(200, "kept", None), (201, "b", None)]


def test_matching_columns_give_no_warning(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "fit.csv", "id,text\n200,fits\n")
    assert main(["import", str(path), "--local", "--table", "TargetD1Table", "--yes"]) == 0
    assert "skipped" not in capsys.readouterr().err
    assert rows_in(data_dir, "demo", DEMO_ROWS) == [(200, "fits", None)]


# ---- a new local database ------------------------------------------------------------------


def test_a_refused_import_into_a_new_database_creates_no_database(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = write(tmp_path, "people.csv", "name\nAda\n")
    assert main(["import", str(csv), "--local", "-d", "brandnewdb", "--yes"]) == 3
    assert "does not exist" in capsys.readouterr().err
    assert database_names(data_dir) == ["demo"]


def test_a_failed_import_removes_the_empty_database_it_created(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(
        tmp_path,
        "bad.sql",
        "CREATE TABLE t (id INTEGER PRIMARY KEY);\nINSERT INTO nope VALUES (1);\n",
    )
    assert main(["import", str(bad), "--local", "-d", "brandnewdb", "--yes"]) == 6
    out = capsys.readouterr().out
    assert "Created local database brandnewdb" in out
    assert "Removed the empty database brandnewdb this run created." in out
    assert database_names(data_dir) == ["demo"]
    good = write(tmp_path, "notes.sql", NOTES)
    assert main(["import", str(good), "--local", "-d", "brandnewdb", "--yes"]) == 0
    assert database_names(data_dir) == ["brandnewdb", "demo"]
    assert rows_in(data_dir, "brandnewdb", "SELECT COUNT(*) FROM notes") == [(2,)]


# ---- one naming rule -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "table"),
    [
        ("Sales 2024.csv", "Sales_2024"),
        ("My Data-2024.csv", "My_Data_2024"),
        ("2024 sales.ndjson", "t_2024_sales"),
        ("people.2024.csv", "people_2024"),
        ("---.csv", "imported"),
        ("TargetD1Table.json", "TargetD1Table"),
    ],
)
def test_the_cli_and_the_tui_name_a_file_the_same_way(file: str, table: str) -> None:
    assert table_name_for is default_table_name
    assert table_name_for(Path(file)) == default_table_name(Path(file)) == table


def test_the_cli_creates_the_table_the_tui_would_name(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = write(tmp_path, "Sales 2024.csv", "region,total\nnorth,12\n")
    assert main(["import", str(csv), "--local", "--create", "--yes"]) == 0
    expected = table_name_for(csv)
    assert rows_in(data_dir, "demo", f'SELECT region, total FROM "{expected}"') == [("north", 12)]


# ---- one thread for the engine, the events on the main one -------------------------------


def test_a_cli_import_renders_on_the_main_thread_beside_one_engine_thread(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[tuple[str, list[str]]] = []

    class Watched(D1Client):
        """The real client, noting which threads are alive when ingest is called."""

        def import_ingest(self, database_id: str, etag: str, filename: str) -> Any:
            names = [t.name for t in threading.enumerate()]
            seen.append((threading.current_thread().name, names))
            return super().import_ingest(database_id, etag, filename)

    def factory(settings: Settings) -> D1Client:
        assert settings.account_id.value and settings.token.value and settings.base_url.value
        return Watched(
            settings.account_id.value, settings.token.value, base_url=settings.base_url.value
        )

    deps = Deps(emulator_kwargs=QUICK.emulator_kwargs, client_factory=factory)
    sql = write(tmp_path, "notes.sql", NOTES)
    assert cli_main(["import", str(sql), "--local", "-d", "threads", "--yes"], deps=deps) == 0
    assert rows_in(data_dir, "threads", "SELECT COUNT(*) FROM notes") == [(2,)]
    assert len(seen) == 1
    caller, alive = seen[0]
    assert caller == "d1tui-import"  # the engine's own thread
    assert alive.count("d1tui-import") == 1  # and no second one relaying its events
    assert threading.main_thread().name in alive


def test_a_second_ctrl_c_stops_waiting_for_the_rollback_check(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(write(tmp_path, "notes.sql", NOTES)), "--local", "-d", "c2"]) == 0
    slow = {"hold_seconds": 0.1, "no_poll_timeout": 1.0, "statements_per_step": 1}
    slow["step_seconds"] = 0.2
    # Without the second Ctrl-C the run would wait 30 s before checking the counts.
    deps = Deps(emulator_kwargs=slow, import_options=ImportOptions(rollback_wait=30.0))
    many = "".join(f"INSERT INTO notes (body) VALUES ('row {i}');\n" for i in range(60))
    sql = write(tmp_path, "many.sql", many)
    capsys.readouterr()
    first = threading.Timer(1.5, _thread.interrupt_main)
    second = threading.Timer(2.5, _thread.interrupt_main)
    first.start()
    second.start()
    try:
        code = cli_main(["import", str(sql), "--local", "-d", "c2", "--yes"], deps=deps)
    finally:
        first.cancel()
        second.cancel()
    out, err = capsys.readouterr()
    assert code == 7, out + err
    assert "⏹ Cancelling" in out
    assert "stopped waiting" in err
    # 60 statements at 0.2 s each cannot finish; the unpolled import is rolled back.
    assert rows_in(data_dir, "c2", "SELECT COUNT(*) FROM notes") == [(2,)]
