"""Cancelling a running import: confirm, stop polling, D1 rolls back, the counts prove it."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pilot_steps import choose_file, pick_database, start_import, to_preview, verify, wait_until
from tui_constants import FAST, SIZE

from d1tui.events import DatabaseState, ImportFailed
from d1tui.tui.screens.dialogs import ConfirmDialog
from d1tui.tui.screens.importing import ImportScreen


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    """A slow ingest: one statement, then a pause, so there is time to cancel."""
    return {
        "statements_per_step": 1,
        "step_seconds": 0.8,
        "no_poll_timeout": 0.8,
        "hold_seconds": 0.1,
    }


async def test_cancel_rolls_back_and_shows_it(build_app, emulator, workdir: Path) -> None:
    lines = ["id,text,date_added"]
    lines += [f"{1000 + i},{'x' * 120},2026-03-01" for i in range(6000)]
    (workdir / "data" / "big.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with sqlite3.connect(emulator.database_file("demo")) as conn:
        before = conn.execute("SELECT COUNT(*) FROM TargetD1Table").fetchone()[0]
    app = build_app(import_options=replace(FAST, rollback_wait=1.2, max_poll_gap=0.2))
    async with app.run_test(size=SIZE) as pilot:
        await verify(pilot, app)
        await pick_database(pilot, app)
        await choose_file(pilot, app, "data/big.csv", table="TargetD1Table")
        await to_preview(pilot, app)
        screen = await start_import(pilot, app, wait=False)
        assert isinstance(screen, ImportScreen)
        await wait_until(pilot, lambda: any("#" in line for line in screen.lines))
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_until(pilot, lambda: not screen.running, timeout=30)
        await pilot.pause()
        outcome = screen.outcome
        assert isinstance(outcome, ImportFailed), screen.lines
        assert outcome.database in (DatabaseState.UNCHANGED, DatabaseState.ROLLED_BACK)
        summary = str(screen.query_one("#summary").render())
        assert "cancel" in summary.lower()
        assert any("cancelling" in line for line in screen.lines), screen.lines
    with sqlite3.connect(emulator.database_file("demo")) as conn:
        assert conn.execute("SELECT COUNT(*) FROM TargetD1Table").fetchone()[0] == before
