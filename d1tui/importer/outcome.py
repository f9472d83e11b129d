"""How an import ended, told from the service's answer and from row counts before and after."""

from __future__ import annotations

from collections.abc import Mapping

from d1tui.api.models import ImportAnswer
from d1tui.events import DatabaseState, ImportSucceeded, TableCount


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


def state_words(state: DatabaseState) -> str:
    """A few words for the VERIFY stage after a failure."""
    if state in (DatabaseState.UNCHANGED, DatabaseState.NOT_STARTED):
        return "tables as before"
    if state is DatabaseState.CHANGED:
        return "tables changed"
    return state.value
