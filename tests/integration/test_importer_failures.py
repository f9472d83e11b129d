"""The import engine against the emulator: failures, cancels and what they leave behind."""

from __future__ import annotations

import dataclasses
import threading
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
from d1tui.api.upload import NO_ETAG, NOT_UPLOADED, WRONG_CONTENTS
from d1tui.emulator import Emulator
from d1tui.errors import (
    AuthError,
    BadInputError,
    ImportBusyError,
    ImportCancelledError,
    ImportFailedError,
    ImportTimeoutError,
    NetworkError,
    UploadError,
    VerificationError,
)
from d1tui.events import (
    DatabaseState,
    ImportEvent,
    ImportFailed,
    ImportSucceeded,
    PollResult,
    Stage,
    StageStarted,
    UploadProgress,
)
from d1tui.importer.prepared import MAX_IMPORT_BYTES
from d1tui.importer.run import run_import

DUPLICATE = "INSERT INTO items (id, name) VALUES (3, 'again');"


@pytest.fixture
def emu(tmp_path: Path) -> Iterator[Emulator]:
    emulator = start_emulator(tmp_path)
    emulator.create_database("demo")
    seed(emulator, "demo", rows=5)
    yield emulator
    emulator.stop()


@pytest.fixture
def client(emu: Emulator) -> Iterator[D1Client]:
    with make_client(emu) as c:
        yield c


def failed(events: list[ImportEvent]) -> ImportFailed:
    end = outcome(events)
    assert isinstance(end, ImportFailed), names(events)
    return end


def assert_untouched(emu: Emulator, client: D1Client) -> None:
    """The seeded table is exactly as seeded: by query and by reading the SQLite file."""
    assert sqlite_count(emu, "demo", "items") == 5
    assert client.count_rows("demo", ["items"]) == {"items": 5}


@pytest.mark.parametrize("shape", ["status_error+errors", "inner", "status_error", "status_errors"])
def test_sql_error_mid_file_leaves_the_database_unchanged_in_every_failure_shape(
    tmp_path: Path, shape: str
) -> None:
    emu = start_emulator(tmp_path, failure_shape=shape)
    try:
        emu.create_database("demo")
        seed(emu, "demo", rows=5)
        # Rows 1..40 go in first; the duplicate id 3 fails halfway through the file.
        prepared = write_sql(
            tmp_path / "bad.sql",
            rows=40,
            extra=[DUPLICATE, "INSERT INTO items (id, name) VALUES (99, 'late');"],
        )
        with make_client(emu) as client:
            events = list(run_import(client, "demo", prepared, options=FAST_OPTIONS))
            end = failed(events)
            assert end.stage is Stage.POLL
            assert isinstance(end.error, ImportFailedError)
            assert "UNIQUE constraint failed: items.id" in end.error.detail
            assert end.database is DatabaseState.UNCHANGED
            assert [(c.before, c.after) for c in end.counts] == [(5, 5)]
            last_poll = [e for e in events if isinstance(e, PollResult)][-1]
            assert last_poll.status == "error" and "UNIQUE constraint failed" in (
                last_poll.error or ""
            )
            assert "rolled back" in end.error.hint
            assert_untouched(emu, client)
    finally:
        emu.stop()


