"""The import stages driven by a fake client: every recovery branch, no HTTP.

``FakeD1`` is a small in-memory stand-in for ``D1Client``: a table of row counts, and for each
import call a script of answers (an ``ImportAnswer``, an exception to raise, or a function of
the fake that may commit the import first). What is not scripted behaves like a quiet D1.
The end-to-end behaviour over real HTTP is tested in ``tests/integration`` and
``tests/reliability``; these pin down each branch of ``stages.py``, ``recovery.py`` and
``rerun.py`` on its own.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import pytest

from d1tui.api.client import D1Client
from d1tui.api.models import BUSY_TEXT, NOT_IMPORTING, ImportAnswer
from d1tui.api.retry import RetryPolicy
from d1tui.errors import (
    AuthError,
    EarlierImportError,
    ImportBusyError,
    ImportCancelledError,
    ImportFailedError,
    NetworkError,
    ServerError,
)
from d1tui.events import (
    DatabaseState,
    EarlierImport,
    ImportEvent,
    ImportFailed,
    ImportSucceeded,
    PollResult,
    Retrying,
    Stage,
    StageFinished,
)
from d1tui.importer.options import ImportOptions
from d1tui.importer.prepared import PreparedImport
from d1tui.importer.run import run_import

BOOKMARK = "00000001-00000002-00000003-" + "a" * 32
ROWS = 10

Step = ImportAnswer | BaseException | Callable[["FakeD1"], "ImportAnswer"]


def answer(**result: Any) -> ImportAnswer:
    """An import answer with ``result``."""
    return ImportAnswer(http_status=200, result=result)


def active() -> ImportAnswer:
    """The import runs."""
    return answer(success=True, type="import", status="active", at_bookmark=BOOKMARK)


def complete() -> ImportAnswer:
    """The import finished well."""
    final = {"num_queries": 2, "final_bookmark": BOOKMARK[:-1] + "b", "meta": {"duration": 1}}
    return answer(status="complete", at_bookmark=BOOKMARK, result=final, success=True)


def not_importing() -> ImportAnswer:
    """D1 no longer reports the import."""
    return answer(success=False, error=NOT_IMPORTING)


def busy() -> ImportAnswer:
    """Another import holds the database."""
    return answer(success=False, error=f"{BUSY_TEXT}. Cannot start another import.")


def upload_needed() -> ImportAnswer:
    """init: D1 does not have the file."""
    return answer(upload_url="https://upload.invalid/x", filename="db.0123.sql")


def commits(then: ImportAnswer | BaseException) -> Callable[[FakeD1], ImportAnswer]:
    """A step that commits the import (the rows go in), then answers ``then``."""

    def step(fake: FakeD1) -> ImportAnswer:
        fake.commit()
        if isinstance(then, BaseException):
            raise then
        return then

    return step


class FakeD1:
    """An in-memory stand-in for ``D1Client``: counts per table and scripted import answers."""

    account_id = "0" * 32
    retry = RetryPolicy(max_attempts=1, base=0.0, cap=0.0, jitter=0.0)

    def __init__(self, tables: dict[str, int], rows: dict[str, int]) -> None:
        self.tables = dict(tables)
        self.rows = rows  # what the import adds when it commits
        self.committed = 0
        self.calls: list[str] = []
        self.scripts: dict[str, list[Step]] = {"init": [], "ingest": [], "poll": [], "count": []}

    def script(self, call: str, *steps: Step) -> FakeD1:
        """Answer the next calls of ``call`` with ``steps``, in order."""
        self.scripts[call].extend(steps)
        return self

    def commit(self) -> None:
        """The import's rows go in."""
        self.committed += 1
        for table, n in self.rows.items():
            self.tables[table] = self.tables.get(table, 0) + n

    def _next(self, call: str, default: Step) -> ImportAnswer:
        self.calls.append(call)
        steps = self.scripts[call]
        step = steps.pop(0) if steps else default
        if isinstance(step, BaseException):
            raise step
        if isinstance(step, ImportAnswer):
            return step
        return step(self)

    # -- the D1Client calls the importer makes ------------------------------------------------

    @contextmanager
    def retry_listener(self, listener: object) -> Iterator[None]:
        yield

    def count_rows(self, database_id: str, tables: Sequence[str]) -> dict[str, int]:
        self.calls.append("count")
        if self.scripts["count"]:
            step = self.scripts["count"].pop(0)
            if isinstance(step, BaseException):
                raise step
            if callable(step):
                step(self)
        return {t: self.tables.get(t, 0) for t in tables}

    def import_init(self, database_id: str, etag: str) -> ImportAnswer:
        return self._next("init", lambda _d1: upload_needed())

    def import_ingest(self, database_id: str, etag: str, filename: str) -> ImportAnswer:
        return self._next("ingest", lambda _d1: active())

    def import_poll(
        self, database_id: str, bookmark: str, *, retry: RetryPolicy | None = None
    ) -> ImportAnswer:
        return self._next("poll", commits(complete()))

    def upload(self, url: str, path: Path, md5: str, **kw: object) -> None:
        self.calls.append("upload")


