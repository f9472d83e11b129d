"""Row counts before and after an import, and the verdicts told from them.

D1 reports many endings only vaguely (or not at all); ``COUNT(*)`` of the tables the file fills,
against the counts before and the rows sent, says what really happened.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from d1tui.api.models import ImportAnswer
from d1tui.errors import D1Error, ImportBusyError, VerificationError
from d1tui.events import (
    DatabaseState,
    ImportSucceeded,
    Stage,
    StageFinished,
    StageSkipped,
    StageStarted,
    TableCount,
)
from d1tui.importer.context import BUSY_PAUSE, ImportRun

# -- verdicts (pure) -------------------------------------------------------------------------


def table_counts(
    before: Mapping[str, int], after: Mapping[str, int], expected: Mapping[str, int]
) -> tuple[TableCount, ...]:
    """One ``TableCount`` per table the file fills."""
    return tuple(
        TableCount(table=t, before=before.get(t), after=after.get(t), expected=n)
        for t, n in expected.items()
    )


def unchanged(counts: tuple[TableCount, ...]) -> bool:
    """Every table holds as many rows as before."""
    return all(c.before is not None and c.after == c.before for c in counts)


def all_match(counts: tuple[TableCount, ...]) -> bool:
    """Every table grew by exactly the rows sent (and some rows were sent)."""
    return bool(counts) and all(c.ok for c in counts) and any(c.expected for c in counts)


def state_after_failure(
    counts: tuple[TableCount, ...] | None, presumed: DatabaseState
) -> DatabaseState:
    """What the counts say about a database after a failed import (``presumed`` if uncounted)."""
    if not counts:
        return presumed
    if unchanged(counts):
        return (
            DatabaseState.NOT_STARTED
            if presumed is DatabaseState.NOT_STARTED
            else DatabaseState.UNCHANGED
        )
    return DatabaseState.CHANGED


def describe_counts(counts: tuple[TableCount, ...]) -> str:
    """``t: +5 rows (10 expected)`` for each table, joined."""
    parts = []
    for c in counts:
        if c.before is None or c.after is None:
            parts.append(f"{c.table}: not counted")
            continue
        grown = c.after - c.before
        parts.append(f"{c.table}: {grown:+,} rows ({c.expected:,} expected)")
    return "; ".join(parts)


def state_words(state: DatabaseState) -> str:
    """A few words for the VERIFY stage after a failure."""
    if state in (DatabaseState.UNCHANGED, DatabaseState.NOT_STARTED):
        return "tables as before"
    if state is DatabaseState.CHANGED:
        return "tables changed"
    return state.value


def _num(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _int(value: object, default: int = 0) -> int:
    number = _num(value)
    return default if number is None else int(number)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def succeeded_from(
    answer: ImportAnswer | None,
    *,
    at_bookmark: str | None,
    queries_done: int | None,
    seconds: float,
    counts: tuple[TableCount, ...] = (),
    resolved_by_query: bool = False,
) -> ImportSucceeded:
    """``ImportSucceeded`` from a ``complete`` answer (or from counts when there is none)."""
    final = answer.final if answer is not None else {}
    meta = final.get("meta")
    meta = meta if isinstance(meta, dict) else {}
    size_after = _num(meta.get("size_after"))
    return ImportSucceeded(
        num_queries=_int(final.get("num_queries"), queries_done or 0),
        duration_ms=_num(meta.get("duration")) or 0.0,
        rows_read=_int(meta.get("rows_read")),
        rows_written=_int(meta.get("rows_written")),
        size_after=None if size_after is None else int(size_after),
        final_bookmark=_str(final.get("final_bookmark")),
        at_bookmark=at_bookmark,
        served_by=_str(meta.get("served_by")),
        served_by_region=_str(meta.get("served_by_region")),
        counts=counts,
        seconds=seconds,
        outcome_resolved_by_query=resolved_by_query,
    )


# -- counting ---------------------------------------------------------------------------------


def count_once(run: ImportRun) -> dict[str, int]:
    """``COUNT(*)`` of the file's tables now (0 for a missing table); raises D1Error."""
    return run.client.count_rows(run.database, list(run.prepared.rows))


