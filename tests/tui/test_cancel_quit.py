""" "Cancel the import and quit": d1tui closes only once the counts confirm the rollback.

If the import commits anyway (it finished before D1's no-poll limit), d1tui stays on the
result and says so, and the rows are there.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pilot_steps import choose_file, pick_database, start_import, to_preview, verify, wait_until
from tui_constants import FAST, SIZE

from d1tui.events import DatabaseState, ImportFailed, ImportSucceeded
from d1tui.tui.screens.dialogs import ConfirmDialog
from d1tui.tui.screens.importing import COULD_NOT_CANCEL, WAITING_TO_QUIT, ImportScreen

ROWS = 6000

# One statement per slow step; D1 rolls back after 0.8 s without a poll.
ROLLS_BACK = {"statements_per_step": 1, "step_seconds": 0.8, "no_poll_timeout": 0.8}
# Quick steps and a no-poll limit far away: the import completes although polls stop.
COMPLETES = {"statements_per_step": 1, "step_seconds": 0.1, "no_poll_timeout": 120.0}


@pytest.fixture
def emulator_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The emulator's ingest pace, given by each test."""
    return {"hold_seconds": 0.1, **request.param}


def big_csv(workdir: Path) -> None:
    """Rows enough for several statements of the import."""
    lines = ["id,text,date_added"]
    lines += [f"{1000 + i},{'x' * 120},2026-03-01" for i in range(ROWS)]
    (workdir / "data" / "big.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def count(emulator: Any) -> int:
    """Rows in TargetD1Table, read from the SQLite file."""
    with sqlite3.connect(emulator.database_file("demo")) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM TargetD1Table").fetchone()[0])


async def cancel_and_quit(pilot: Any, app: Any) -> ImportScreen:
    """Start the import, wait for a poll, then q and y."""
    await verify(pilot, app)
    await pick_database(pilot, app)
    await choose_file(pilot, app, "data/big.csv", table="TargetD1Table")
    await to_preview(pilot, app)
    screen = await start_import(pilot, app, wait=False)
    await wait_until(pilot, lambda: any("#" in line for line in screen.lines))
    await pilot.press("q")
    await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
    await pilot.press("y")
    await wait_until(pilot, lambda: app.screen is screen)
    return screen


@pytest.mark.parametrize("emulator_options", [ROLLS_BACK], indirect=True)
async def test_quit_waits_for_the_rollback_then_closes(build_app, emulator, workdir) -> None:
    big_csv(workdir)
    before = count(emulator)
    app = build_app(import_options=replace(FAST, rollback_wait=1.5, max_poll_gap=0.2))
    async with app.run_test(size=SIZE) as pilot:
        screen = await cancel_and_quit(pilot, app)
        assert screen.running and app.return_value is None  # it did not close at once
        assert any(WAITING_TO_QUIT in line for line in screen.lines)
        await wait_until(pilot, lambda: app.return_value is not None, timeout=30)
        outcome = screen.outcome
        assert isinstance(outcome, ImportFailed), screen.lines
        assert outcome.database is DatabaseState.UNCHANGED
    assert app.return_value == 0
    assert count(emulator) == before


@pytest.mark.parametrize("emulator_options", [COMPLETES], indirect=True)
async def test_quit_stays_and_says_so_when_the_import_completed(
    build_app, emulator, workdir
) -> None:
    big_csv(workdir)
    before = count(emulator)
    app = build_app(import_options=replace(FAST, rollback_wait=6.0, max_poll_gap=0.2))
    async with app.run_test(size=SIZE) as pilot:
        screen = await cancel_and_quit(pilot, app)
        await wait_until(pilot, lambda: not screen.running, timeout=40)
        await pilot.pause()
        assert app.return_value is None and app.screen is screen  # still open
        outcome = screen.outcome
        assert isinstance(outcome, ImportSucceeded | ImportFailed), screen.lines
        if isinstance(outcome, ImportFailed):
            assert outcome.database is DatabaseState.CHANGED
        summary = str(screen.query_one("#summary").render())
        assert COULD_NOT_CANCEL in summary
        assert any("q quits" in n.message for n in app._notifications)
        await pilot.press("q")
        await wait_until(pilot, lambda: app.return_value is not None)
    assert count(emulator) == before + ROWS
