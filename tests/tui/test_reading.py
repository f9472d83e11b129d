"""Reading a file in the TUI: folders, binary and empty files, hints, reading options, tables."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pilot_steps import (
    choose_file,
    error_text,
    pick_database,
    rows_of,
    start_import,
    tables_of,
    to_preview,
    verify,
    wait_until,
)
from screen_dump import check_snapshot
from textual.widgets import DataTable, Input, SelectionList
from tui_constants import SIZE

from d1tui.events import ImportSucceeded
from d1tui.tui.app import D1TuiApp
from d1tui.tui.screens.preview import PreviewScreen
from d1tui.tui.screens.reading import ReadingOptionsDialog
from d1tui.tui.screens.source import SourceScreen
from d1tui.tui.widgets.file_browser import DataFileTree


def facts(app: D1TuiApp) -> str:
    """The facts line under the file browser."""
    return str(app.screen.query_one("#facts").render())


async def source_screen(pilot, app: D1TuiApp) -> SourceScreen:
    """Verify, pick ``demo``, wait for its tables."""
    await verify(pilot, app)
    await pick_database(pilot, app)
    screen = app.screen
    assert isinstance(screen, SourceScreen)
    await wait_until(pilot, lambda: screen.tables)
    return screen


async def type_path(pilot, app: D1TuiApp, path: str) -> None:
    """Type ``path`` into the path field and wait for the facts line to settle."""
    field = app.screen.query_one("#path", Input)
    field.focus()
    field.value = ""
    await pilot.press(*path)
    await wait_until(pilot, lambda: facts(app) not in ("…", "pick a file or type its path"))
    await pilot.pause()


async def set_options(pilot, app: D1TuiApp, **fields: str) -> None:
    """^o, fill the named fields (``delimiter=";"``), enter."""
    await pilot.press("ctrl+o")
    await wait_until(pilot, lambda: isinstance(app.screen, ReadingOptionsDialog))
    dialog = app.screen
    for key, value in fields.items():
        dialog.query_one(f"#opt-{key}", Input).value = value
    dialog.query_one("#opt-encoding", Input).focus()
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, SourceScreen))
    await wait_until(pilot, lambda: facts(app) != "…")
    await pilot.pause()


async def test_a_typed_folder_is_a_folder_and_opens_in_the_browser(
    build_app, emulator, workdir: Path
) -> None:
    (workdir / "data" / "sub").mkdir()
    (workdir / "data" / "sub" / "inner.csv").write_text("a\n1\n", encoding="utf-8")
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await source_screen(pilot, app)
        await type_path(pilot, app, "data/sub")
        assert "is a folder, not a file" in facts(app)
        assert "no such file" not in facts(app)
        tree = screen.query_one("#tree", DataFileTree)
        assert Path(tree.path) == Path("data/sub")
        await wait_until(pilot, lambda: [c.label.plain for c in tree.root.children])
        assert [str(c.label) for c in tree.root.children] == ["inner.csv"]
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.screen is screen
        assert any("is a folder, not a file" in n.message for n in app._notifications)


async def test_random_bytes_are_not_shown_as_a_csv(build_app, emulator, workdir: Path) -> None:
    noise = bytes((i * 131 + 7) % 256 for i in range(3000))
    (workdir / "data" / "noise.csv").write_bytes(noise)
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await source_screen(pilot, app)
        await type_path(pilot, app, "data/noise.csv")
        assert "binary data, not text" in facts(app)
        assert "CSV" not in facts(app)


async def test_an_empty_file_into_an_existing_table_says_the_file_is_empty(
    build_app, emulator, workdir: Path
) -> None:
    before = rows_of(emulator, "TargetD1Table")
    (workdir / "data" / "empty.csv").write_bytes(b"")
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await source_screen(pilot, app)
        await type_path(pilot, app, "data/empty.csv")
        assert "the file is empty" in facts(app)
        app.screen.query_one("#new-name", Input).value = "TargetD1Table"
        await to_preview(pilot, app, expect_ready=False)
        shown = error_text(app)
        assert "the file is empty" in shown
        assert "no column of the file matches" not in shown
        assert "CREATE TABLE" not in str(app.screen.query_one("#sql").render())
        check_snapshot(app, "preview_empty_file")
    assert rows_of(emulator, "TargetD1Table") == before


async def test_the_encoding_hint_names_the_tui_control_and_the_control_works(
    build_app, emulator, workdir: Path
) -> None:
    (workdir / "data" / "latin.csv").write_bytes("id,name\n1,café\n2,Ærø\n".encode("cp1252"))
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await source_screen(pilot, app)
        await choose_file(pilot, app, "data/latin.csv", table="latin")
        await to_preview(pilot, app, expect_ready=False)
        shown = error_text(app)
        assert "not valid UTF-8" in shown
        assert "--encoding" not in shown
        assert "^o Reading options › encoding" in shown
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, SourceScreen))
        await set_options(pilot, app, encoding="cp1252")
        assert "cp1252" in facts(app)
        await to_preview(pilot, app)
        done = await start_import(pilot, app)
        assert isinstance(done.outcome, ImportSucceeded), done.lines
    assert rows_of(emulator, "latin") == [(1, "café"), (2, "Ærø")]


async def test_a_bad_faker_locale_gets_a_hint_about_the_locale(build_app, emulator) -> None:
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await source_screen(pilot, app)
        await pilot.press("ctrl+f")
        screen.query_one("#fake-locale", Input).value = "xx_NOPE"
        await to_preview(pilot, app, expect_ready=False)
        shown = error_text(app)
        assert "unknown Faker locale" in shown
        assert "fix the file" not in shown
        assert "en_US" in shown


async def test_a_semicolon_delimiter_chosen_in_the_tui_imports_the_right_columns(
    build_app, emulator, workdir: Path
) -> None:
    # The sniffer takes "," for this file: only the delimiter chosen gives the right columns.
    (workdir / "data" / "semi.csv").write_text("k;v,w\n1;2,3\n4;5,6\n", encoding="utf-8")
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await source_screen(pilot, app)
        await choose_file(pilot, app, "data/semi.csv", table="semi")
        assert '","' in facts(app)
        await set_options(pilot, app, delimiter=";")
        assert '";"' in facts(app)
        assert 'delimiter ";"' in str(app.screen.query_one("#reading").render())
        check_snapshot(app, "source_reading_options")
        await to_preview(pilot, app)
        table = app.screen.query_one("#preview-rows", DataTable)
        assert [str(c.label).split("\n")[0] for c in table.columns.values()] == ["k", "v,w"]
        done = await start_import(pilot, app)
        assert isinstance(done.outcome, ImportSucceeded), done.lines
    assert rows_of(emulator, "semi") == [(1, "2,3"), (4, "5,6")]


async def test_types_pk_and_no_headers_from_the_dialog_shape_the_new_table(
    build_app, emulator, workdir: Path
) -> None:
    (workdir / "data" / "bare.csv").write_text("7,007\n8,010\n", encoding="utf-8")
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await source_screen(pilot, app)
        await choose_file(pilot, app, "data/bare.csv", table="bare")
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, ReadingOptionsDialog))
        dialog = app.screen
        dialog.query_one("#opt-no-headers").value = True
        dialog.query_one("#opt-types", Input).value = "col2=TEXT"
        dialog.query_one("#opt-pk", Input).value = "col1"
        await pilot.pause()
        check_snapshot(app, "reading_options_csv")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, SourceScreen))
        await to_preview(pilot, app)
        assert not error_text(app), error_text(app)
        done = await start_import(pilot, app)
        assert isinstance(done.outcome, ImportSucceeded), done.lines
    assert rows_of(emulator, "bare") == [(7, "007"), (8, "010")]
    with sqlite3.connect(emulator.database_file("demo")) as conn:
        info = conn.execute("PRAGMA table_info(bare)").fetchall()
    assert [(r[1], r[2], r[5]) for r in info] == [("col1", "INTEGER", 1), ("col2", "TEXT", 0)]


async def test_a_two_table_sqlite_file_shows_both_and_imports_the_one_chosen(
    build_app, emulator, workdir: Path
) -> None:
    with sqlite3.connect(workdir / "data" / "two.sqlite") as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(80) NOT NULL)")
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total DECIMAL(10,2))")
        conn.executemany("INSERT INTO users VALUES (?, ?)", [(1, "a@x.org"), (2, "b@x.org")])
        conn.executemany("INSERT INTO orders VALUES (?, ?)", [(10, 9.5), (11, 3.25), (12, 1.0)])
    before = tables_of(emulator)
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await source_screen(pilot, app)
        await choose_file(pilot, app, "data/two.sqlite", table="ignored")
        await wait_until(pilot, lambda: app.screen.sqlite_tables == ["users", "orders"])
        assert "imports 2 of its 2 tables" in str(app.screen.query_one("#columns").render())
        await to_preview(pilot, app)
        preview = app.screen
        assert isinstance(preview, PreviewScreen)
        titles = [str(s.render()) for s in preview.query(".file-table-title")]
        assert titles == ["users · 2 rows", "orders · 3 rows"]
        orders = preview.query_one("#file-table-1", DataTable)
        labels = [str(c.label) for c in orders.columns.values()]
        assert labels == ["id\nINTEGER pk", "total\nDECIMAL(10,2)"]
        assert [str(v) for v in orders.get_row_at(1)] == ["11", "3.25"]
        check_snapshot(app, "preview_sqlite_two_tables")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, SourceScreen))
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, ReadingOptionsDialog))
        picker = app.screen.query_one("#opt-tables", SelectionList)
        picker.focus()
        await pilot.press("space")  # the highlighted first table: users, unticked
        assert list(picker.selected) == ["orders"]
        check_snapshot(app, "reading_options_tables")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, SourceScreen))
        await pilot.pause()
        assert "imports 1 of its 2 tables: orders" in str(app.screen.query_one("#columns").render())
        await to_preview(pilot, app)
        titles = [str(s.render()) for s in app.screen.query(".file-table-title")]
        assert titles == ["orders · 3 rows"]
        done = await start_import(pilot, app)
        assert isinstance(done.outcome, ImportSucceeded), done.lines
    assert tables_of(emulator) == before | {"orders"}
    assert rows_of(emulator, "orders") == [(10, 9.5), (11, 3.25), (12, 1.0)]