@pytest.fixture
def prepared(tmp_path: Path) -> PreparedImport:
    """A small SQL file filling ``items`` with ROWS rows."""
    data = b"INSERT INTO items VALUES (1);\n"
    path = tmp_path / "items.sql"
    path.write_bytes(data)
    md5 = hashlib.md5(data).hexdigest()
    return PreparedImport(path, md5, len(data), 2, rows={"items": ROWS}, source="items.sql")


@pytest.fixture
def options(tmp_path: Path) -> ImportOptions:
    """Tiny waits; records in the test's folder."""
    return ImportOptions(
        rollback_wait=0.05,
        max_poll_gap=0.2,
        poll_floor=0.0,
        busy_wait=1.0,
        progress_interval=0.0,
        patience=5.0,
        records_dir=tmp_path / "records",
    )


def fake(before: int = 5) -> FakeD1:
    """A database whose ``items`` holds ``before`` rows; the import adds ROWS."""
    return FakeD1({"items": before}, {"items": ROWS})


def run(
    d1: FakeD1,
    prepared: PreparedImport,
    options: ImportOptions,
    cancel: threading.Event | None = None,
) -> list[ImportEvent]:
    """Every event of one import through the fake."""
    return list(run_import(cast(D1Client, d1), "db", prepared, options=options, cancel=cancel))


def ok(events: list[ImportEvent]) -> ImportSucceeded:
    end = events[-1]
    assert isinstance(end, ImportSucceeded), end
    return end


def ko(events: list[ImportEvent]) -> ImportFailed:
    end = events[-1]
    assert isinstance(end, ImportFailed), end
    return end


def records(options: ImportOptions) -> list[dict[str, Any]]:
    """The records the imports wrote."""
    assert options.records_dir is not None
    return [json.loads(p.read_text()) for p in sorted(options.records_dir.glob("*.json"))]


# ---- the straight path -----------------------------------------------------------------------


def test_every_stage_in_order_and_the_record_finished(
    prepared: PreparedImport, options: ImportOptions
) -> None:
    d1 = fake()
    end = ok(run(d1, prepared, options))
    assert d1.calls == ["count", "init", "upload", "ingest", "poll", "count"]
    assert [(c.before, c.after, c.ok) for c in end.counts] == [(5, 15, True)]
    assert d1.committed == 1 and not end.cancel_came_too_late
    [record] = records(options)
    assert record["state"] == "finished" and record["outcome"] == "succeeded"
    assert record["before"] == {"items": 5} and record["rows"] == {"items": ROWS}
    assert record["bookmark"] == BOOKMARK  # learnt from D1's first answer


# ---- reattach after a lost ingest answer -----------------------------------------------------


def test_lost_ingest_answer_with_the_rows_in_is_a_success_without_a_second_import(
    prepared: PreparedImport, options: ImportOptions
) -> None:
    d1 = fake().script("ingest", commits(NetworkError("connection reset")))
    events = run(d1, prepared, options)
    end = ok(events)
    assert end.outcome_resolved_by_query and d1.committed == 1
    assert d1.calls.count("init") == 1  # counting first: no init that would run it again
    assert any(isinstance(e, StageFinished) and e.detail == "the import had run" for e in events)


