"""``d1tui import`` end to end: real emulator over 127.0.0.1, real SQLite files, real exit codes."""

from __future__ import annotations

import _thread
import io
import json
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from d1tui.cli import main as cli_main
from d1tui.cli.deps import Deps
from d1tui.emulator import Emulator
from d1tui.importer.options import ImportOptions

FAST = {"hold_seconds": 0.2, "no_poll_timeout": 5.0}
QUICK = Deps(emulator_kwargs=FAST)  # a quick emulator behind --local


def main(argv: list[str], deps: Deps = QUICK) -> int:
    """``d1tui`` with the quick local emulator unless the test says otherwise."""
    return cli_main(argv, deps=deps)


GOOD_SQL = """\
CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT);
INSERT INTO notes (id, body) VALUES (1, 'it''s one'), (2, 'two; with semicolon');
INSERT INTO notes (id, body) VALUES (3, 'three');
"""


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Local databases under tmp (D1TUI_DATA_DIR); ``main`` gives --local a quick emulator."""
    folder = tmp_path / "local-data"
    monkeypatch.setenv("D1TUI_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(tmp_path / "remote-data", **FAST) as emu:
        yield emu


def rows_in(data_dir: Path, database: str, sql: str) -> list[tuple[object, ...]]:
    """Query a local database's SQLite file directly."""
    path = Emulator(data_dir).database_file(database)
    con = sqlite3.connect(path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_sql_locally_creates_the_database_and_the_rows(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sql = write(tmp_path, "notes.sql", GOOD_SQL)
    code = main(["import", str(sql), "--local", "--database", "x", "--yes"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert rows_in(data_dir, "x", "SELECT id, body FROM notes ORDER BY id") == [
        (1, "it's one"),
        (2, "two; with semicolon"),
        (3, "three"),
    ]
    assert "🌀 Importing into x (" in out
    assert "unavailable to serve queries" in out
    assert "🚣 Executed" in out
    assert "Database is currently at bookmark " in out
    assert "wrangler d1 time-travel restore x --bookmark=" in out


def test_json_lines_parse_and_end_with_the_result(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sql = write(tmp_path, "notes.sql", GOOD_SQL)
    assert main(["import", str(sql), "--local", "-d", "j", "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    objects = [json.loads(line) for line in lines]  # every stdout line is JSON
    types = [o.get("type") for o in objects[:-1]]
    assert "database" in types and "stage_started" in types and "poll_result" in types
    assert types[-1] == "import_succeeded"
    result = objects[-1]["result"]
    assert result["success"] is True and result["exit_code"] == 0
    assert result["database"]["name"] == "j"
    assert result["import"]["num_queries"] >= 3


def test_csv_into_the_demo_table_reports_verified_counts(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = write(
        tmp_path,
        "more.csv",
        'id,text,date_added\n101,"a, ""quoted"" one",2026-02-01 10:00:00\n102,ünïcode ✓,\n',
    )
    code = main(["import", str(csv), "--local", "--table", "TargetD1Table", "--yes"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert '"TargetD1Table": 5 → 7 rows (expected +2) ✔' in out
    got = rows_in(data_dir, "demo", "SELECT text FROM TargetD1Table WHERE id > 100 ORDER BY id")
    assert got == [('a, "quoted" one',), ("ünïcode ✓",)]


def test_missing_table_without_create_is_bad_input_and_nothing_is_sent(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = write(tmp_path, "people.csv", "name\nAda\n")
    assert main(["import", str(csv), "--local", "--table", "people", "--yes"]) == 3
    assert "--create" in capsys.readouterr().err
    assert rows_in(data_dir, "demo", "SELECT name FROM sqlite_master WHERE name='people'") == []
    assert main(["import", str(csv), "--local", "--table", "people", "--create", "--yes"]) == 0
    assert rows_in(data_dir, "demo", "SELECT name FROM people") == [("Ada",)]


def test_bad_sql_file_exits_3_naming_file_and_line(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sql = write(
        tmp_path,
        "bad.sql",
        "CREATE TABLE t (a);\nINSERT INTO t VALUES (1);\nPRAGMA journal_mode = WAL;\n",
    )
    code = main(["import", str(sql), "--local", "--database", "bad", "--yes"])
    err = capsys.readouterr().err
    assert code == 3
    assert "bad.sql" in err and "line 3" in err


def test_unreadable_file_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(tmp_path / "nope.csv"), "--local", "--yes"]) == 3
    assert "nope.csv" in capsys.readouterr().err


def test_sql_error_during_import_exits_6_and_leaves_the_database_unchanged(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = write(tmp_path, "first.sql", GOOD_SQL)
    assert main(["import", str(first), "--local", "-d", "u", "--yes"]) == 0
    before = rows_in(data_dir, "u", "SELECT * FROM notes ORDER BY id")
    dup = write(
        tmp_path,
        "dup.sql",
        "INSERT INTO notes (id, body) VALUES (10, 'new');\n"
        "INSERT INTO notes (id, body) VALUES (1, 'duplicate key');\n",
    )
    capsys.readouterr()
    code = main(["import", str(dup), "--local", "-d", "u", "--yes"])
    err = capsys.readouterr().err
    assert code == 6
    assert "UNIQUE constraint failed" in err
    assert rows_in(data_dir, "u", "SELECT * FROM notes ORDER BY id") == before


def test_wrong_token_exits_4_and_never_shows_the_token(
    tmp_path: Path,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emulator.create_database("remote")
    bad = "wrong-token-Zq9xK2mP7vL4"
    monkeypatch.setenv("CLOUDFLARE_API_BASE_URL", emulator.base_url)
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", emulator.account_id)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", bad)
    sql = write(tmp_path, "notes.sql", GOOD_SQL)
    for extra in ([], ["--json"]):
        code = main(["import", str(sql), "--database", "remote", "--yes", *extra])
        out, err = capsys.readouterr()
        assert code == 4
        assert "Authentication" in out + err
        assert bad not in out + err


def test_failed_remote_import_output_holds_no_token(
    tmp_path: Path,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emulator.create_database("remote")
    monkeypatch.setenv("CLOUDFLARE_API_BASE_URL", emulator.base_url)
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", emulator.account_id)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", emulator.token)
    sql = write(
        tmp_path,
        "dup.sql",
        "CREATE TABLE t (id INTEGER PRIMARY KEY);\n"
        "INSERT INTO t VALUES (1);\nINSERT INTO t VALUES (1);\n",
    )
    code = main(["import", str(sql), "--database", "remote", "--yes", "--json"])
    out, err = capsys.readouterr()
    assert code == 6
    assert json.loads(out.splitlines()[-1])["result"]["error"]["title"] == "Import failed"
    assert emulator.token not in out + err
    assert main(["config"]) == 0
    shown = capsys.readouterr().out
    assert emulator.token not in shown and "env CLOUDFLARE_API_TOKEN" in shown


def test_missing_credentials_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    sql = write(tmp_path, "notes.sql", GOOD_SQL)
    assert main(["import", str(sql), "--database", "x", "--yes"]) == 2
    assert "CLOUDFLARE_API_TOKEN" in capsys.readouterr().err


def test_token_from_stdin_and_named_env_var(
    tmp_path: Path,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emulator.create_database("remote")
    monkeypatch.setenv("CLOUDFLARE_API_BASE_URL", emulator.base_url)
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", emulator.account_id)
    monkeypatch.setenv("MY_D1_TOKEN", emulator.token)
    sql = write(tmp_path, "notes.sql", GOOD_SQL)
    assert main(["import", str(sql), "-d", "remote", "--yes", "--token-env", "MY_D1_TOKEN"]) == 0
    assert emulator.token not in "".join(capsys.readouterr())
    con = sqlite3.connect(emulator.database_file("remote"))
    assert con.execute("SELECT COUNT(*) FROM notes").fetchone() == (3,)
    con.close()


def test_python_m_d1tui_import_local_in_a_subprocess(tmp_path: Path) -> None:
    csv = write(tmp_path, "cities.csv", "name,pop\nOslo,709037\nLima,10092000\n")
    env = {**os.environ, "D1TUI_DATA_DIR": str(tmp_path / "sub-data")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "d1tui",
            "import",
            str(csv),
            "--local",
            "-d",
            "sub",
            "--table",
            "cities",
            "--create",
            "--yes",
        ],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "🚣 Executed" in done.stdout
    got = rows_in(tmp_path / "sub-data", "sub", "SELECT name, pop FROM cities ORDER BY pop")
    assert got == [("Oslo", 709037), ("Lima", 10092000)]


def test_fake_import_into_local_demo_continues_after_the_max_id(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["fake", "--rows", "20", "--seed", "1", "--local", "--import", "--yes"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert '"TargetD1Table": 5 → 25 rows (expected +20) ✔' in out
    got = rows_in(data_dir, "demo", "SELECT MIN(id), COUNT(DISTINCT id) FROM TargetD1Table")
    assert got == [(1, 25)]


def test_fake_import_creates_a_table_that_is_not_there_yet(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["fake", "--table", "fresh", "--rows", "7", "--local", "--import", "--yes"]
    assert main(argv) == 0
    assert '"fresh": 0 → 7 rows (expected +7) ✔' in capsys.readouterr().out
    assert rows_in(data_dir, "demo", "SELECT COUNT(*), MIN(id) FROM fresh") == [(7, 1)]
    # Once it exists, a second run appends after its largest id instead of colliding.
    assert main(argv) == 0
    assert rows_in(data_dir, "demo", "SELECT COUNT(DISTINCT id), MAX(id) FROM fresh") == [(14, 14)]


def test_fake_import_with_no_create_refuses_a_missing_table(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["fake", "--table", "absent", "--local", "--import", "--yes", "--no-create"]
    assert main(argv) == 3
    assert "absent" in capsys.readouterr().err


def test_ctrl_c_during_import_cancels_exit_7_and_rolls_back(
    tmp_path: Path,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = write(tmp_path, "first.sql", GOOD_SQL)
    assert main(["import", str(first), "--local", "-d", "c", "--yes"]) == 0
    # A slow ingest (one statement per 0.2 s) that the server rolls back 1 s after polls stop.
    slow = {
        "hold_seconds": 0.1,
        "no_poll_timeout": 1.0,
        "statements_per_step": 1,
        "step_seconds": 0.2,
    }
    deps = Deps(emulator_kwargs=slow, import_options=ImportOptions(rollback_wait=2.0))
    many = "".join(f"INSERT INTO notes (body) VALUES ('row {i}');\n" for i in range(40))
    sql = write(tmp_path, "many.sql", many)
    capsys.readouterr()
    timer = threading.Timer(1.5, _thread.interrupt_main)
    timer.start()
    try:
        code = main(["import", str(sql), "--local", "-d", "c", "--yes"], deps)
    finally:
        timer.cancel()
    out, err = capsys.readouterr()
    assert code == 7, out + err
    assert "Import cancelled" in err
    assert rows_in(data_dir, "c", "SELECT COUNT(*) FROM notes") == [(3,)]


def test_unknown_remote_database_exits_5(
    tmp_path: Path,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_BASE_URL", emulator.base_url)
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", emulator.account_id)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", emulator.token)
    sql = write(tmp_path, "notes.sql", GOOD_SQL)
    assert main(["import", str(sql), "--database", "no-such-db", "--yes"]) == 5
    assert "Not found" in capsys.readouterr().err
    assert not any(op in ("init", "upload") for _method, op, _path in emulator.requests)


def test_json_bad_input_gives_an_error_line_and_result(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(tmp_path, "rows.ndjson", '{"a": 1}\n{"a": \n')
    code = main(["import", str(bad), "--local", "--table", "r", "--create", "--json"])
    out = capsys.readouterr().out
    objects = [json.loads(line) for line in out.splitlines()]
    assert code == 3
    assert objects[-2]["type"] == "error"
    assert "line 2" in objects[-2]["error"]["where"]
    assert objects[-1]["result"] == {
        "success": False,
        "exit_code": 3,
        "error": objects[-2]["error"],
    }


def test_sqlite_file_with_chosen_tables(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "app.sqlite"
    con = sqlite3.connect(src)
    con.executescript(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);"
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id));"
        "CREATE TABLE junk (x);"
        "INSERT INTO users VALUES (1, 'Ada'), (2, 'Linus');"
        "INSERT INTO orders VALUES (10, 1), (11, 2);"
        "INSERT INTO junk VALUES (1);"
    )
    con.commit()
    con.close()
    argv = ["import", str(src), "--local", "-d", "app", "--tables", "users,orders", "--yes"]
    assert main(argv) == 0, capsys.readouterr().err
    assert rows_in(
        data_dir,
        "app",
        "SELECT u.name FROM orders o JOIN users u ON u.id = o.user_id ORDER BY o.id",
    ) == [("Ada",), ("Linus",)]
    assert rows_in(data_dir, "app", "SELECT name FROM sqlite_master WHERE name = 'junk'") == []


class _Terminal(io.StringIO):
    """Standard input that claims to be a terminal, with the user's answer in it."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "code", "rows"), [("n\n", 7, 0), ("y\n", 0, 3)])
def test_a_terminal_is_asked_before_importing(
    tmp_path: Path,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    answer: str,
    code: int,
    rows: int,
) -> None:
    sql = write(tmp_path, "notes.sql", GOOD_SQL)
    monkeypatch.setattr(sys, "stdin", _Terminal(answer))
    # Into the demo database: a new one is created only once the answer is yes.
    assert main(["import", str(sql), "--local", "-d", "demo"]) == code
    out = capsys.readouterr().out
    assert "Ok to proceed? [y/N]" in out
    got = rows_in(data_dir, "demo", "SELECT COUNT(*) FROM sqlite_master WHERE name = 'notes'")
    assert got == [(1 if rows else 0,)]


def test_target_flags_work_before_or_after_the_command(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sql = write(tmp_path, "notes.sql", GOOD_SQL)
    assert main(["--local", "-d", "before", "import", str(sql), "--yes"]) == 0
    assert main(["import", str(sql), "--yes", "--local", "-d", "after"]) == 0
    assert rows_in(data_dir, "before", "SELECT COUNT(*) FROM notes") == [(3,)]
    assert rows_in(data_dir, "after", "SELECT COUNT(*) FROM notes") == [(3,)]
