"""Fake rows in the TUI: which columns a new table gets, the row count field, the defaults."""

from __future__ import annotations

import sqlite3

from pilot_steps import pick_database, rows_of, start_import, to_preview, verify, wait_until
from textual.widgets import Input, RadioButton
from tui_constants import SIZE

from d1tui.cli import build_parser
from d1tui.emulator import Emulator
from d1tui.events import ImportSucceeded
from d1tui.tui.screens.dialogs import ConfirmDialog
from d1tui.tui.screens.preview import PreviewScreen
from d1tui.tui.screens.source import SourceScreen


def columns_of(emu: Emulator, table: str) -> list[str]:
    """Column names of ``table`` in the emulator's SQLite file."""
    with sqlite3.connect(emu.database_file("demo")) as conn:
        return [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]


async def test_fake_rows_into_a_new_table_say_whose_columns_they_use(build_app, emulator) -> None:
    before = rows_of(emulator, "TargetD1Table")
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await verify(pilot, app)
        await pick_database(pilot, app)
        screen = app.screen
        assert isinstance(screen, SourceScreen)
        await wait_until(pilot, lambda: screen.tables)
        await pilot.press("ctrl+f")
        await wait_until(pilot, lambda: screen.query_one("#target-existing", RadioButton).value)
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: screen.query_one("#target-new", RadioButton).value)
        await pilot.press("ctrl+u", *"fakes")
        screen.query_one("#fake-rows", Input).value = "4"
        await pilot.pause()
        shown = str(screen.query_one("#columns").render())
        assert "columns come from the source" not in shown
        assert "TargetD1Table's" in shown and "id INTEGER PRIMARY KEY" in shown
        await to_preview(pilot, app)
        warnings = str(app.screen.query_one("#warnings").render())
        assert "TargetD1Table's columns (id, text, date_added)" in warnings
        assert '"fakes" (new table)' in str(app.screen.query_one("#preview").border_title)
        done = await start_import(pilot, app)
        assert isinstance(done.outcome, ImportSucceeded), done.lines
    assert rows_of(emulator, "TargetD1Table") == before
    assert columns_of(emulator, "fakes") == ["id", "text", "date_added"]
    assert len(rows_of(emulator, "fakes")) == 4


async def test_enter_in_the_row_count_applies_it_and_keeps_the_seed(build_app, emulator) -> None:
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await verify(pilot, app)
        await pick_database(pilot, app)
        screen = app.screen
        assert isinstance(screen, SourceScreen)
        await wait_until(pilot, lambda: screen.tables)
        await pilot.press("ctrl+f")
        await wait_until(pilot, lambda: screen.query_one("#target-existing", RadioButton).value)
        screen.query_one("#fake-rows", Input).value = "6"
        screen.query_one("#fake-seed", Input).value = "5"
        await to_preview(pilot, app)
        preview = app.screen
        assert isinstance(preview, PreviewScreen)
        count = preview.query_one("#rows-count", Input)
        count.focus()
        await pilot.pause()
        await pilot.press("ctrl+u", "9", "enter")
        await wait_until(pilot, lambda: app.session.source.fake.rows == 9)
        await wait_until(pilot, lambda: preview.prepared is not None)
        assert app.session.source.fake.seed == 5
        assert preview.prepared.total_rows == 9
        await pilot.press("enter")  # the count is applied already: enter now asks to import
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert app.session.source.fake.seed == 5
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is preview)
        preview.query_one("#preview-rows").focus()
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: app.session.source.fake.seed == 6)
        assert app.session.source.fake.rows == 9


async def test_the_fake_row_defaults_are_those_of_d1tui_fake(build_app) -> None:
    args = build_parser().parse_args(["fake"])
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await verify(pilot, app)
        await pick_database(pilot, app)
        screen = app.screen
        assert screen.query_one("#fake-rows", Input).value == str(args.rows) == "100"
        assert screen.query_one("#fake-seed", Input).value == str(args.seed) == "0"
        assert screen.query_one("#fake-locale", Input).value == args.locale