def test_lost_ingest_answer_before_it_started_reattaches_with_init(
    prepared: PreparedImport, options: ImportOptions
) -> None:
    d1 = (
        fake()
        .script("ingest", ServerError("502", http_status=502))
        .script("init", upload_needed(), active())
    )
    events = run(d1, prepared, options)
    ok(events)
    assert d1.calls.count("init") == 2 and d1.calls.count("ingest") == 1 and d1.committed == 1
    assert any(isinstance(e, StageFinished) and e.detail == "re-attached" for e in events)


def test_lost_ingest_answer_and_tables_changed_otherwise_is_reported_changed(
    prepared: PreparedImport, options: ImportOptions
) -> None:
    def other_writer(d1: FakeD1) -> ImportAnswer:
        d1.tables["items"] += 3
        raise NetworkError("timeout")

    d1 = fake().script("ingest", other_writer)
    end = ko(run(d1, prepared, options))
    assert end.stage is Stage.INGEST and end.database is DatabaseState.CHANGED
    assert "+3 rows (10 expected)" in end.error.hint and d1.committed == 0


def test_reattach_waits_while_d1_is_busy_then_goes_on(
    prepared: PreparedImport, options: ImportOptions
) -> None:
    d1 = (
        fake()
        .script("ingest", NetworkError("reset"))
        .script("init", upload_needed(), busy(), busy(), active())
    )
    events = run(d1, prepared, options)
    ok(events)
    waits = [e for e in events if isinstance(e, Retrying) and e.stage is Stage.INGEST]
    assert [e.attempt for e in waits] == [1, 1, 2]  # the lost answer, then two busy answers
    assert d1.committed == 1


# ---- "Not currently importing anything." ---------------------------------------------------


def test_not_importing_with_the_rows_in_is_a_success(
    prepared: PreparedImport, options: ImportOptions
) -> None:
    d1 = fake().script("poll", commits(not_importing()))
    end = ok(run(d1, prepared, options))
    assert end.outcome_resolved_by_query
    assert [(c.before, c.after) for c in end.counts] == [(5, 15)]


def test_not_importing_with_tables_as_before_is_unchanged(
    prepared: PreparedImport, options: ImportOptions
) -> None:
    d1 = fake().script("poll", not_importing())
    end = ko(run(d1, prepared, options))
    assert end.database is DatabaseState.UNCHANGED and "import again" in end.error.hint
    assert records(options)[0]["state"] == "finished"  # a known outcome


def test_not_importing_while_queries_are_refused_polls_again(
    prepared: PreparedImport, options: ImportOptions
) -> None:
    # Counting is refused (the import still runs); the poll that follows says complete.
    d1 = fake().script("poll", not_importing(), commits(complete()))
    d1.script("count", lambda _d: None, ImportBusyError("busy"))
    end = ok(run(d1, prepared, options))
    assert not end.outcome_resolved_by_query and d1.committed == 1


def test_not_importing_without_row_counts_is_unknown_and_the_record_stays_open(
    prepared: PreparedImport, options: ImportOptions
) -> None:
    bare = PreparedImport(prepared.path, prepared.md5, prepared.size, prepared.statements)
    d1 = fake().script("poll", not_importing())
    end = ko(run(d1, bare, options))
    assert end.database is DatabaseState.UNKNOWN and "outcome is unknown" in end.error.hint
    assert records(options)[0]["state"] == "importing"  # a rerun will check


# ---- an API that cannot be reached during polls ----------------------------------------------


def test_unreachable_polls_keep_trying_until_d1_answers_again(
    prepared: PreparedImport, options: ImportOptions
) -> None:
    down = [NetworkError("connection refused") for _ in range(3)]
    d1 = fake().script("poll", *down)
    events = run(d1, prepared, dataclasses.replace(options, rollback_wait=5.0))
    ok(events)
    waits = [e.reason for e in events if isinstance(e, Retrying)]
    assert waits and all(w.startswith("API unreachable, retrying (") for w in waits)
    assert all(w.endswith(" of 5 s)") for w in waits)


