"""Fault corpus: imports over real HTTP against the emulator while it misbehaves.

Every scenario checks the rows left behind (by the API and by reading the SQLite file) and
what the user is told (the outcome event's fields). ``items`` starts with 5 seeded rows.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from import_runs import assert_rows, failed, ops, retries, run, succeeded
from seeded import SEEDED
from test_client_helpers import FAST_OPTIONS, make_client, seed, start_emulator, write_sql

from d1tui.api.client import D1Client
from d1tui.emulator import Emulator
from d1tui.errors import (
    AuthError,
    ImportBusyError,
    ImportCancelledError,
    ImportFailedError,
    NetworkError,
    NotFoundError,
    UploadError,
)
from d1tui.events import (
    DatabaseState,
    ImportEvent,
    PollResult,
    Retrying,
    Stage,
    StageFinished,
    StageSkipped,
)
from d1tui.importer.run import ImportOptions, run_import

ROWS = 40


@pytest.fixture
def slow(tmp_path: Path) -> Iterator[Emulator]:
    """An emulator whose imports take ~1 s (one statement per 50 ms), cancelled after 0.6 s."""
    emulator = start_emulator(
        tmp_path / "slow", statements_per_step=1, step_seconds=0.05, no_poll_timeout=0.6
    )
    emulator.create_database("demo")
    seed(emulator, "demo", rows=SEEDED)
    yield emulator
    emulator.stop()


def slow_file(tmp_path: Path, name: str = "slow.sql", **kw: object):  # type: ignore[no-untyped-def]
    """21 statements (40 rows, 2 a statement): about a second of importing on ``slow``."""
    return write_sql(tmp_path / name, rows=ROWS, per_statement=2, first_id=1, **kw)  # type: ignore[arg-type]


def until(events: Iterator[ImportEvent], test: object) -> list[ImportEvent]:
    """Consume events up to and including the first one ``test`` accepts."""
    seen: list[ImportEvent] = []
    for event in events:
        seen.append(event)
        if test(event):  # type: ignore[operator]
            return seen
    raise AssertionError(f"never saw the awaited event in {seen}")


def wait_idle(client: D1Client, seconds: float = 5.0) -> None:
    """Wait until D1 serves queries again (a running import refuses them)."""
    give_up = time.monotonic() + seconds
    while True:
        try:
            client.count_rows("demo", ["items"])
            return
        except ImportBusyError:
            assert time.monotonic() < give_up, "the database stayed busy"
            time.sleep(0.1)


# ---- 429 with Retry-After on each action ----------------------------------------------------


@pytest.mark.parametrize("op", ["init", "poll", "query"])
def test_429_with_retry_after_is_waited_out_and_the_import_completes(
    slow: Emulator, tmp_path: Path, op: str
) -> None:
    slow.faults.add(op, "status", status=429, retry_after=0.3)
    with make_client(slow) as client:
        events = run(client, slow_file(tmp_path))
        end = succeeded(events)
        assert [c.ok for c in end.counts] == [True]
        waits = [e for e in events if isinstance(e, Retrying)]
        assert len(waits) == 1 and waits[0].delay == pytest.approx(0.3)
        assert "Rate limited" in waits[0].reason and "971" in waits[0].reason
        assert ops(slow).count(op) >= 2
        assert_rows(slow, client, SEEDED + ROWS)


def test_429_on_ingest_is_not_resent_blindly_the_engine_re_attaches(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    emu.faults.add("ingest", "status", status=429, retry_after=0.2)
    events = run(client, write_sql(tmp_path / "a.sql", rows=ROWS))
    end = succeeded(events)
    assert ops(emu, "ingest") == ["ingest"]  # one ingest; the import restarted through init
    assert ops(emu, "init") == ["init", "init"]
    assert ops(emu, "upload") == ["upload"]  # the stored file is reused
    assert retries(events, Stage.INGEST)
    assert any(isinstance(e, StageFinished) and e.detail == "re-attached" for e in events)
    assert [c.ok for c in end.counts] == [True]
    assert_rows(emu, client, SEEDED + ROWS)


@pytest.mark.parametrize("op", ["list", "get", "verify"])
def test_429_on_lookups_is_retried_after_the_servers_delay(emu: Emulator, op: str) -> None:
    emu.faults.add(op, "status", status=429, retry_after=0.25)
    notices = []
    with make_client(emu, on_retry=notices.append) as client:
        start = time.monotonic()
        if op == "list":
            assert [d.name for d in client.list_databases()] == ["demo"]
        elif op == "get":
            assert client.get_database("demo").name == "demo"
        else:
            assert client.verify_token().status == "active"
        assert time.monotonic() - start >= 0.25
    assert len(notices) == 1 and notices[0].delay == pytest.approx(0.25)
    assert notices[0].error.retry_after == pytest.approx(0.25)
    assert ops(emu).count(op) == 2


# ---- 5xx bursts ---------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["init", "poll"])
def test_a_burst_of_5xx_is_retried_and_the_import_completes(tmp_path: Path, op: str) -> None:
    # Poll retries may take up to max_poll_gap (2 s here), well inside D1's no-poll limit (3 s).
    emu = start_emulator(tmp_path, statements_per_step=1, step_seconds=0.05, no_poll_timeout=3.0)
    options = ImportOptions(max_poll_gap=2.0, poll_floor=0.02, progress_interval=0.0)
    try:
        emu.create_database("demo")
        seed(emu, "demo", rows=SEEDED)
        emu.faults.add(op, "status", status=503, times=3)
        with make_client(emu) as client:
            events = run(client, slow_file(tmp_path), options=options)
            succeeded(events)
            stage = Stage.INIT if op == "init" else Stage.POLL
            assert len(retries(events, stage)) == 3
            assert ops(emu).count(op) >= 4
            assert_rows(emu, client, SEEDED + ROWS)
    finally:
        emu.stop()


def test_a_5xx_on_ingest_re_attaches_through_init_without_a_second_ingest(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    emu.faults.add("ingest", "status", status=500)
    events = run(client, write_sql(tmp_path / "a.sql", rows=ROWS))
    succeeded(events)
    assert ops(emu, "ingest") == ["ingest"]
    assert "Cloudflare API error" in retries(events, Stage.INGEST)[0].reason
    assert_rows(emu, client, SEEDED + ROWS)


def test_5xx_that_never_ends_fails_with_the_database_untouched(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    emu.faults.add("init", "status", status=502, times=50)
    end = failed(run(client, write_sql(tmp_path / "a.sql", rows=ROWS)))
    assert end.stage is Stage.INIT and end.database is DatabaseState.NOT_STARTED
    assert end.error.http_status == 502 and "try again" in end.error.hint
    emu.faults.clear()
    assert_rows(emu, client, SEEDED)


# ---- dropped connections ------------------------------------------------------------------


def test_connection_dropped_during_upload_restarts_the_upload(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    emu.faults.add("upload", "drop", after_bytes=100)
    events = run(client, write_sql(tmp_path / "a.sql", rows=ROWS))
    succeeded(events)
    assert ops(emu, "upload") == ["upload", "upload"]
    assert "uploading again from the start" in retries(events, Stage.UPLOAD)[0].reason
    assert_rows(emu, client, SEEDED + ROWS)


def test_connection_dropped_during_every_upload_fails_before_anything_is_imported(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    emu.faults.add("upload", "drop", after_bytes=10, times=5)
    end = failed(run(client, write_sql(tmp_path / "a.sql", rows=ROWS)))
    assert end.stage is Stage.UPLOAD and isinstance(end.error, NetworkError)
    assert end.database is DatabaseState.NOT_STARTED
    assert ops(emu, "ingest") == []
    assert_rows(emu, client, SEEDED)


def test_connection_dropped_after_ingest_ran_is_resolved_by_count_not_by_a_second_run(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    emu.faults.add("ingest", "drop")
    events = run(client, write_sql(tmp_path / "a.sql", rows=ROWS, with_ids=False))
    end = succeeded(events)
    assert end.outcome_resolved_by_query
    assert ops(emu, "ingest") == ["ingest"]
    assert_rows(emu, client, SEEDED + ROWS)  # no key: a second run would show as 80 rows


def test_connection_dropped_during_a_slow_ingest_waits_for_the_running_import(
    slow: Emulator, tmp_path: Path
) -> None:
    slow.faults.add("ingest", "drop")
    with make_client(slow) as client:
        events = run(client, slow_file(tmp_path, with_ids=False))
        succeeded(events)
        assert ops(slow, "ingest") == ["ingest"]
        assert_rows(slow, client, SEEDED + ROWS)


def test_connection_dropped_during_polls_is_retried_and_nothing_is_lost(
    slow: Emulator, tmp_path: Path
) -> None:
    slow.faults.add("poll", "drop", times=2)
    with make_client(slow) as client:
        events = run(client, slow_file(tmp_path))
        end = succeeded(events)
        assert len(retries(events, Stage.POLL)) == 2
        assert "Network error" in retries(events, Stage.POLL)[0].reason
        assert end.counts[0].after == SEEDED + ROWS
        assert_rows(slow, client, SEEDED + ROWS)


# ---- the upload itself --------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["wrong_etag", "no_etag"])
def test_an_etag_that_does_not_match_fails_the_upload_and_nothing_is_ingested(
    emu: Emulator, client: D1Client, tmp_path: Path, kind: str
) -> None:
    emu.faults.add("upload", kind)
    end = failed(run(client, write_sql(tmp_path / "a.sql", rows=ROWS)))
    assert end.stage is Stage.UPLOAD and isinstance(end.error, UploadError)
    assert "Please retry" in end.error.detail and end.database is DatabaseState.NOT_STARTED
    assert ops(emu, "ingest") == []
    assert_rows(emu, client, SEEDED)


def test_an_expired_upload_url_is_refused_and_the_database_is_untouched(tmp_path: Path) -> None:
    emu = start_emulator(tmp_path, upload_url_ttl=0.0)
    try:
        emu.create_database("demo")
        seed(emu, "demo", rows=SEEDED)
        time.sleep(1.1)  # signed URLs carry whole seconds: let the zero-second one lapse
        with make_client(emu) as client:
            end = failed(run(client, write_sql(tmp_path / "a.sql", rows=ROWS)))
            assert end.stage is Stage.UPLOAD and isinstance(end.error, UploadError)
            assert end.error.http_status == 403 and "expired" in end.error.describe()
            assert ops(emu, "ingest") == []
            assert_rows(emu, client, SEEDED)
    finally:
        emu.stop()


# ---- what D1 does on its own: cancel, forget, refuse -------------------------------------------


def test_a_poll_gap_past_the_servers_limit_cancels_and_the_client_reports_the_rollback(
    slow: Emulator, tmp_path: Path
) -> None:
    # The second poll reaches D1 only after 0.9 s, past its 0.6 s no-poll limit.
    slow.faults.add("poll", "latency", delay=0.9)
    with make_client(slow) as client:
        end = failed(run(client, slow_file(tmp_path)))
        assert end.stage is Stage.POLL and isinstance(end.error, ImportFailedError)
        assert "Cancelled due to no poll() received in 600ms." in end.error.detail
        assert end.database is DatabaseState.UNCHANGED
        assert [(c.before, c.after) for c in end.counts] == [(SEEDED, SEEDED)]
        assert "rolled back" in end.error.hint
        assert_rows(slow, client, SEEDED)


def test_not_importing_after_a_success_is_resolved_by_counting_rows(
    slow: Emulator, tmp_path: Path
) -> None:
    slow.faults.add("poll", "not_importing", times=100)
    with make_client(slow) as client:
        events = run(client, slow_file(tmp_path))
        end = succeeded(events)
        assert end.outcome_resolved_by_query and end.counts[0].ok
        polls = [e for e in events if isinstance(e, PollResult)]
        assert any(p.error == "Not currently importing anything." for p in polls)
        assert_rows(slow, client, SEEDED + ROWS)


def test_not_importing_after_a_rollback_reports_the_tables_as_before(
    slow: Emulator, tmp_path: Path
) -> None:
    slow.faults.add("poll", "not_importing", times=100)
    bad = slow_file(tmp_path, extra=["INSERT INTO items (id, name) VALUES (1, 'twice');"])
    with make_client(slow) as client:
        end = failed(run(client, bad))
        assert end.error.detail == "Not currently importing anything."
        assert end.database is DatabaseState.UNCHANGED
        assert "import again" in end.error.hint
        assert_rows(slow, client, SEEDED)


@pytest.mark.parametrize("shape", ["status_error+errors", "inner", "status_error", "status_errors"])
@pytest.mark.parametrize(
    ("statement", "words"),
    [
        ("CREATE TABLE _cf_KV (k TEXT);", "not authorized: SQLITE_AUTH"),
        ("BEGIN TRANSACTION;", "cannot start a transaction within a transaction"),
    ],
    ids=["cf_kv", "begin"],
)
def test_each_failure_payload_shape_reaches_the_user_and_rolls_back(
    tmp_path: Path, shape: str, statement: str, words: str
) -> None:
    emu = start_emulator(tmp_path, failure_shape=shape)
    try:
        emu.create_database("demo")
        seed(emu, "demo", rows=SEEDED)
        with make_client(emu) as client:
            end = failed(run(client, write_sql(tmp_path / "a.sql", rows=ROWS, extra=[statement])))
            assert isinstance(end.error, ImportFailedError) and words in end.error.detail
            assert end.database is DatabaseState.UNCHANGED
            assert_rows(emu, client, SEEDED)
    finally:
        emu.stop()


def test_a_second_import_is_refused_while_one_runs_and_the_first_completes(
    slow: Emulator, tmp_path: Path
) -> None:
    with make_client(slow) as first_client, make_client(slow) as second_client:
        first = run_import(first_client, "demo", slow_file(tmp_path), options=FAST_OPTIONS)
        seen = until(first, lambda e: isinstance(e, PollResult) and e.status == "active")
        other = write_sql(tmp_path / "other.sql", rows=7, first_id=500, create=False)
        end = failed(run(second_client, other))
        assert end.stage is Stage.INIT and isinstance(end.error, ImportBusyError)
        assert end.database is DatabaseState.NOT_STARTED and "wait" in end.error.hint
        succeeded(seen + list(first))
        assert_rows(slow, first_client, SEEDED + ROWS)


def test_queries_are_refused_during_an_import_and_served_after_it(
    slow: Emulator, tmp_path: Path
) -> None:
    with make_client(slow) as client, make_client(slow) as other:
        events = run_import(client, "demo", slow_file(tmp_path), options=FAST_OPTIONS)
        seen = until(events, lambda e: isinstance(e, PollResult) and e.status == "active")
        with pytest.raises(ImportBusyError) as refused:
            other.query("demo", "SELECT COUNT(*) AS n FROM items")
        assert "Currently processing a long-running import" in str(refused.value)
        succeeded(seen + list(events))
        assert other.query("demo", "SELECT COUNT(*) AS n FROM items")[0].results == [
            {"n": SEEDED + ROWS}
        ]


# ---- the client goes away -----------------------------------------------------------------


def test_an_interrupted_import_run_again_uses_the_uploaded_file_and_adds_rows_once(
    slow: Emulator, tmp_path: Path
) -> None:
    prepared = slow_file(tmp_path, with_ids=False)
    with make_client(slow) as client:
        events = run_import(client, "demo", prepared, options=FAST_OPTIONS)
        until(events, lambda e: isinstance(e, PollResult) and e.status == "active")
        events.close()  # the process "dies" mid-poll: no more polls reach D1
        # Run again at once: D1 still holds the import, so the user is told to wait.
        busy = failed(run(client, prepared))
        assert isinstance(busy.error, ImportBusyError)
        assert busy.database is DatabaseState.NOT_STARTED
        wait_idle(client)  # D1 cancels the orphan after 0.6 s without polls
        assert_rows(slow, client, SEEDED)
        again = run(client, prepared)
        end = succeeded(again)
        assert any(isinstance(e, StageSkipped) and e.stage is Stage.UPLOAD for e in again)
        assert ops(slow, "upload") == ["upload"]
        assert end.counts[0].before == SEEDED and end.counts[0].ok
        assert_rows(slow, client, SEEDED + ROWS)  # no key: a duplicate would show


def test_cancel_mid_poll_stops_polling_and_confirms_the_rollback(
    slow: Emulator, tmp_path: Path
) -> None:
    cancel = threading.Event()
    options = ImportOptions(
        rollback_wait=1.0, max_poll_gap=0.3, poll_floor=0.02, busy_wait=5.0, progress_interval=0.0
    )
    with make_client(slow) as client:
        events = run_import(client, "demo", slow_file(tmp_path), options=options, cancel=cancel)
        seen = until(events, lambda e: isinstance(e, PollResult) and e.status == "active")
        cancel.set()
        end = failed(seen + list(events))
        assert isinstance(end.error, ImportCancelledError)
        assert end.database is DatabaseState.UNCHANGED
        assert "rolled the import back" in end.error.hint
        assert_rows(slow, client, SEEDED)


# ---- credentials and the database change under the import ----------------------------------


def test_a_token_that_expires_after_the_upload_stops_the_import_before_ingest(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    # the engine runs in its own thread: ingest waits server-side (before its token is checked)
    # until this thread has expired the token, however loaded the machine
    emu.faults.add("ingest", "latency", delay=1.0)
    events = run_import(client, "demo", write_sql(tmp_path / "a.sql", rows=ROWS))
    seen = until(events, lambda e: isinstance(e, StageFinished) and e.stage is Stage.UPLOAD)
    emu.token_status = "expired"
    end = failed(seen + list(events))
    assert end.stage is Stage.INGEST and isinstance(end.error, AuthError)
    assert end.error.exit_code == 4 and "token" in end.error.hint
    assert end.database is DatabaseState.NOT_STARTED
    emu.token_status = "active"
    assert_rows(emu, client, SEEDED)


def test_a_token_that_expires_mid_poll_ends_the_import_and_d1_rolls_it_back(
    slow: Emulator, tmp_path: Path
) -> None:
    with make_client(slow) as client:
        events = run_import(client, "demo", slow_file(tmp_path), options=FAST_OPTIONS)
        seen = until(events, lambda e: isinstance(e, PollResult) and e.status == "active")
        slow.token_status = "expired"
        end = failed(seen + list(events))
        assert end.stage is Stage.POLL and isinstance(end.error, AuthError)
        assert end.database is DatabaseState.UNKNOWN  # the rows cannot be counted either
        slow.token_status = "active"
        wait_idle(client)
        assert_rows(slow, client, SEEDED)


def test_a_database_deleted_mid_flow_is_reported_as_not_found(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    emu.faults.add("ingest", "latency", delay=1.0)  # as above: the deletion comes first
    events = run_import(client, "demo", write_sql(tmp_path / "a.sql", rows=ROWS))
    seen = until(events, lambda e: isinstance(e, StageFinished) and e.stage is Stage.UPLOAD)
    emu.delete_database("demo")
    end = failed(seen + list(events))
    assert end.stage is Stage.INGEST and isinstance(end.error, NotFoundError)
    assert end.error.http_status == 404 and "database" in end.error.hint
    with pytest.raises(NotFoundError):
        client.get_database("demo")
    with pytest.raises(LookupError):
        emu.database_file("demo")


def test_a_database_cannot_be_deleted_under_a_running_import(
    slow: Emulator, tmp_path: Path
) -> None:
    with make_client(slow) as client, make_client(slow) as other:
        events = run_import(client, "demo", slow_file(tmp_path), options=FAST_OPTIONS)
        seen = until(events, lambda e: isinstance(e, PollResult) and e.status == "active")
        with pytest.raises(ImportBusyError):
            other.delete_database(other.get_database("demo").uuid)
        succeeded(seen + list(events))
        assert_rows(slow, client, SEEDED + ROWS)
