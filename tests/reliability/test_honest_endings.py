"""Endings told by the counts: a cancel that came too late, and an API that stops answering.

* A cancel after ingest stops polling so D1 rolls back; when D1 committed first, the outcome
  is a success that says the cancel came too late (CLI: exit 0, the undo shown).
* While the API cannot be reached during polls, the import keeps trying within the poll window
  and then learns the outcome by counts once the service answers again, for ``patience``.
"""

from __future__ import annotations

import _thread
import dataclasses
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SEEDED
from import_runs import assert_rows, failed, retries, run, succeeded
from test_client_helpers import FAST_OPTIONS, make_client, seed, start_emulator, write_sql

from d1tui.cli import main
from d1tui.cli.deps import Deps
from d1tui.emulator import Emulator
from d1tui.errors import EarlierImportError, ServerError
from d1tui.events import DatabaseState, EarlierImport, ImportEvent, PollResult, Stage
from d1tui.importer.options import ImportOptions
from d1tui.importer.run import run_import

ROWS = 40


@pytest.fixture
def patient(tmp_path: Path) -> Iterator[Emulator]:
    """Imports take ~1 s; D1 keeps one going 30 s without polls (it commits if left alone)."""
    emulator = start_emulator(
        tmp_path / "emu", statements_per_step=1, step_seconds=0.05, no_poll_timeout=30.0
    )
    emulator.create_database("demo")
    seed(emulator, "demo", rows=SEEDED)
    yield emulator
    emulator.stop()


def until_active(events: Iterator[ImportEvent]) -> list[ImportEvent]:
    """Consume events up to the first answer saying the import runs."""
    seen: list[ImportEvent] = []
    for event in events:
        seen.append(event)
        if isinstance(event, PollResult) and event.status == "active":
            return seen
    raise AssertionError(f"no active poll in {seen}")


def on_first_poll(emu: Emulator, action: object) -> threading.Thread:
    """Run ``action`` once the emulator has seen the first poll (bounded wait)."""

    def watch() -> None:
        give_up = time.monotonic() + 30
        while not any(op == "poll" for _m, op, _p in list(emu.requests)):
            if time.monotonic() > give_up:
                return
            time.sleep(0.01)
        action()  # type: ignore[operator]

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def cli_env(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_BASE_URL", emu.base_url)
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", emu.account_id)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", emu.token)


# ---- a cancel that came too late -------------------------------------------------------------


def test_a_cancel_the_import_outran_ends_in_success_saying_so(
    patient: Emulator, tmp_path: Path
) -> None:
    cancel = threading.Event()
    prepared = write_sql(tmp_path / "a.sql", rows=ROWS, per_statement=2, first_id=100)
    with make_client(patient) as client:
        events = run_import(client, "demo", prepared, options=FAST_OPTIONS, cancel=cancel)
        seen = until_active(events)
        cancel.set()  # polls stop; D1 finishes the import all the same
        end = succeeded(seen + list(events))
        assert end.cancel_came_too_late and end.outcome_resolved_by_query
        assert end.at_bookmark is not None  # the undo
        assert [(c.before, c.after, c.ok) for c in end.counts] == [(SEEDED, SEEDED + ROWS, True)]
        assert_rows(patient, client, SEEDED + ROWS)


def test_cli_ctrl_c_that_came_too_late_says_could_not_cancel_and_exits_0(
    patient: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cli_env(patient, monkeypatch)
    deps = Deps(import_options=ImportOptions(rollback_wait=0.5))
    sql = tmp_path / "many.sql"
    sql.write_text("".join(f"INSERT INTO items (name) VALUES ('late {i}');\n" for i in range(30)))
    watcher = on_first_poll(patient, _thread.interrupt_main)
    code = main(["import", str(sql), "-d", "demo", "--yes"], deps=deps)
    watcher.join(5)
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "⏹ Cancelling" in out
    assert "⚠ Could not cancel: the import completed before it could be stopped." in out
    assert "To undo this import:" in out and "wrangler d1 time-travel restore demo" in out
    assert "Import cancelled" not in out + err
    with make_client(patient) as client:
        assert_rows(patient, client, SEEDED + 30)


# ---- the API stops answering during polls ----------------------------------------------------


def test_polls_that_cannot_reach_the_api_keep_trying_and_the_counts_tell_the_outcome(
    patient: Emulator, tmp_path: Path
) -> None:
    prepared = write_sql(tmp_path / "a.sql", rows=ROWS, per_statement=2, first_id=100)
    with make_client(patient) as client:
        events = run_import(client, "demo", prepared, options=FAST_OPTIONS)
        seen = until_active(events)
        # An outage longer than the client's own retries of one poll (and than the import).
        patient.faults.add("*", "status", status=503, times=25)
        rest = list(events)
        end = succeeded(seen + rest)
        waits = [r.reason for r in retries(rest, Stage.POLL) if "unreachable" in r.reason]
        assert waits and waits[0].startswith("API unreachable, retrying (")
        assert waits[-1].endswith(" of 60 s)")
        assert [(c.before, c.after, c.ok) for c in end.counts] == [(SEEDED, SEEDED + ROWS, True)]
        assert_rows(patient, client, SEEDED + ROWS)


def test_out_of_patience_the_state_is_unknown_and_a_rerun_does_not_double_it(
    patient: Emulator, tmp_path: Path
) -> None:
    options = dataclasses.replace(FAST_OPTIONS, patience=2.0)
    prepared = write_sql(tmp_path / "a.sql", rows=ROWS, per_statement=2, first_id=100)
    with make_client(patient) as client:
        events = run_import(client, "demo", prepared, options=options)
        seen = until_active(events)
        patient.faults.add("*", "status", status=503, times=100_000)
        end = failed(seen + list(events))
        assert end.stage is Stage.POLL and isinstance(end.error, ServerError)
        assert end.database is DatabaseState.UNKNOWN
        assert "could not be reached for 2 s (--patience)" in end.error.hint
        patient.faults.clear()
        # D1 finished the import meanwhile; the next run of the file learns it and refuses.
        give_up = time.monotonic() + 10
        while client.count_rows("demo", ["items"]) != {"items": SEEDED + ROWS}:
            assert time.monotonic() < give_up
            time.sleep(0.1)
        again = run(client, prepared)
        refused = failed(again)
        assert isinstance(refused.error, EarlierImportError)
        assert f"it committed {ROWS} rows" in refused.error.detail
        assert [e.verdict for e in again if isinstance(e, EarlierImport)] == ["committed"]
        assert_rows(patient, client, SEEDED + ROWS)


def test_cli_patience_flag_shows_the_wait_and_the_import_lands_once(
    patient: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cli_env(patient, monkeypatch)
    deps = Deps(import_options=ImportOptions(rollback_wait=0.8, max_poll_gap=1.0))
    sql = tmp_path / "more.sql"
    sql.write_text("".join(f"INSERT INTO items (name) VALUES ('more {i}');\n" for i in range(30)))
    watcher = on_first_poll(
        patient, lambda: patient.faults.add("*", "status", status=503, times=25)
    )
    code = main(["import", str(sql), "-d", "demo", "--yes", "--patience", "45"], deps=deps)
    watcher.join(5)
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "⏳ poll: API unreachable, retrying (" in out and " of 45 s)" in out
    with make_client(patient) as client:
        assert_rows(patient, client, SEEDED + 30)
