"""Steps a person takes through the app, as Pilot calls shared by the TUI tests."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from d1tui.emulator import Emulator
from d1tui.tui.app import D1TuiApp
from d1tui.tui.screens.credentials import CredentialsScreen
from d1tui.tui.screens.dialogs import ConfirmDialog
from d1tui.tui.screens.importing import ImportScreen
from d1tui.tui.screens.preview import PreviewScreen
from d1tui.tui.screens.source import SourceScreen
from d1tui.tui.widgets.database_picker import DatabasePicker
from d1tui.tui.widgets.error_panel import ErrorPanel


async def wait_until(
    pilot: Pilot[Any], condition: Callable[[], object], timeout: float = 15
) -> None:
    """Let the app run until ``condition()`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {condition.__doc__ or condition}")
        await pilot.pause(0.02)


def error_text(app: D1TuiApp) -> str:
    """What the current screen's error panel shows ('' when hidden)."""
    panels = list(app.screen.query(ErrorPanel))
    return "" if not panels or not panels[0].has_class("shown") else str(panels[0].render())


async def verify(pilot: Pilot[Any], app: D1TuiApp) -> None:
    """Press ^v and wait for the verify worker to end (token listed or error shown)."""
    screen = app.screen
    assert isinstance(screen, CredentialsScreen)
    await pilot.press("ctrl+v")
    await wait_until(pilot, lambda: screen.verified is not None or error_text(app))
    await pilot.pause()


async def pick_database(pilot: Pilot[Any], app: D1TuiApp, name: str = "demo") -> None:
    """Move the picker's cursor to ``name`` and press enter; wait for the source screen."""
    picker = app.screen.query_one(DatabasePicker)
    await wait_until(pilot, lambda: picker.shown)
    index = [d.name for d in picker.shown].index(name)
    table = picker.query_one("#db-table", DataTable)
    table.focus()
    table.move_cursor(row=index)
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, SourceScreen))
    screen = app.screen
    await wait_until(pilot, lambda: "loading" not in str(screen.query_one("#columns").render()))


async def choose_file(
    pilot: Pilot[Any], app: D1TuiApp, path: str, *, table: str, type_it: bool = False
) -> None:
    """Put ``path`` into the path input (typed key by key with ``type_it``); name the table."""
    screen = app.screen
    assert isinstance(screen, SourceScreen)
    field = screen.query_one("#path", Input)
    field.focus()
    if type_it:
        await pilot.press(*path)
    else:
        field.value = path
    await wait_until(pilot, lambda: screen.facts is not None or "no such" in _facts(screen))
    name = screen.query_one("#new-name", Input)
    name.value = table
    await pilot.pause()


def _facts(screen: SourceScreen) -> str:
    return str(screen.query_one("#facts").render())


async def choose_fake(
    pilot: Pilot[Any], app: D1TuiApp, *, rows: int, seed: int, table: str
) -> None:
    """Switch to fake rows (^f), set rows and seed, and pick an existing table."""
    screen = app.screen
    assert isinstance(screen, SourceScreen)
    await pilot.press("ctrl+f")
    screen.query_one("#fake-rows", Input).value = str(rows)
    screen.query_one("#fake-seed", Input).value = str(seed)
    await wait_until(pilot, lambda: screen.tables)
    screen.press_radio("#target-existing")
    index = [t.name for t in screen.tables].index(table)
    screen.query_one("#tables", DataTable).move_cursor(row=index)
    await pilot.pause()


async def to_preview(pilot: Pilot[Any], app: D1TuiApp, *, expect_ready: bool = True) -> None:
    """Continue (^n) to the preview and wait for the SQL file (or the error)."""
    await pilot.press("ctrl+n")
    await wait_until(pilot, lambda: isinstance(app.screen, PreviewScreen))
    screen = app.screen
    assert isinstance(screen, PreviewScreen)
    if expect_ready:
        await wait_until(pilot, lambda: screen.prepared is not None or error_text(app))
    else:
        await wait_until(pilot, lambda: error_text(app))
    await pilot.pause()


async def start_import(pilot: Pilot[Any], app: D1TuiApp, *, wait: bool = True) -> ImportScreen:
    """Enter, confirm with y, and (by default) wait until the import is over."""
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
    await pilot.press("y")
    await wait_until(pilot, lambda: isinstance(app.screen, ImportScreen))
    screen = app.screen
    assert isinstance(screen, ImportScreen)
    if wait:
        await wait_until(pilot, lambda: not screen.running, timeout=30)
        await pilot.pause()
    return screen


def rows_of(emu: Emulator, table: str) -> list[tuple[object, ...]]:
    """Every row of ``table`` in the emulator's real SQLite file, by rowid."""
    with sqlite3.connect(emu.database_file("demo")) as conn:
        return conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid').fetchall()


def tables_of(emu: Emulator) -> set[str]:
    """User tables of the emulator's ``demo`` database."""
    with sqlite3.connect(emu.database_file("demo")) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {r[0] for r in rows if not r[0].startswith(("_cf_", "sqlite_"))}
