"""Endings that the import service does not report itself, told from row counts.

* ``Not currently importing anything.``: the outcome is unknown until the tables are counted.
* Cancel or deadline after ingest: stop polling, let D1 roll back (15 s without a poll),
  then count to confirm.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from d1tui.api.models import NOT_IMPORTING, ImportAnswer
from d1tui.errors import D1Error, ImportBusyError, ImportFailedError
from d1tui.events import DatabaseState, Stage, StageFinished, StageStarted
from d1tui.importer.outcome import (
    all_match,
    describe_counts,
    state_after_failure,
    state_words,
    succeeded_from,
    table_counts,
    unchanged,
)

if TYPE_CHECKING:
    from d1tui.importer.engine import Engine

_BUSY_PAUSE = 0.25


def resolve_unknown(engine: Engine) -> ImportAnswer | None:
    """Count rows to learn how an import D1 no longer reports ended.

    While D1 refuses queries because an import still runs, poll again: that keeps the import
    alive and may bring a real answer, which is returned to go on polling with. Otherwise the
    outcome event is emitted and None returned.
    """
    error = ImportFailedError(NOT_IMPORTING, at_bookmark=engine.bookmark)
    before = engine.verifier.before
    if not engine.prepared.rows or before is None:
        error.hint = (
            "the outcome is unknown: D1 no longer reports this import and the file's row "
            "counts are unknown; check the database before importing again"
        )
        engine.fail(Stage.POLL, error, DatabaseState.UNKNOWN)
        return None
    start = time.monotonic()
    engine.emit(StageStarted(Stage.VERIFY, "D1 reports no import: counting rows for the outcome"))
    give_up = start + engine.options.busy_wait
    while True:
        try:
            after = engine.verifier.count_once()
            break
        except ImportBusyError:
            if time.monotonic() >= give_up:
                error.hint = "D1 keeps refusing queries (an import runs); check the database later"
                engine.fail(Stage.POLL, error, DatabaseState.UNKNOWN)
                return None
            try:
                answer = engine.ask()
            except D1Error:
                engine.pause(_BUSY_PAUSE)
                continue
            if not answer.not_importing:
                return answer
            engine.record(answer)
            engine.pause(_BUSY_PAUSE)
        except D1Error as exc:
            error.hint = f"the rows could not be counted ({exc}); check the database"
            engine.fail(Stage.POLL, error, DatabaseState.UNKNOWN)
            return None
    counts = table_counts(before, after, engine.prepared.rows)
    seconds = time.monotonic() - start
    if all_match(counts):
        engine.emit(StageFinished(Stage.VERIFY, seconds, "row counts match the file"))
        engine.emit(
            succeeded_from(
                None,
                at_bookmark=engine.bookmark,
                queries_done=engine.queries_done,
                seconds=engine.elapsed(),
                counts=counts,
                resolved_by_query=True,
            )
        )
        return None
    if unchanged(counts):
        engine.emit(StageFinished(Stage.VERIFY, seconds, "tables as before"))
        error.hint = "D1 dropped the import and the tables are as before: import again"
        engine.fail(Stage.POLL, error, DatabaseState.UNCHANGED, counts)
        return None
    engine.emit(StageFinished(Stage.VERIFY, seconds, "tables changed"))
    error.hint = f"the tables changed, not as the file says ({describe_counts(counts)})"
    engine.fail(Stage.POLL, error, DatabaseState.CHANGED, counts)
    return None


def stop_polling(engine: Engine, error: D1Error) -> None:
    """Cancel or deadline: stop polling so D1 rolls back, wait, then check by count."""
    wait = engine.options.rollback_wait
    engine.emit(
        StageStarted(
            Stage.VERIFY,
            "stopped polling, so D1 rolls the import back after 15 s without a poll; "
            f"checking the tables in {wait:.0f} s",
        )
    )
    engine.pause(wait)
    counts = engine.verifier.counts_after() if engine.prepared.rows else None
    state = state_after_failure(counts, DatabaseState.UNKNOWN)
    if counts:
        engine.emit(StageFinished(Stage.VERIFY, wait, state_words(state)))
    if state is DatabaseState.UNCHANGED:
        error.hint = "D1 rolled the import back: the database is as it was"
    elif state is DatabaseState.CHANGED and counts:
        late = " (the import completed before it could be stopped)" if all_match(counts) else ""
        error.hint = f"the database changed{late}: {describe_counts(counts)}"
    else:
        error.hint = "D1 cancels an import that is not polled for 15 s; check the database"
    engine.fail(Stage.POLL, error, state, counts or ())
