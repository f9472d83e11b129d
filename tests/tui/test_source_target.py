"""The Source and target screen: where the rows go, how the file is read, what is said about it."""

from __future__ import annotations

from pathlib import Path

from pilot_steps import (
    choose_file,
    pick_database,
    rows_of,
    start_import,
    to_preview,
    verify,
    wait_until,
)
from textual.widgets import Input, RadioButton
from tui_constants import SIZE

from d1tui.events import ImportSucceeded
from d1tui.tui.screens.preview import PreviewScreen
from d1tui.tui.screens.source import SourceScreen


async def test_ctrl_e_twice_then_a_typed_name_goes_into_the_new_table(
    build_app, emulator, workdir: Path
) -> None:
    """^e ^e, type a name, enter, ^n: the rows land in the new table, TargetD1Table untouched."""
    before = rows_of(emulator, "TargetD1Table")
    # Same columns as TargetD1Table: appending there by mistake would succeed silently.
    (workdir / "data" / "more.csv").write_text(
        "id,text,date_added\n1001,a,2026-01-01\n1002,b,2026-01-02\n", encoding="utf-8"
    )
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await verify(pilot, app)
        await pick_database(pilot, app)
        await choose_file(pilot, app, "data/more.csv", table="more")
        screen = app.screen
        assert isinstance(screen, SourceScreen)
        await wait_until(pilot, lambda: screen.tables)
        await pilot.press("ctrl+e")
        await pilot.pause()
        await pilot.press("ctrl+e")
        await pilot.pause()
        name = screen.query_one("#new-name", Input)
        assert app.focused is name and not name.disabled
        await pilot.press("ctrl+u", *"fresh_rows")
        assert name.value == "fresh_rows"
        await pilot.press("enter")
        await pilot.pause()
        if isinstance(app.screen, SourceScreen):
            assert screen.query_one("#target-new", RadioButton).value
            await to_preview(pilot, app)
        else:
            preview = app.screen
            assert isinstance(preview, PreviewScreen)
            await wait_until(pilot, lambda: preview.prepared is not None)
        assert '"fresh_rows" (new table)' in str(app.screen.query_one("#preview").border_title)
        done = await start_import(pilot, app)
        assert isinstance(done.outcome, ImportSucceeded), done.lines
    assert rows_of(emulator, "TargetD1Table") == before
    assert rows_of(emulator, "fresh_rows") == [(1001, "a", "2026-01-01"), (1002, "b", "2026-01-02")]


async def test_enter_on_the_table_list_does_not_switch_a_new_target_to_existing(
    build_app, emulator, workdir: Path
) -> None:
    """With "new" chosen, enter on the list of tables leaves the target new."""
    (workdir / "data" / "more.csv").write_text("id,text\n1,a\n", encoding="utf-8")
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await verify(pilot, app)
        await pick_database(pilot, app)
        await choose_file(pilot, app, "data/more.csv", table="more")
        screen = app.screen
        assert isinstance(screen, SourceScreen)
        await wait_until(pilot, lambda: screen.tables)
        assert screen.query_one("#target-new", RadioButton).value
        screen.query_one("#tables").focus()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert screen.query_one("#target-new", RadioButton).value
        assert not screen.query_one("#target-existing", RadioButton).value