def test_after_the_poll_window_the_counts_tell_the_import_committed(
    prepared: PreparedImport, options: ImportOptions
) -> None:
    # D1 committed while unreachable; then polls still fail but queries answer.
    d1 = fake().script("poll", commits(NetworkError("down")), *[NetworkError("down")] * 200)
    end = ok(run(d1, prepared, options))
    assert end.outcome_resolved_by_query and d1.committed == 1


def test_after_the_poll_window_tables_as_before_mean_d1_rolled_back(
    prepared: PreparedImport, options: ImportOptions
) -> None:
    d1 = fake().script("poll", *[ServerError("503", http_status=503)] * 200)
    end = ko(run(d1, prepared, options))
    assert end.database is DatabaseState.UNCHANGED and end.error.http_status == 503
    assert "rolled the import back" in end.error.hint


def test_a_busy_count_after_the_window_means_it_still_runs_so_poll_again(
    prepared: PreparedImport, options: ImportOptions
) -> None:
    def slow_down(_d1: FakeD1) -> ImportAnswer:
        time.sleep(0.3)  # past the 0.15 s window
        raise NetworkError("down")

    d1 = fake().script("poll", slow_down)
    d1.script("count", lambda _d: None, ImportBusyError("busy"))
    end = ok(run(d1, prepared, dataclasses.replace(options, rollback_wait=0.15)))
    assert not end.outcome_resolved_by_query and d1.committed == 1
    assert d1.calls[-3:] == ["count", "poll", "count"]  # busy → polled → complete → verify


def test_out_of_patience_the_state_is_unknown(
    prepared: PreparedImport, options: ImportOptions
) -> None:
    impatient = dataclasses.replace(options, patience=0.3)
    d1 = fake().script("poll", *[NetworkError("down")] * 10_000)
    d1.script("count", lambda _d: None, *[NetworkError("down")] * 10_000)
    end = ko(run(d1, prepared, impatient))
    assert end.database is DatabaseState.UNKNOWN
    assert "could not be reached for 0 s (--patience)" in end.error.hint


def test_a_poll_refused_for_good_is_not_retried(
    prepared: PreparedImport, options: ImportOptions
) -> None:
    d1 = fake().script("poll", AuthError("token expired", http_status=401))
    end = ko(run(d1, prepared, options))
    assert isinstance(end.error, AuthError) and d1.calls.count("poll") == 1
    assert end.database is DatabaseState.UNCHANGED  # counted: as before


# ---- a cancel after ingest -------------------------------------------------------------------


def test_cancel_stops_polling_and_the_rollback_is_confirmed(
    prepared: PreparedImport, options: ImportOptions
) -> None:
    cancel = threading.Event()

    def user_cancels(_d1: FakeD1) -> ImportAnswer:
        cancel.set()
        return active()

    d1 = fake().script("ingest", user_cancels)
    end = ko(run(d1, prepared, options, cancel))
    assert isinstance(end.error, ImportCancelledError) and end.database is DatabaseState.UNCHANGED
    assert "poll" not in d1.calls


def test_cancel_that_the_import_outran_is_a_success_saying_so(
    prepared: PreparedImport, options: ImportOptions
) -> None:
    cancel = threading.Event()

    def user_cancels_too_late(d1: FakeD1) -> ImportAnswer:
        cancel.set()
        d1.commit()  # D1 finishes what it was given
        return active()

    d1 = fake().script("ingest", user_cancels_too_late)
    end = ok(run(d1, prepared, options, cancel))
    assert end.cancel_came_too_late and end.at_bookmark == BOOKMARK
    assert [(c.before, c.after, c.ok) for c in end.counts] == [(5, 15, True)]


# ---- a rerun after a run that never learnt its outcome ---------------------------------------


def interrupted(prepared: PreparedImport, options: ImportOptions, d1: FakeD1) -> None:
    """A run that loses track of its import (abandoned mid-poll): its record stays open."""

    def held(_d1: FakeD1) -> ImportAnswer:
        time.sleep(0.2)  # D1 holds the answer; meanwhile the consumer goes away
        return active()

    d1.script("poll", held, held)
    events = run_import(cast(D1Client, d1), "db", prepared, options=options)
    for event in events:
        if isinstance(event, PollResult):
            break
    events.close()
    time.sleep(0.5)  # the abandoned run ends at its next event, without committing
    assert d1.committed == 0
    assert records(options)[0]["state"] == "importing"


