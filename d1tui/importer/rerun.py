"""Before a rerun sends anything: did an earlier, interrupted import of this file commit?

A run killed after its ingest leaves its record unfinished (``records.py``). D1 may have
committed that import anyway (it finishes what it was given unless 15 s pass without a poll),
so running the same file again would add every row twice. The counts tell: the tables as the
record found them before (not committed: go on), grown by exactly the file's rows (committed:
refuse without ``--force``), or anything else (unclear: refuse without ``--force``).
"""

from __future__ import annotations

from d1tui.errors import D1Error, EarlierImportError, ImportBusyError
from d1tui.events import DatabaseState, EarlierImport, Stage, TableCount
from d1tui.importer.context import ImportRun
from d1tui.importer.counts import all_match, count_once, describe_counts, table_counts, unchanged
from d1tui.importer.records import ImportRecord

COMMITTED = "committed"
NOT_COMMITTED = "not committed"
UNCLEAR = "unclear"


def when(iso: str) -> str:
    """``2026-12-02T10:41:07Z`` → ``2026-12-02 10:41:07 UTC``."""
    return iso.replace("T", " ").replace("Z", " UTC")


def grown(counts: tuple[TableCount, ...]) -> str:
    """``log: 0 → 60`` for each table, joined."""
    return "; ".join(f"{c.table}: {c.before:,} → {c.after:,}" for c in counts)


def verdict_of(
    record: ImportRecord, now: dict[str, int] | None
) -> tuple[str, tuple[TableCount, ...]]:
    """What the counts now say about the recorded import, and the counts."""
    before = record.before
    if now is None or before is None or not record.rows:
        return UNCLEAR, ()
    counts = table_counts(before, now, record.rows)
    if all_match(counts):
        return COMMITTED, counts
    if unchanged(counts):
        return NOT_COMMITTED, counts
    return UNCLEAR, counts


def check_earlier(run: ImportRun, record: ImportRecord) -> bool:
    """Judge the unfinished ``record``; True to go on, False when the refusal was emitted."""
    source = run.prepared.source or run.prepared.path.name
    earlier = f"an earlier import of {source} into {run.database_name}"
    started = when(record.started_at)
    try:
        now = count_once(run) if run.prepared.rows else None
    except ImportBusyError as exc:
        exc.hint = (
            f"{earlier} (started {started}) is still running; wait for it to end (D1 stops an "
            "import that is not polled for 15 s), then run again: nothing was sent"
        )
        run.fail(Stage.INIT, exc, DatabaseState.NOT_STARTED)
        return False
    except D1Error as exc:
        run.fail(Stage.INIT, exc, DatabaseState.NOT_STARTED)
        return False
    verdict, counts = verdict_of(record, now)
    forced = run.options.force and verdict != NOT_COMMITTED
    run.emit(
        EarlierImport(
            verdict=verdict,
            started_at=record.started_at,
            source=source,
            database=run.database_name,
            counts=counts,
            at_bookmark=record.bookmark,
            forced=forced,
        )
    )
    if verdict == NOT_COMMITTED or run.options.force:
        return True
    undo = (
        f"; Time Travel bookmark {record.bookmark} undoes the earlier import"
        if record.bookmark
        else ""
    )
    if verdict == COMMITTED:
        rows = sum(c.expected or 0 for c in counts)
        detail = f"{earlier} was interrupted at {started}; it committed {rows:,} rows"
        detail += f" ({grown(counts)})"
        hint = (
            "nothing was sent this time; run with --force to import the file again "
            f"(its rows would then be in twice){undo}"
        )
    else:
        why = (
            f"the tables changed since in a way its rows do not explain ({describe_counts(counts)})"
            if counts
            else "the file's row counts are unknown"
        )
        detail = (
            f"{earlier} was interrupted at {started} and {why}: whether it committed cannot be told"
        )
        hint = "check the tables; nothing was sent this time; run with --force to import again"
        hint += undo
    run.fail(Stage.INIT, EarlierImportError(detail, hint=hint), DatabaseState.NOT_STARTED, counts)
    return False
