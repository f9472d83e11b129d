"""The import engine against the emulator: event sequences of the imports that succeed."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_client_helpers import (
    FAST_OPTIONS,
    make_client,
    names,
    outcome,
    seed,
    sqlite_count,
    start_emulator,
    write_sql,
)

from d1tui.api.client import D1Client
from d1tui.emulator import Emulator
from d1tui.events import (
    ImportSucceeded,
    PollResult,
    Retrying,
    Stage,
    StageFinished,
    StageSkipped,
    UploadProgress,
)
from d1tui.importer.run import ImportOptions, run_import


@pytest.fixture
def emu(tmp_path: Path) -> Iterator[Emulator]:
    emulator = start_emulator(tmp_path)
    emulator.create_database("demo")
    yield emulator
    emulator.stop()


@pytest.fixture
def client(emu: Emulator) -> Iterator[D1Client]:
    with make_client(emu) as c:
        yield c


def test_fresh_upload_runs_every_stage_in_order(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    prepared = write_sql(tmp_path / "a.sql", rows=250, per_statement=25)
    events = list(run_import(client, "demo", prepared, options=FAST_OPTIONS))
    assert names(events) == [
        "StageStarted:hash",
        "StageFinished:hash",
        "StageStarted:init",
        "StageFinished:init",
        "StageStarted:upload",
        "UploadProgress",
        "StageFinished:upload",
        "StageStarted:ingest",
        "StageFinished:ingest",
        "StageStarted:poll",
        "PollResult",
        "StageFinished:poll",
        "StageStarted:verify",
        "StageFinished:verify",
        "ImportSucceeded",
    ]
    hash_done = next(e for e in events if isinstance(e, StageFinished) and e.stage is Stage.HASH)
    assert hash_done.detail == f"md5 {prepared.md5[:16]}…"
    init_done = next(e for e in events if isinstance(e, StageFinished) and e.stage is Stage.INIT)
    assert init_done.detail == "upload needed"
    progress = [e for e in events if isinstance(e, UploadProgress)]
    assert progress[-1].sent == progress[-1].total == prepared.size
    polls = [e for e in events if isinstance(e, PollResult)]
    assert [p.number for p in polls] == list(range(1, len(polls) + 1))
    assert polls[-1].status == "complete" and polls[-1].queries_done == prepared.statements
    assert all(p.queries_total == prepared.statements for p in polls)
    done = outcome(events)
    assert isinstance(done, ImportSucceeded) and not done.outcome_resolved_by_query
    assert done.num_queries == prepared.statements and done.rows_written >= 250
    assert done.final_bookmark and done.at_bookmark == polls[-1].at_bookmark
    assert [(c.table, c.before, c.after, c.expected, c.ok) for c in done.counts] == [
        ("items", 0, 250, 250, True)
    ]
    assert sqlite_count(emu, "demo", "items") == 250
    ops = [op for _, op, _ in emu.requests]
    assert ops.count("init") == 1 and ops.count("upload") == 1 and ops.count("ingest") == 1


def test_already_uploaded_file_skips_upload_and_init_answer_is_the_first_poll(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    emu.upload_retention = 60.0  # D1 keeps files a while; the emulator's default drops them
    prepared = write_sql(tmp_path / "b.sql", rows=40, with_ids=False)
    first = list(run_import(client, "demo", prepared, options=FAST_OPTIONS))
    assert isinstance(outcome(first), ImportSucceeded)
    emu.requests.clear()
    second = list(run_import(client, "demo", prepared, options=FAST_OPTIONS))
    assert names(second)[:9] == [
        "StageStarted:hash",
        "StageFinished:hash",
        "StageStarted:init",
        "StageFinished:init",
        "StageSkipped:upload",
        "StageSkipped:ingest",
        "StageStarted:poll",
        "PollResult",
        "StageFinished:poll",
    ]
    init_done = next(e for e in second if isinstance(e, StageFinished) and e.stage is Stage.INIT)
    assert init_done.detail == "already uploaded"
    assert {e.stage for e in second if isinstance(e, StageSkipped)} == {Stage.UPLOAD, Stage.INGEST}
    done = outcome(second)
    assert isinstance(done, ImportSucceeded)
    assert [(c.before, c.after) for c in done.counts] == [(40, 80)]
    ops = [op for _, op, _ in emu.requests]
    assert "upload" not in ops and "ingest" not in ops
    assert sqlite_count(emu, "demo", "items") == 80


def test_slow_ingest_is_polled_until_complete_with_cumulative_progress(tmp_path: Path) -> None:
    emu = start_emulator(tmp_path, statements_per_step=3, step_seconds=0.06)
    try:
        emu.create_database("demo")
        seed(emu, "demo", rows=7)
        prepared = write_sql(tmp_path / "c.sql", rows=300, per_statement=10)  # 31 statements
        with make_client(emu) as client:
            events = list(run_import(client, "demo", prepared, options=FAST_OPTIONS))
        polls = [e for e in events if isinstance(e, PollResult)]
        assert len(polls) >= 4
        done_counts = [p.queries_done for p in polls if p.queries_done is not None]
        assert done_counts == sorted(done_counts) and done_counts[-1] == prepared.statements
        assert [p.status for p in polls[:-1]] == ["active"] * (len(polls) - 1)
        assert polls[-1].status == "complete" and polls[0].http_status == 202
        ops = [op for _, op, _ in emu.requests]
        assert ops.count("poll") == len(polls) - 1  # the ingest answer is the first PollResult
        gaps = [b.timestamp - a.timestamp for a, b in itertools.pairwise(polls)]
        assert max(gaps) < FAST_OPTIONS.max_poll_gap
        done = outcome(events)
        assert isinstance(done, ImportSucceeded)
        assert [(c.before, c.after) for c in done.counts] == [(7, 307)]
    finally:
        emu.stop()


def test_rate_limit_and_server_errors_are_retried_with_events(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    emu.faults.add("init", "status", status=429, retry_after=0.3)
    emu.faults.add("init", "status", status=502)
    emu.faults.add("poll", "status", status=503, times=2)
    emu.settings.statements_per_step = 2
    emu.settings.step_seconds = 0.05
    prepared = write_sql(tmp_path / "d.sql", rows=100, per_statement=10)
    events = list(run_import(client, "demo", prepared, options=FAST_OPTIONS))
    retries = [e for e in events if isinstance(e, Retrying)]
    init_retries = [r for r in retries if r.stage is Stage.INIT]
    assert [r.attempt for r in init_retries] == [1, 2]
    assert init_retries[0].delay == pytest.approx(0.3) and "Rate limited" in init_retries[0].reason
    assert "Cloudflare API error" in init_retries[1].reason
    assert len([r for r in retries if r.stage is Stage.POLL]) == 2
    assert isinstance(outcome(events), ImportSucceeded)
    assert sqlite_count(emu, "demo", "items") == 100


def test_rate_limited_poll_waits_no_longer_than_the_poll_gap_allows(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    emu.settings.statements_per_step = 2
    emu.settings.step_seconds = 0.05
    emu.faults.add("poll", "status", status=429, retry_after=30)
    prepared = write_sql(tmp_path / "e.sql", rows=60, per_statement=10)
    events = list(run_import(client, "demo", prepared, options=FAST_OPTIONS))
    retry = next(e for e in events if isinstance(e, Retrying))
    assert retry.stage is Stage.POLL and retry.delay == pytest.approx(FAST_OPTIONS.max_poll_gap / 2)
    assert isinstance(outcome(events), ImportSucceeded)


def test_dropped_upload_is_restarted_once_from_scratch(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    emu.faults.add("upload", "drop", after_bytes=1000)
    prepared = write_sql(tmp_path / "f.sql", rows=2000, per_statement=50)
    events = list(run_import(client, "demo", prepared, options=FAST_OPTIONS))
    retry = next(e for e in events if isinstance(e, Retrying))
    assert retry.stage is Stage.UPLOAD and "uploading again from the start" in retry.reason
    assert [op for _, op, _ in emu.requests].count("upload") == 2
    assert isinstance(outcome(events), ImportSucceeded)
    assert sqlite_count(emu, "demo", "items") == 2000


def test_not_importing_after_a_finished_import_is_resolved_by_counting(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    emu.faults.add("ingest", "not_importing")
    prepared = write_sql(tmp_path / "g.sql", rows=30)
    events = list(run_import(client, "demo", prepared, options=FAST_OPTIONS))
    polls = [e for e in events if isinstance(e, PollResult)]
    assert polls[0].error == "Not currently importing anything."
    done = outcome(events)
    assert isinstance(done, ImportSucceeded) and done.outcome_resolved_by_query
    assert [(c.before, c.after, c.ok) for c in done.counts] == [(0, 30, True)]
    assert sqlite_count(emu, "demo", "items") == 30


def test_spurious_not_importing_during_a_running_import_goes_back_to_polling(
    tmp_path: Path,
) -> None:
    emu = start_emulator(tmp_path, statements_per_step=2, step_seconds=0.1)
    try:
        emu.create_database("demo")
        emu.faults.add("poll", "not_importing")
        prepared = write_sql(tmp_path / "h.sql", rows=200, per_statement=10)
        with make_client(emu) as client:
            events = list(run_import(client, "demo", prepared, options=FAST_OPTIONS))
        polls = [e for e in events if isinstance(e, PollResult)]
        assert any(p.error == "Not currently importing anything." for p in polls)
        assert polls[-1].status == "complete"
        done = outcome(events)
        assert isinstance(done, ImportSucceeded) and not done.outcome_resolved_by_query
        assert sqlite_count(emu, "demo", "items") == 200
    finally:
        emu.stop()


def test_lost_ingest_answer_is_resolved_without_running_the_file_twice(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    emu.faults.add("ingest", "drop")
    prepared = write_sql(tmp_path / "i.sql", rows=50, with_ids=False)
    events = list(run_import(client, "demo", prepared, options=FAST_OPTIONS))
    assert any(isinstance(e, Retrying) and e.stage is Stage.INGEST for e in events)
    done = outcome(events)
    assert isinstance(done, ImportSucceeded) and done.outcome_resolved_by_query
    assert sqlite_count(emu, "demo", "items") == 50  # not 100: ingest was not repeated
    assert [op for _, op, _ in emu.requests].count("ingest") == 1


def test_ingest_server_error_reattaches_with_init(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    emu.faults.add("ingest", "status", status=500)
    prepared = write_sql(tmp_path / "j.sql", rows=50)
    events = list(run_import(client, "demo", prepared, options=FAST_OPTIONS))
    ingest_done = next(
        e for e in events if isinstance(e, StageFinished) and e.stage is Stage.INGEST
    )
    assert ingest_done.detail == "re-attached"
    ops = [op for _, op, _ in emu.requests]
    assert ops.count("ingest") == 1 and ops.count("init") == 2
    done = outcome(events)
    assert isinstance(done, ImportSucceeded) and not done.outcome_resolved_by_query
    assert sqlite_count(emu, "demo", "items") == 50


def test_verification_can_be_turned_off_and_is_skipped_without_row_counts(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    prepared = write_sql(tmp_path / "k.sql", rows=10)
    events = list(
        run_import(client, "demo", prepared, options=ImportOptions(verify=False, poll_floor=0.02))
    )
    assert "StageSkipped:verify" in names(events)
    assert isinstance(outcome(events), ImportSucceeded)
    raw = write_sql(tmp_path / "l.sql", table="other", rows=10)
    raw = type(raw)(path=raw.path, md5=raw.md5, size=raw.size, statements=raw.statements)
    events = list(run_import(client, "demo", raw, options=FAST_OPTIONS))
    skipped = next(e for e in events if isinstance(e, StageSkipped) and e.stage is Stage.VERIFY)
    assert "row counts are unknown" in skipped.reason
    done = outcome(events)
    assert isinstance(done, ImportSucceeded) and done.counts == ()
    assert sqlite_count(emu, "demo", "other") == 10


def test_a_slow_consumer_does_not_delay_the_polls(tmp_path: Path) -> None:
    emu = start_emulator(tmp_path, statements_per_step=1, step_seconds=0.03, no_poll_timeout=0.6)
    try:
        emu.create_database("demo")
        prepared = write_sql(tmp_path / "s.sql", rows=800, per_statement=10)  # ~2.4 s of work
        events = []
        with make_client(emu) as client:
            for event in run_import(client, "demo", prepared, options=FAST_OPTIONS):
                events.append(event)
                if isinstance(event, PollResult) and event.number == 2:
                    time.sleep(1.2)  # longer than D1's patience without polls
        done = outcome(events)
        assert isinstance(done, ImportSucceeded), done
        assert sqlite_count(emu, "demo", "items") == 800
    finally:
        emu.stop()


def test_closing_the_generator_early_ends_the_worker(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    emu.settings.statements_per_step = 1
    emu.settings.step_seconds = 0.05
    prepared = write_sql(tmp_path / "t.sql", rows=200, per_statement=10)
    events = run_import(client, "demo", prepared, options=FAST_OPTIONS)
    for event in events:
        if isinstance(event, PollResult):
            break
    events.close()  # type: ignore[attr-defined]
    deadline = time.monotonic() + 10.0  # a bound, not a speed: it must end
    while any(t.name == "d1tui-import" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the import worker kept running"
        time.sleep(0.02)