def count_when_free(run: ImportRun) -> dict[str, int]:
    """Count, asking again while D1 says an import holds the database (``busy_wait``)."""
    give_up = time.monotonic() + run.options.busy_wait
    while True:
        try:
            return count_once(run)
        except ImportBusyError:
            if time.monotonic() >= give_up:
                raise
            run.pause(BUSY_PAUSE)


def counts_after(run: ImportRun) -> tuple[TableCount, ...] | None:
    """Before/after/expected per table; None when the database could not be counted."""
    if not run.prepared.rows or run.before is None:
        return None
    try:
        after = count_when_free(run)
    except D1Error:
        return None
    return table_counts(run.before, after, run.prepared.rows)


def resolved(run: ImportRun, counts: tuple[TableCount, ...]) -> None:
    """The counts show every row in although D1 never said ``complete``: a success."""
    run.succeed(
        succeeded_from(
            None,
            at_bookmark=run.bookmark,
            queries_done=run.queries_done,
            seconds=run.elapsed(),
            counts=counts,
            resolved_by_query=True,
        )
    )


def settle(
    run: ImportRun, stage: Stage, error: D1Error, presumed: DatabaseState, *, announce: bool
) -> None:
    """End in ``ImportFailed`` after checking the database by count where possible."""
    counts: tuple[TableCount, ...] = ()
    if run.prepared.rows and run.before is not None:
        start = time.monotonic()
        if announce:
            run.emit(StageStarted(Stage.VERIFY, "checking the database is as it was"))
        counts = counts_after(run) or ()
        if announce and counts:
            words = state_words(state_after_failure(counts, presumed))
            run.emit(StageFinished(Stage.VERIFY, time.monotonic() - start, words))
    state = state_after_failure(counts, presumed)
    if state is DatabaseState.CHANGED:
        restore = f" (Time Travel can restore bookmark {run.bookmark})" if run.bookmark else ""
        error.hint = f"the database changed: {describe_counts(counts)}; check it{restore}"
    run.fail(stage, error, state, counts)


# -- the VERIFY stage -------------------------------------------------------------------------


def verify(run: ImportRun, answer: ImportAnswer) -> None:
    """VERIFY after a ``complete`` answer: compare the counts with the rows sent; the outcome."""
    run.stage = Stage.VERIFY

    def outcome(counts: tuple[TableCount, ...] = ()) -> ImportSucceeded:
        return succeeded_from(
            answer,
            at_bookmark=run.bookmark,
            queries_done=run.queries_done,
            seconds=run.elapsed(),
            counts=counts,
        )

    if not run.options.verify:
        run.emit(StageSkipped(Stage.VERIFY, "verification is turned off"))
        return run.succeed(outcome())
    if not run.prepared.rows or run.before is None:
        run.emit(StageSkipped(Stage.VERIFY, "the file's row counts are unknown"))
        return run.succeed(outcome())
    start = time.monotonic()
    run.emit(StageStarted(Stage.VERIFY, "counting rows"))
    try:
        after = count_when_free(run)
    except D1Error as exc:
        error = VerificationError(
            f"D1 reports the import complete, but the rows could not be counted: {exc}"
        )
        return run.fail(Stage.VERIFY, error, DatabaseState.CHANGED)
    counts = table_counts(run.before, after, run.prepared.rows)
    words = describe_counts(counts)
    if all(c.ok for c in counts):
        run.emit(StageFinished(Stage.VERIFY, time.monotonic() - start, words))
        return run.succeed(outcome(counts))
    error = VerificationError(
        "D1 reports the import complete and the data was imported, but the row counts "
        f"do not add up: {words}"
    )
    run.fail(Stage.VERIFY, error, DatabaseState.CHANGED, counts)
