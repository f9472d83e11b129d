"""Terminal injection: escape sequences in table and file names never reach the terminal raw.

A table and a file named with ``ESC[31m`` and ``BEL`` go through the CLI (text and ``--json``)
and the TUI; every line shows them escaped (``\\x1b``), JSON keeps the raw name (encoded by
json), and the rows land in the table of that exact name.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tui"))

from pilot_steps import choose_file, pick_database, start_import, to_preview, verify, wait_until
from screen_dump import screen_text

from d1tui.api.local import ensure_demo_database, local_settings, make_client
from d1tui.cli import main as cli_main
from d1tui.cli.deps import Deps
from d1tui.cli.render import JsonRenderer
from d1tui.emulator import Emulator
from d1tui.humanize import safe_text
from d1tui.tui.app import make_app
from d1tui.tui.screens.importing import ImportScreen
from d1tui.tui.screens.source import SourceScreen

HOSTILE = "\x1b[31m\x07"
TABLE = f"t{HOSTILE}x"
FILE = f"evil{HOSTILE}.csv"
RAW = ("\x1b", "\x07", "\x9b")


def assert_clean(text: str) -> None:
    """No raw ESC, BEL or CSI, and the name is visible in its escaped form."""
    for char in RAW:
        assert char not in text, f"raw {char!r} in {text!r}"


QUICK = Deps(emulator_kwargs={"hold_seconds": 0.2})


def main(argv: list[str]) -> int:
    """The CLI with a quick emulator behind ``--local``."""
    return cli_main(argv, deps=QUICK)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``--local`` databases under tmp, with a quick emulator."""
    folder = tmp_path / "local-data"
    monkeypatch.setenv("D1TUI_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def hostile_file(tmp_path: Path) -> Path:
    """A CSV whose name holds an escape sequence and a bell."""
    path = tmp_path / FILE
    path.write_text("id,name\n1,a\n2,b\n", encoding="utf-8")
    return path


def rows(data_dir: Path) -> list[tuple[object, ...]]:
    """The hostile table's rows, read from the SQLite file."""
    with sqlite3.connect(Emulator(data_dir).database_file("demo")) as con:
        return con.execute(f'SELECT id, name FROM "{TABLE}" ORDER BY id').fetchall()


def test_cli_text_shows_names_escaped(data_dir: Path, hostile_file: Path, capsys) -> None:
    args = ["import", str(hostile_file), "--local", "-d", "demo", "-t", TABLE, "--create", "--yes"]
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert_clean(out + err)
    assert safe_text(TABLE) in out and "evil\\x1b[31m\\x07.csv" in out
    assert rows(data_dir) == [(1, "a"), (2, "b")]


def test_cli_json_keeps_the_raw_name_encoded(data_dir: Path, hostile_file: Path, capsys) -> None:
    args = ["import", str(hostile_file), "--local", "-d", "demo", "-t", TABLE, "--create"]
    assert main([*args, "--json"]) == 0
    out, err = capsys.readouterr()
    assert_clean(out + err)
    events = [json.loads(line) for line in out.splitlines()]
    result = events[-1]["result"]
    assert result["success"] is True
    assert [c["table"] for c in result["import"]["counts"]] == [TABLE]
    assert any(e.get("path") == str(hostile_file) for e in events)
    assert rows(data_dir) == [(1, "a"), (2, "b")]


def test_cli_errors_show_names_escaped(data_dir: Path, tmp_path: Path, capsys) -> None:
    empty = tmp_path / f"empty{HOSTILE}.csv"
    empty.write_text("", encoding="utf-8")
    code = main(["import", str(empty), "--local", "-d", "demo", "-t", TABLE, "--create", "--yes"])
    assert code == 3
    out, err = capsys.readouterr()
    assert_clean(out + err)
    assert "empty\\x1b[31m\\x07.csv" in err
    # an empty file is refused before the emulator is asked anything: no database, no table
    emu = Emulator(data_dir)
    if "demo" in {record.name for record in emu._backend.store.all()}:
        with sqlite3.connect(emu.database_file("demo")) as con:
            rows = con.execute("SELECT name FROM sqlite_master WHERE type='table'")
            assert TABLE not in [r[0] for r in rows]


def test_cli_json_escapes_c1_and_del(capsys) -> None:
    JsonRenderer(sys.stdout).info("file", "", path="a\x9b31mb\x7f")
    out = capsys.readouterr().out
    assert_clean(out)
    assert "\x7f" not in out
    assert json.loads(out)["path"] == "a\x9b31mb\x7f"


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    """An emulator with the demo database and a table whose name is hostile."""
    emu = Emulator(tmp_path / "emulator", hold_seconds=0.2, no_poll_timeout=4.0)
    with emu:
        with make_client(local_settings(emu)) as client:
            ensure_demo_database(client)
        with sqlite3.connect(emu.database_file("demo")) as con:
            con.execute(f'CREATE TABLE "{TABLE}" (id INTEGER PRIMARY KEY, name TEXT)')
        yield emu


async def test_tui_screens_show_names_escaped(
    emulator: Emulator, tmp_path: Path, hostile_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app(local_settings(emulator), local_emulator=emulator, start_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await verify(pilot, app)
        await pick_database(pilot, app)
        screen = app.screen
        assert isinstance(screen, SourceScreen)
        await wait_until(pilot, lambda: screen.tables)
        await choose_file(pilot, app, FILE, table="ignored")  # relative: all of it shows
        screen.press_radio("#target-existing")
        index = [t.name for t in screen.tables].index(TABLE)
        screen.query_one("#tables").move_cursor(row=index)  # type: ignore[attr-defined]
        await pilot.pause()
        shown = screen_text(app)
        assert_clean(shown)
        assert safe_text(TABLE) in shown
        await to_preview(pilot, app)
        shown = screen_text(app)
        assert_clean(shown)
        assert "evil\\x1b[31m\\x07.csv" in shown
        importing = await start_import(pilot, app)
        assert isinstance(importing, ImportScreen)
        shown = screen_text(app)
        assert_clean(shown)
        assert f'"{safe_text(TABLE)}": 0 → 2 rows' in shown
    with sqlite3.connect(emulator.database_file("demo")) as con:
        assert con.execute(f'SELECT id, name FROM "{TABLE}" ORDER BY id').fetchall() == [
            (1, "a"),
            (2, "b"),
        ]
