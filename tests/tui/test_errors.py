"""What the app shows when things go wrong, and that the database is left as it was."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pilot_steps import (
    choose_file,
    error_text,
    pick_database,
    start_import,
    to_preview,
    verify,
    wait_until,
)
from screen_dump import check_snapshot
from textual.widgets import DataTable, Input
from tui_constants import SIZE

from d1tui.emulator import Emulator
from d1tui.events import DatabaseState, ImportFailed
from d1tui.tui.screens.dialogs import ConfirmDialog
from d1tui.tui.screens.preview import PreviewScreen

SENDING_OPS = {"init", "upload", "ingest", "poll"}


def target_rows(emu: Emulator) -> list[tuple[object, ...]]:
    """TargetD1Table as stored in the emulator's SQLite file."""
    with sqlite3.connect(emu.database_file("demo")) as conn:
        return conn.execute("SELECT * FROM TargetD1Table ORDER BY id").fetchall()


async def test_wrong_token_shows_the_server_error_inline(build_app, emulator) -> None:
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        token = app.screen.query_one("#token", Input)
        token.value = "not-the-right-token"
        await verify(pilot, app)
        shown = error_text(app)
        assert "Authentication" in shown
        assert "Account › D1 › Edit" in shown
        assert "typed here" in str(app.screen.query_one("#token-source").render())
        assert app.screen.query_one("#db-table", DataTable).row_count == 0
        check_snapshot(app, "credentials_bad_token")


async def test_expired_token_is_reported_and_not_used(build_app, emulator) -> None:
    emulator.token_status = "expired"
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+v")
        status = app.screen.query_one("#verify-status")
        await wait_until(pilot, lambda: "✘" in str(status.render()) or error_text(app))
        assert "expired" in (str(status.render()) + error_text(app))
        assert app.screen.verified is None
        await pilot.press("ctrl+n")
        assert not any(op == "list" for _, op, _ in emulator.requests)


async def test_sql_error_mid_import_leaves_the_table_unchanged(
    build_app, emulator, workdir: Path
) -> None:
    before = target_rows(emulator)
    # id 3 is already in TargetD1Table: the primary key collides on the server.
    (workdir / "data" / "clash.csv").write_text(
        "id,text,date_added\n100,new row,2026-02-01\n3,collides,2026-02-02\n", encoding="utf-8"
    )
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await verify(pilot, app)
        await pick_database(pilot, app)
        await choose_file(pilot, app, "data/clash.csv", table="TargetD1Table")
        await to_preview(pilot, app)
        screen = await start_import(pilot, app)
        outcome = screen.outcome
        assert isinstance(outcome, ImportFailed), screen.lines
        assert outcome.database is DatabaseState.UNCHANGED
        summary = str(screen.query_one("#summary").render())
        assert "UNIQUE constraint failed" in summary or "constraint" in summary.lower()
        assert "database: unchanged" in summary
        check_snapshot(app, "import_failed")
    assert target_rows(emulator) == before


async def test_malformed_file_is_named_and_nothing_is_sent(
    build_app, emulator, workdir: Path
) -> None:
    (workdir / "data" / "ragged.csv").write_text(
        "id,name\n1,ok\n2,too,many,fields\n3,fine\n", encoding="utf-8"
    )
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await verify(pilot, app)
        await pick_database(pilot, app)
        await choose_file(pilot, app, "data/ragged.csv", table="ragged")
        await to_preview(pilot, app, expect_ready=False)
        shown = error_text(app)
        assert "ragged.csv" in shown and "line 3" in shown
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PreviewScreen)
        assert not isinstance(app.screen, ConfirmDialog)
        check_snapshot(app, "preview_bad_file")
    assert not [r for r in emulator.requests if r[1] in SENDING_OPS]