def test_a_rerun_after_a_committed_interrupted_import_is_refused(
    prepared: PreparedImport, options: ImportOptions
) -> None:
    d1 = fake()
    interrupted(prepared, options, d1)
    d1.commit()  # D1 finished it with nobody polling
    calls = len(d1.calls)
    events = run(d1, prepared, options)
    end = ko(events)
    assert isinstance(end.error, EarlierImportError) and end.database is DatabaseState.NOT_STARTED
    assert "an earlier import of items.sql into db was interrupted at" in end.error.detail
    assert f"it committed {ROWS} rows (items: 5 → 15)" in end.error.detail
    assert "--force" in end.error.hint and BOOKMARK in end.error.hint
    assert d1.calls[calls:] == ["count"]  # nothing sent
    assert [e.verdict for e in events if isinstance(e, EarlierImport)] == ["committed"]
    assert records(options)[0]["state"] == "importing"  # a second rerun refuses too


def test_force_imports_again_on_purpose(prepared: PreparedImport, options: ImportOptions) -> None:
    d1 = fake()
    interrupted(prepared, options, d1)
    d1.commit()
    events = run(d1, prepared, dataclasses.replace(options, force=True))
    end = ok(events)
    assert [(e.verdict, e.forced) for e in events if isinstance(e, EarlierImport)] == [
        ("committed", True)
    ]
    assert [(c.before, c.after) for c in end.counts] == [(15, 25)] and d1.committed == 2
    assert records(options)[0]["state"] == "finished"


def test_a_rerun_after_a_rolled_back_interrupted_import_goes_ahead(
    prepared: PreparedImport, options: ImportOptions
) -> None:
    d1 = fake()
    interrupted(prepared, options, d1)  # D1 rolled it back: the tables are as before
    events = run(d1, prepared, options)
    ok(events)
    assert [e.verdict for e in events if isinstance(e, EarlierImport)] == ["not committed"]
    assert d1.committed == 1


def test_a_rerun_while_the_earlier_import_still_runs_is_told_to_wait(
    prepared: PreparedImport, options: ImportOptions
) -> None:
    d1 = fake()
    interrupted(prepared, options, d1)
    d1.script("count", ImportBusyError("D1_ERROR: Currently processing a long-running import."))
    end = ko(run(d1, prepared, options))
    assert isinstance(end.error, ImportBusyError) and end.database is DatabaseState.NOT_STARTED
    assert "is still running" in end.error.hint and "init" not in d1.calls[-1:]


def test_a_rerun_after_tables_changed_otherwise_is_refused_as_unclear(
    prepared: PreparedImport, options: ImportOptions
) -> None:
    d1 = fake()
    interrupted(prepared, options, d1)
    d1.tables["items"] += 4  # another writer; not the file's 10 rows
    end = ko(run(d1, prepared, options))
    assert isinstance(end.error, EarlierImportError)
    assert "whether it committed cannot be told" in end.error.detail


def test_an_edited_source_is_a_new_import(prepared: PreparedImport, options: ImportOptions) -> None:
    d1 = fake()
    interrupted(prepared, options, d1)
    d1.commit()
    stat = prepared.path.stat()
    os.utime(prepared.path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    events = run(d1, prepared, options)
    ok(events)
    assert not [e for e in events if isinstance(e, EarlierImport)]


def test_a_failed_import_with_a_known_outcome_closes_its_record(
    prepared: PreparedImport, options: ImportOptions
) -> None:
    d1 = fake().script("poll", answer(success=True, status="error", error="UNIQUE constraint"))
    end = ko(run(d1, prepared, options))
    assert isinstance(end.error, ImportFailedError) and end.database is DatabaseState.UNCHANGED
    assert records(options)[0]["outcome"] == "failed"
    # Nothing stands in the way of running it again.
    assert not [e for e in run(d1, prepared, options) if isinstance(e, EarlierImport)]
