"""Endings D1 does not report itself, found out by asking again and by counting rows.

* ``reattach``: the answer to ``ingest`` was lost; did the import start, or run already?
* ``resolve_unknown``: D1 says ``Not currently importing anything.``; how did it end?
* ``ride_out``: polls fail because the API cannot be reached; keep trying within the poll
  window, then learn the outcome by counts once the service answers again (``patience``).
* ``stop_polling``: cancel or deadline after ingest; stop polling so D1 rolls back, then count.
"""

from __future__ import annotations

import time
from typing import Final

from d1tui.api.models import NOT_IMPORTING, ImportAnswer
from d1tui.errors import (
    D1Error,
    ImportBusyError,
    ImportCancelledError,
    ImportFailedError,
    NetworkError,
    RateLimitedError,
    ServerError,
)
from d1tui.events import DatabaseState, Retrying, Stage, StageFinished, StageStarted, TableCount
from d1tui.importer.context import BUSY_PAUSE, ImportRun
from d1tui.importer.counts import (
    all_match,
    count_once,
    counts_after,
    describe_counts,
    resolved,
    settle,
    state_after_failure,
    state_words,
    table_counts,
    unchanged,
)

# The longest pause between two tries while the API cannot be reached.
UNREACHABLE_PAUSE: Final = 1.0

TRANSIENT = (NetworkError, ServerError, RateLimitedError)


def reattach(run: ImportRun) -> ImportAnswer | None:
    """After an ambiguous ingest: learn whether the import ran, then ``init`` (same etag).

    Counting first keeps a finished import from running twice (``init`` of an uploaded file
    starts it again). While D1 refuses queries or says it is busy, the import runs: wait for it
    to finish, or for D1 to roll it back (no polls), bounded by ``busy_wait``. Returns D1's
    answer to go on with, or None when the outcome was emitted.
    """
    give_up = time.monotonic() + run.options.busy_wait
    tries = 0
    while True:
        waiting = ""
        try:
            if run.before is not None:
                counts = table_counts(run.before, count_once(run), run.prepared.rows)
                if all_match(counts):
                    run.emit(StageFinished(Stage.INGEST, 0.0, "the import had run"))
                    resolved(run, counts)
                    return None
                if not unchanged(counts):
                    error = ImportFailedError("the ingest answer was lost and the tables changed")
                    settle(run, Stage.INGEST, error, DatabaseState.UNKNOWN, announce=True)
                    return None
            answer = run.client.import_init(run.database, run.prepared.md5)
            if not answer.busy:
                return answer
            waiting = answer.error_text or "busy"
        except ImportBusyError as exc:
            waiting = exc.detail
        except D1Error as exc:
            settle(run, Stage.INGEST, exc, DatabaseState.UNKNOWN, announce=True)
            return None
        tries += 1
        if time.monotonic() >= give_up or run.stopped():
            settle(
                run, Stage.INGEST, ImportBusyError(waiting), DatabaseState.UNKNOWN, announce=True
            )
            return None
        reason = "D1 is importing (probably this file); waiting for it to finish or roll back"
        run.emit(Retrying(Stage.INGEST, tries, BUSY_PAUSE, reason))
        run.pause(BUSY_PAUSE)


def resolve_unknown(run: ImportRun) -> ImportAnswer | None:
    """Count rows to learn how an import D1 no longer reports ended.

    While D1 refuses queries because an import still runs, poll again: that keeps the import
    alive and may bring a real answer, which is returned to go on polling with. Otherwise the
    outcome event is emitted and None returned.
    """
    error = ImportFailedError(NOT_IMPORTING, at_bookmark=run.bookmark)
    if not run.prepared.rows or run.before is None:
        error.hint = (
            "the outcome is unknown: D1 no longer reports this import and the file's row "
            "counts are unknown; check the database before importing again"
        )
        run.fail(Stage.POLL, error, DatabaseState.UNKNOWN)
        return None
    start = time.monotonic()
    run.emit(StageStarted(Stage.VERIFY, "D1 reports no import: counting rows for the outcome"))
    give_up = start + run.options.busy_wait
    while True:
        try:
            after = count_once(run)
            break
        except ImportBusyError:
            if time.monotonic() >= give_up:
                error.hint = "D1 keeps refusing queries (an import runs); check the database later"
                run.fail(Stage.POLL, error, DatabaseState.UNKNOWN)
                return None
            try:
                answer = run.ask()
            except D1Error:
                run.pause(BUSY_PAUSE)
                continue
            if not answer.not_importing:
                return answer
            run.heard(answer)
            run.pause(BUSY_PAUSE)
        except D1Error as exc:
            error.hint = f"the rows could not be counted ({exc}); check the database"
            run.fail(Stage.POLL, error, DatabaseState.UNKNOWN)
            return None
    counts = table_counts(run.before, after, run.prepared.rows)
    seconds = time.monotonic() - start
    if all_match(counts):
        run.emit(StageFinished(Stage.VERIFY, seconds, "row counts match the file"))
        resolved(run, counts)
        return None
    if unchanged(counts):
        run.emit(StageFinished(Stage.VERIFY, seconds, "tables as before"))
        error.hint = "D1 dropped the import and the tables are as before: import again"
        run.fail(Stage.POLL, error, DatabaseState.UNCHANGED, counts)
        return None
    run.emit(StageFinished(Stage.VERIFY, seconds, "tables changed"))
    error.hint = f"the tables changed, not as the file says ({describe_counts(counts)})"
    run.fail(Stage.POLL, error, DatabaseState.CHANGED, counts)
    return None


