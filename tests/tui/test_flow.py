"""End to end through the app against the in-process emulator: the happy paths."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pilot_steps import (
    choose_fake,
    choose_file,
    pick_database,
    rows_of,
    start_import,
    to_preview,
    verify,
    wait_until,
)
from screen_dump import check_snapshot
from textual.widgets import DataTable, RadioButton
from tui_constants import SIZE, TOKEN

from d1tui.events import ImportSucceeded
from d1tui.tui.screens.credentials import CredentialsScreen
from d1tui.tui.screens.source import SourceScreen

CUSTOMERS = (
    "id,name,email,zip\n"
    "1,O'Brien,ob@example.com,02134\n"
    "2,Zoë 日本,z@example.com,00501\n"
    "3,Smith,s@example.com,10001\n"
)


async def test_csv_into_a_new_table_end_to_end(build_app, emulator, workdir: Path) -> None:
    (workdir / "data" / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, CredentialsScreen)
        check_snapshot(app, "credentials")
        await verify(pilot, app)
        assert "token active" in str(app.screen.query_one("#verify-status").render())
        check_snapshot(app, "credentials_verified")
        await pick_database(pilot, app)
        await choose_file(pilot, app, "data/customers.csv", table="customers", type_it=True)
        check_snapshot(app, "source_file")
        await to_preview(pilot, app)
        table = app.screen.query_one("#preview-rows", DataTable)
        assert table.row_count == 3
        headers = [str(c.label) for c in table.columns.values()]
        assert headers[0].startswith("id\nINTEGER")
        assert "O'Brien" in [str(v) for v in table.get_row_at(0)]
        check_snapshot(app, "preview_csv")
        screen = await start_import(pilot, app)
        assert isinstance(screen.outcome, ImportSucceeded), screen.lines
        summary = str(screen.query_one("#summary").render())
        assert '"customers": 0 → 3 rows (expected +3) ✔' in summary
        assert "wrangler d1 time-travel restore" in summary
        check_snapshot(app, "import_finished")
        await pilot.press("s")
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, SourceScreen))
        source = app.screen
        assert isinstance(source, SourceScreen)
        await wait_until(pilot, lambda: any(t.name == "customers" for t in source.tables))
        assert next(t for t in source.tables if t.name == "customers").rows == 3
    (log,) = workdir.glob("d1tui-import-*.log")
    text = log.read_text(encoding="utf-8")
    assert "result:" in text and '"customers": 0 → 3 rows' in text
    assert TOKEN not in text
    rows = rows_of(emulator, "customers")
    assert [r[1] for r in rows] == ["O'Brien", "Zoë 日本", "Smith"]


async def test_fake_rows_into_target_table(build_app, emulator) -> None:
    before = rows_of(emulator, "TargetD1Table")
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await verify(pilot, app)
        await pick_database(pilot, app)
        await choose_fake(pilot, app, rows=25, seed=7, table="TargetD1Table")
        check_snapshot(app, "source_fake")
        await to_preview(pilot, app)
        assert app.screen.query_one("#preview-rows", DataTable).row_count == 25
        check_snapshot(app, "preview_fake")
        preview = app.screen
        await pilot.press("r")
        await wait_until(pilot, lambda: "seed 8" in str(preview.query_one("#preview").border_title))
        await wait_until(pilot, lambda: preview.prepared is not None)
        screen = await start_import(pilot, app)
        assert isinstance(screen.outcome, ImportSucceeded), screen.lines
        (count,) = screen.outcome.counts
        assert (count.before, count.after, count.ok) == (len(before), len(before) + 25, True)
    after = rows_of(emulator, "TargetD1Table")
    assert after[: len(before)] == before
    assert len(after) == len(before) + 25


async def test_sqlite_file_brings_its_own_tables(build_app, emulator, workdir: Path) -> None:
    with sqlite3.connect(workdir / "data" / "legacy.sqlite") as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL)")
        conn.executemany("INSERT INTO users VALUES (?, ?)", [(i, f"u{i}@x.org") for i in range(7)])
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await verify(pilot, app)
        await pick_database(pilot, app)
        await choose_file(pilot, app, "data/legacy.sqlite", table="ignored")
        assert "defines its own tables" in str(app.screen.query_one("#columns").render())
        await to_preview(pilot, app)
        assert "the tables it defines" in str(app.screen.query_one("#preview").border_title)
        screen = await start_import(pilot, app)
        assert isinstance(screen.outcome, ImportSucceeded), screen.lines
        assert '"users": 0 → 7 rows (expected +7) ✔' in str(screen.query_one("#summary").render())
    assert rows_of(emulator, "users") == [(i, f"u{i}@x.org") for i in range(7)]


async def test_a_retried_call_is_logged_and_the_import_goes_on(build_app, emulator) -> None:
    emulator.faults.add("init", "status", status=503, times=1)
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await verify(pilot, app)
        await pick_database(pilot, app)
        await choose_fake(pilot, app, rows=5, seed=1, table="TargetD1Table")
        await to_preview(pilot, app)
        screen = await start_import(pilot, app)
        assert isinstance(screen.outcome, ImportSucceeded), screen.lines
        assert any("retry init #1" in line for line in screen.lines), screen.lines


async def test_keys_switch_the_target_radios_one_at_a_time(build_app) -> None:
    """^f to fake rows picks the existing table; ^e flips: never both radios on."""
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await verify(pilot, app)
        await pick_database(pilot, app)
        screen = app.screen
        assert isinstance(screen, SourceScreen)
        await wait_until(pilot, lambda: screen.tables)

        def on() -> list[str]:
            return [b.id or "" for b in screen.query(RadioButton) if b.value]

        await pilot.press("ctrl+f")
        await wait_until(pilot, lambda: "target-existing" in on())
        assert on() == ["mode-fake", "target-existing"]
        assert "columns of TargetD1Table" in str(screen.query_one("#columns").render())
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: "target-new" in on())
        assert on() == ["mode-fake", "target-new"]
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: "target-existing" in on())
        assert on() == ["mode-fake", "target-existing"]