def test_a_file_over_the_import_size_limit_is_refused_before_anything_is_sent(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    real = write_sql(tmp_path / "big.sql", rows=10)
    # The size is what the engine checks; the bytes on disk need not be 5 GiB for that.
    huge = dataclasses.replace(real, size=MAX_IMPORT_BYTES + 1)
    requests_before = len(emu.requests)
    end = failed(list(run_import(client, "demo", huge, options=FAST_OPTIONS)))
    assert isinstance(end.error, BadInputError)
    assert "D1 imports at most 4.995 GiB" in end.error.detail
    assert "split" in end.error.hint
    assert end.database is DatabaseState.NOT_STARTED
    assert [op for _method, op, _path in emu.requests[requests_before:]] == []
    assert_untouched(emu, client)


def test_wrong_etag_fails_the_upload_without_touching_the_database(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    emu.faults.add("upload", "wrong_etag")
    events = list(
        run_import(client, "demo", write_sql(tmp_path / "a.sql", first_id=1), options=FAST_OPTIONS)
    )
    end = failed(events)
    assert end.stage is Stage.UPLOAD and isinstance(end.error, UploadError)
    assert end.error.detail == WRONG_CONTENTS
    assert end.database is DatabaseState.NOT_STARTED
    assert "ingest" not in [op for _, op, _ in emu.requests]
    assert_untouched(emu, client)


def test_missing_etag_and_refused_upload_are_told_apart(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    emu.faults.add("upload", "no_etag")
    end = failed(
        list(run_import(client, "demo", write_sql(tmp_path / "a.sql"), options=FAST_OPTIONS))
    )
    assert isinstance(end.error, UploadError) and end.error.detail == NO_ETAG
    emu.faults.add("upload", "status", status=500, times=2, message="Please retry.")
    end = failed(
        list(
            run_import(client, "demo", write_sql(tmp_path / "b.sql", rows=7), options=FAST_OPTIONS)
        )
    )
    assert isinstance(end.error, UploadError) and end.error.http_status == 500
    assert end.error.detail.startswith(NOT_UPLOADED) and "Got response:" in end.error.detail
    assert [op for _, op, _ in emu.requests].count("upload") == 3  # 1 + restarted once
    assert_untouched(emu, client)


def test_upload_dropped_twice_gives_up_with_a_network_error(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    emu.faults.add("upload", "drop", after_bytes=100, times=2)
    end = failed(
        list(run_import(client, "demo", write_sql(tmp_path / "a.sql"), options=FAST_OPTIONS))
    )
    assert end.stage is Stage.UPLOAD and isinstance(end.error, NetworkError)
    assert end.database is DatabaseState.NOT_STARTED
    assert_untouched(emu, client)


def test_cancel_during_upload_aborts_the_put_and_nothing_is_imported(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    prepared = write_sql(tmp_path / "big.sql", rows=200_000, per_statement=500)  # ~6 MB
    cancel = threading.Event()
    events: list[ImportEvent] = []
    for event in run_import(client, "demo", prepared, options=FAST_OPTIONS, cancel=cancel):
        events.append(event)
        if isinstance(event, UploadProgress):
            cancel.set()
    end = failed(events)
    assert end.stage is Stage.UPLOAD and isinstance(end.error, ImportCancelledError)
    assert end.database is DatabaseState.NOT_STARTED
    sent = [e.sent for e in events if isinstance(e, UploadProgress)]
    assert max(sent) < prepared.size
    assert [(c.before, c.after) for c in end.counts] == [(5, 5)]
    assert "ingest" not in [op for _, op, _ in emu.requests]
    # D1 never got the file: a new init asks for it again.
    assert client.import_init("demo", prepared.md5).upload_url is not None
    assert_untouched(emu, client)


def test_cancel_after_ingest_stops_polling_and_the_rollback_is_verified(tmp_path: Path) -> None:
    emu = start_emulator(tmp_path, statements_per_step=1, step_seconds=0.05, no_poll_timeout=0.5)
    try:
        emu.create_database("demo")
        seed(emu, "demo", rows=5)
        prepared = write_sql(tmp_path / "slow.sql", rows=400, per_statement=10)  # ~2 s of work
        cancel = threading.Event()
        events: list[ImportEvent] = []
        with make_client(emu) as client:
            for event in run_import(client, "demo", prepared, options=FAST_OPTIONS, cancel=cancel):
                events.append(event)
                if isinstance(event, PollResult) and (event.queries_done or 0) > 3:
                    cancel.set()
            end = failed(events)
            assert end.stage is Stage.POLL and isinstance(end.error, ImportCancelledError)
            assert end.database is DatabaseState.UNCHANGED
            assert [(c.before, c.after) for c in end.counts] == [(5, 5)]
            note = next(
                e for e in events if isinstance(e, StageStarted) and e.stage is Stage.VERIFY
            )
            assert "15 s" in note.detail
            assert "rolled the import back" in end.error.hint
            assert_untouched(emu, client)
    finally:
        emu.stop()


def test_deadline_gives_up_and_confirms_the_rollback(tmp_path: Path) -> None:
    emu = start_emulator(tmp_path, statements_per_step=1, step_seconds=0.05, no_poll_timeout=0.5)
    try:
        emu.create_database("demo")
        seed(emu, "demo", rows=5)
        prepared = write_sql(tmp_path / "slow.sql", rows=400, per_statement=10)
        options = dataclasses.replace(FAST_OPTIONS, deadline=0.4)
        with make_client(emu) as client:
            end = failed(list(run_import(client, "demo", prepared, options=options)))
            assert isinstance(end.error, ImportTimeoutError)
            assert end.database is DatabaseState.UNCHANGED
            assert_untouched(emu, client)
    finally:
        emu.stop()


def test_a_second_import_on_a_busy_database_is_refused(tmp_path: Path) -> None:
    emu = start_emulator(tmp_path, statements_per_step=1, step_seconds=0.05)
    try:
        emu.create_database("demo")
        slow = write_sql(tmp_path / "slow.sql", rows=200, per_statement=10)
        other = write_sql(tmp_path / "other.sql", table="others", rows=10)
        with make_client(emu) as client:
            first = run_import(client, "demo", slow, options=FAST_OPTIONS)
            events = []
            for event in first:
                events.append(event)
                if isinstance(event, PollResult):
                    break
            second = list(run_import(client, "demo", other, options=FAST_OPTIONS))
            end = failed(second)
            assert end.stage is Stage.INIT and isinstance(end.error, ImportBusyError)
            assert end.database is DatabaseState.NOT_STARTED
            events += list(first)
            assert isinstance(outcome(events), ImportSucceeded)
            assert sqlite_count(emu, "demo", "items") == 200
            assert sqlite_count(emu, "demo", "others") is None
    finally:
        emu.stop()


def test_init_refused_while_another_import_runs_even_without_row_counts(tmp_path: Path) -> None:
    emu = start_emulator(tmp_path, statements_per_step=1, step_seconds=0.05)
    try:
        emu.create_database("demo")
        slow = write_sql(tmp_path / "slow.sql", rows=100, per_statement=10)
        other = write_sql(tmp_path / "other.sql", table="others", rows=10)
        bare = type(other)(
            path=other.path, md5=other.md5, size=other.size, statements=other.statements
        )
        with make_client(emu) as client:
            first = run_import(client, "demo", slow, options=FAST_OPTIONS)
            for event in first:
                if isinstance(event, PollResult):
                    break
            end = failed(list(run_import(client, "demo", bare, options=FAST_OPTIONS)))
            assert (
                isinstance(end.error, ImportBusyError) and "long-running import" in end.error.detail
            )
            assert isinstance(list(first)[-1], ImportSucceeded)
    finally:
        emu.stop()


def test_not_importing_after_a_failed_import_reports_unchanged(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    emu.faults.add("ingest", "not_importing")
    prepared = write_sql(tmp_path / "bad.sql", rows=20, extra=[DUPLICATE])
    end = failed(list(run_import(client, "demo", prepared, options=FAST_OPTIONS)))
    assert isinstance(end.error, ImportFailedError)
    assert end.error.detail == "Not currently importing anything."
    assert end.database is DatabaseState.UNCHANGED
    assert_untouched(emu, client)


def test_not_importing_without_row_counts_is_an_unknown_outcome(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    emu.faults.add("ingest", "not_importing")
    full = write_sql(tmp_path / "a.sql", table="fresh", rows=20)
    bare = type(full)(path=full.path, md5=full.md5, size=full.size, statements=full.statements)
    end = failed(list(run_import(client, "demo", bare, options=FAST_OPTIONS)))
    assert end.database is DatabaseState.UNKNOWN
    assert "outcome is unknown" in end.error.hint


def test_counts_that_do_not_add_up_fail_verification(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    prepared = write_sql(tmp_path / "a.sql", rows=20, claim_rows=25)
    end = failed(list(run_import(client, "demo", prepared, options=FAST_OPTIONS)))
    assert end.stage is Stage.VERIFY and isinstance(end.error, VerificationError)
    assert "data was imported" in end.error.detail and "+20 rows (25 expected)" in end.error.detail
    assert end.database is DatabaseState.CHANGED
    assert [(c.before, c.after, c.expected, c.ok) for c in end.counts] == [(5, 25, 25, False)]


def test_expired_token_fails_before_anything_is_sent(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    emu.token_status = "expired"
    end = failed(
        list(run_import(client, "demo", write_sql(tmp_path / "a.sql"), options=FAST_OPTIONS))
    )
    assert end.stage is Stage.INIT and isinstance(end.error, AuthError)
    assert end.database is DatabaseState.NOT_STARTED
    assert "init" not in [op for _, op, _ in emu.requests]


def test_polls_failing_for_too_long_end_with_the_state_checked_by_count(tmp_path: Path) -> None:
    emu = start_emulator(tmp_path, statements_per_step=1, step_seconds=0.05, no_poll_timeout=0.5)
    try:
        emu.create_database("demo")
        seed(emu, "demo", rows=5)
        emu.faults.add("poll", "status", status=503, times=1000)
        prepared = write_sql(tmp_path / "slow.sql", rows=300, per_statement=10)
        with make_client(emu) as client:
            events = list(run_import(client, "demo", prepared, options=FAST_OPTIONS))
            end = failed(events)
            assert end.stage is Stage.POLL and end.error.http_status == 503
            # D1 was not polled in time and rolled back; the count proves it.
            assert end.database is DatabaseState.UNCHANGED
            assert_untouched(emu, client)
    finally:
        emu.stop()


def test_an_already_uploaded_file_failing_at_init_is_checked_by_count(tmp_path: Path) -> None:
    emu = start_emulator(tmp_path, failure_shape="inner")
    try:
        emu.create_database("demo")
        seed(emu, "demo", rows=5)
        prepared = write_sql(tmp_path / "bad.sql", rows=10, extra=[DUPLICATE])
        with make_client(emu) as client:
            first = failed(list(run_import(client, "demo", prepared, options=FAST_OPTIONS)))
            assert first.stage is Stage.POLL and first.database is DatabaseState.UNCHANGED
            # Same file again: init starts it at once and the inner failure is its answer.
            end = failed(list(run_import(client, "demo", prepared, options=FAST_OPTIONS)))
            assert end.stage is Stage.INIT and isinstance(end.error, ImportFailedError)
            assert "UNIQUE constraint failed" in end.error.detail
            assert end.database is DatabaseState.UNCHANGED
            assert [(c.before, c.after) for c in end.counts] == [(5, 5)]
            assert_untouched(emu, client)
    finally:
        emu.stop()
