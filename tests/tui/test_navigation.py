"""Getting around: the keys panel, typing on lists, the file browser, creating a database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pilot_steps import choose_file, pick_database, start_import, to_preview, verify, wait_until
from rich.style import Style
from textual.widgets import DataTable, HelpPanel, Input, Static
from tui_constants import SIZE

from d1tui.settings.config import Settings, Sourced
from d1tui.tui.screens.credentials import CredentialsScreen
from d1tui.tui.screens.dialogs import NewDatabaseDialog
from d1tui.tui.screens.source import SourceScreen
from d1tui.tui.widgets.database_picker import DatabasePicker
from d1tui.tui.widgets.file_browser import DataFileTree, PathSuggester


def keys_shown(app) -> bool:
    """True when the current screen shows Textual's keys panel."""
    return bool(app.screen.query(HelpPanel))


async def test_question_mark_and_f1_open_the_keys_panel_on_every_screen(build_app) -> None:
    (Path("data") / "few.csv").write_text("id,text,date_added\n9001,x,2026-01-01\n")
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await verify(pilot, app)
        app.screen.query_one("#db-table").focus()
        await pilot.press("question_mark")
        assert keys_shown(app)
        await pilot.press("question_mark")
        assert not keys_shown(app)
        account = app.screen.query_one("#account", Input)
        account.focus()
        await pilot.press("question_mark")
        assert "?" in account.value and not keys_shown(app)  # typed, not the panel
        await pilot.press("f1")
        assert keys_shown(app)
        await pilot.press("f1")
        await pick_database(pilot, app)
        await pilot.press("f1")
        assert isinstance(app.screen, SourceScreen) and keys_shown(app)
        await pilot.press("f1")
        await choose_file(pilot, app, "data/few.csv", table="TargetD1Table")
        await to_preview(pilot, app)
        await pilot.press("question_mark")
        assert keys_shown(app)
        await pilot.press("f1")
        screen = await start_import(pilot, app)
        await pilot.press("question_mark")
        assert app.screen is screen and keys_shown(app)


async def test_typing_on_the_database_list_goes_to_the_filter(build_app, emulator) -> None:
    emulator.create_database("prod-users")
    emulator.create_database("prod-orders")
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await verify(pilot, app)
        picker = app.screen.query_one(DatabasePicker)
        assert picker.query_one("#db-table").has_focus
        await pilot.press(*"ord")
        assert picker.query_one("#db-filter", Input).value == "ord"
        assert [d.name for d in picker.shown] == ["prod-orders"]
        await pilot.press("backspace", "backspace", "backspace")
        assert len(picker.shown) == 3


async def test_no_credentials_suggests_the_local_emulator(build_app) -> None:
    empty = Settings(
        account_id=Sourced(None, "not set"),
        token=Sourced(None, "not set"),
        database=Sourced(None, "not set"),
        base_url=Sourced("https://api.cloudflare.com/client/v4", "default"),
    )
    app = build_app(settings=empty)
    async with app.run_test(size=SIZE) as pilot:
        status = app.screen.query_one("#verify-status", Static)
        assert "d1tui --local" in str(status.render())
        await pilot.press("ctrl+v")
        assert "d1tui --local" in str(status.render())


async def test_a_new_database_is_created_listed_and_picked(build_app, emulator) -> None:
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await verify(pilot, app)
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: isinstance(app.screen, NewDatabaseDialog))
        await pilot.press(*"fresh-db", "enter")
        screen = app.screen
        assert isinstance(screen, CredentialsScreen)
        picker = screen.query_one(DatabasePicker)
        await wait_until(pilot, lambda: any(d.name == "fresh-db" for d in picker.shown))
        assert picker.highlighted is not None and picker.highlighted.name == "fresh-db"
        assert "created fresh-db" in str(screen.query_one("#verify-status").render())
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SourceScreen))
        assert app.session.database is not None and app.session.database.name == "fresh-db"
    assert emulator.database_file("fresh-db").exists()


async def test_creating_a_database_that_exists_shows_the_error(build_app, emulator) -> None:
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await verify(pilot, app)
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: isinstance(app.screen, NewDatabaseDialog))
        await pilot.press(*"demo", "enter")
        screen = app.screen
        await wait_until(pilot, lambda: screen.query_one("#error").has_class("shown"))
        assert "already exists" in str(screen.query_one("#error").render())
        assert len(screen.query_one(DatabasePicker).shown) == 1


async def test_the_database_list_is_fresh_after_an_import(build_app, emulator) -> None:
    lines = ["id,text,date_added", *(f"{5000 + i},{'y' * 200},2026-01-01" for i in range(400))]
    (Path("data") / "grow.csv").write_text("\n".join(lines) + "\n")
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await verify(pilot, app)
        picker = app.screen.query_one(DatabasePicker)
        size_before = picker.shown[0].file_size
        await pick_database(pilot, app)
        await choose_file(pilot, app, "data/grow.csv", table="TargetD1Table")
        await to_preview(pilot, app)
        await start_import(pilot, app)
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, SourceScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, CredentialsScreen))
        await wait_until(pilot, lambda: picker.shown[0].file_size != size_before)
        assert picker.shown[0].file_size > size_before
    with sqlite3.connect(emulator.database_file("demo")) as conn:
        assert conn.execute("SELECT COUNT(*) FROM TargetD1Table").fetchone()[0] == 405


async def test_the_file_browser_goes_up_and_filters(build_app, workdir: Path) -> None:
    for name in ("people.csv", "orders.ndjson", "people-2.csv"):
        (workdir / "data" / name).write_text("id\n1\n")
    (workdir / "top.csv").write_text("id\n1\n")
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await verify(pilot, app)
        await pick_database(pilot, app)
        tree = app.screen.query_one(DataFileTree)
        tree.focus()

        def names() -> list[str]:
            return [str(n.label) for n in tree.root.children]

        await wait_until(pilot, lambda: len(names()) == 3)
        await pilot.press(*"peo")
        await wait_until(pilot, lambda: names() == ["people-2.csv", "people.csv"])
        assert "⌕ peo" in tree.render_label(tree.root, Style(), Style()).plain
        await pilot.press("backspace", "backspace", "backspace")
        await wait_until(pilot, lambda: len(names()) == 3)
        await pilot.press("backspace")  # no filter: up to the parent folder
        await wait_until(pilot, lambda: "top.csv" in names())
        assert Path(tree.path) == workdir.resolve()
        assert "data" in names()
        await pilot.press(*"top")
        await wait_until(pilot, lambda: names() == ["top.csv"])
        await pilot.press("escape")  # clears the filter; the screen stays
        await wait_until(pilot, lambda: len(names()) > 1)
        assert isinstance(app.screen, SourceScreen)


async def test_the_path_field_completes_paths(build_app, workdir: Path) -> None:
    (workdir / "data" / "people.csv").write_text("id\n1\n")
    suggester = PathSuggester()
    assert await suggester.get_suggestion("data/pe") == "data/people.csv"
    assert await suggester.get_suggestion("da") == "data/"
    assert await suggester.get_suggestion("nowhere/x") is None
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await verify(pilot, app)
        await pick_database(pilot, app)
        screen = app.screen
        assert isinstance(screen, SourceScreen)
        field = screen.query_one("#path", Input)
        field.focus()
        await pilot.press(*"data/pe")
        await pilot.pause(0.1)
        await pilot.press("right")  # accepts the suggestion
        assert field.value == "data/people.csv"
        await wait_until(pilot, lambda: screen.facts is not None)
        assert screen.query_one("#tables", DataTable) is not None