def ride_out(run: ImportRun, error: D1Error) -> ImportAnswer | None:
    """Polls failed: keep trying while the API cannot be reached, for ``options.patience``.

    Within the poll window (``rollback_wait`` since D1 last answered) the import may still run,
    so each try is a poll, which keeps it alive. After the window D1 has committed or dropped
    it; then each try counts the rows (a busy answer means it still runs: poll again). Returns
    a poll answer to go on with, or None when the outcome was emitted.
    """
    if not isinstance(error, TRANSIENT):
        # Polls failed for several seconds: D1 may cancel the import; count to learn.
        settle(run, Stage.POLL, error, DatabaseState.UNKNOWN, announce=True)
        return None
    patience = run.options.patience
    began = time.monotonic()
    countable = bool(run.prepared.rows) and run.before is not None
    tries = 0
    while True:
        waited = time.monotonic() - began
        if waited >= patience:
            _out_of_patience(run, error, patience)
            return None
        tries += 1
        delay = min(UNREACHABLE_PAUSE, run.options.max_poll_gap / 2, patience - waited)
        reason = f"API unreachable, retrying ({waited:.0f} s of {patience:.0f} s)"
        run.emit(Retrying(Stage.POLL, tries, delay, reason))
        run.pause(delay)
        if run.stopped():
            stop_polling(run, ImportCancelledError("cancelled while importing"))
            return None
        in_window = time.monotonic() - run.heard_at < run.options.rollback_wait
        try:
            if in_window or not countable:
                return run.ask()
            after = count_once(run)
        except ImportBusyError:
            run.heard_at = time.monotonic()  # D1 answered: the import still runs
            continue
        except TRANSIENT as exc:
            error = exc
            continue
        except D1Error as exc:
            settle(run, Stage.POLL, exc, DatabaseState.UNKNOWN, announce=True)
            return None
        assert run.before is not None
        counts = table_counts(run.before, after, run.prepared.rows)
        _ended_unseen(run, error, counts)
        return None


def _ended_unseen(run: ImportRun, error: D1Error, counts: tuple[TableCount, ...]) -> None:
    """The service answers again; the counts say how the import ended while it did not."""
    words = describe_counts(counts)
    run.emit(StageStarted(Stage.VERIFY, "the API answers again: counting rows for the outcome"))
    if all_match(counts):
        run.emit(StageFinished(Stage.VERIFY, 0.0, "row counts match the file"))
        resolved(run, counts)
        return
    state = state_after_failure(counts, DatabaseState.UNKNOWN)
    run.emit(StageFinished(Stage.VERIFY, 0.0, state_words(state)))
    if state is DatabaseState.UNCHANGED:
        error.hint = (
            "D1 could not be polled and rolled the import back: the database is as it was; "
            "import again when the connection is stable"
        )
    else:
        error.hint = f"the tables changed, not as the file says ({words}); check the database"
    run.fail(Stage.POLL, error, state, counts)


def _out_of_patience(run: ImportRun, error: D1Error, patience: float) -> None:
    error.hint = (
        f"the API could not be reached for {patience:.0f} s (--patience); D1 finishes the "
        "import or rolls it back by itself: check the row counts before importing again "
        "(a rerun of this file checks them for you)"
    )
    run.fail(Stage.POLL, error, DatabaseState.UNKNOWN)


def stop_polling(run: ImportRun, error: D1Error) -> None:
    """Cancel or deadline: stop polling so D1 rolls back, wait, then check by count.

    If the counts show every row in, the import committed before it could be stopped: that is
    a success (``cancel_came_too_late``), with the bookmark that undoes it.
    """
    wait = run.options.rollback_wait
    run.emit(
        StageStarted(
            Stage.VERIFY,
            "stopped polling, so D1 rolls the import back after 15 s without a poll; "
            f"checking the tables in {wait:.0f} s",
        )
    )
    run.pause(wait)
    counts = counts_after(run) if run.prepared.rows else None
    if counts and all_match(counts):
        run.emit(StageFinished(Stage.VERIFY, wait, "the import completed: rows are in"))
        resolved(run, counts)
        return
    state = state_after_failure(counts, DatabaseState.UNKNOWN)
    if counts:
        run.emit(StageFinished(Stage.VERIFY, wait, state_words(state)))
    if state is DatabaseState.UNCHANGED:
        error.hint = "D1 rolled the import back: the database is as it was"
    elif state is DatabaseState.CHANGED and counts:
        error.hint = f"the database changed: {describe_counts(counts)}"
    else:
        error.hint = "D1 cancels an import that is not polled for 15 s; check the database"
    run.fail(Stage.POLL, error, state, counts or ())
