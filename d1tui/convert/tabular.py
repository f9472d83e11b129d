"""Rows of one CSV/TSV/JSON/NDJSON file → INSERTs for one table, types exact over the whole file.

Types of a new table are inferred from the first ``HEAD_ROWS`` rows and the file is converted
with them; a later value that does not fit (a word in an INTEGER column, a value in a column
empty so far, a new NDJSON key) stops the writing, the rest of the file is scanned for types
only, and the conversion starts again with the final types (at most two passes; a file whose
head is representative is read once). UTF-8 CSV/NDJSON files go through the block-wise
converters (``fastcsv``/``fastndjson``) when every column's kind is in ``FAST_KINDS``; they call
back into the exact conversion here for anything unusual and write the same bytes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from itertools import chain, islice
from typing import Any, TypeVar

from d1tui.convert.detect import FileFacts, Format, ReadOptions
from d1tui.convert.fast import csv_convert as fastcsv
from d1tui.convert.fast import ndjson_convert as fastndjson
from d1tui.convert.fast.pack import FastPathUnsupportedError
from d1tui.convert.fast.pool import WorkerPool, spawn_pool, worker_count
from d1tui.convert.readers.by_format import open_rows
from d1tui.convert.readers.rowsource import RowSource
from d1tui.convert.schema import INTEGER, REAL, TEXT, TYPE_NAMES, ColumnStats
from d1tui.convert.sql.inserts import InsertWriter
from d1tui.convert.sqlfile import PROGRESS_SECONDS, Progress, SqlFile
from d1tui.convert.target import Target
from d1tui.convert.values import Plan, WidenError, existing_table_plan, infer, new_table_plan
from d1tui.errors import BadInputError, Location
from d1tui.events import PrepareProgress

HEAD_ROWS = 1000
# Kinds the block-wise converters render exactly as ``convert.Plan.coerce_text`` does (they
# refuse, and hand to it, any value ``schema.classify_text`` would not give that kind).
FAST_KINDS: frozenset[int | None] = frozenset({INTEGER, REAL, TEXT})
FAST_NDJSON = True  # ``fastndjson`` refuses objects with unplanned keys: the exact path widens
_CHECK_EVERY = 512  # rows between cancel checks and progress updates
_LINED = (Format.CSV, Format.TSV)  # formats whose column names are on line 1
RESERVED_PREFIXES = ("_cf_", "sqlite_")  # table names D1 refuses to create
T = TypeVar("T")


def no_columns_error(facts: FileFacts) -> BadInputError:
    """The error for a file that gives a new table no columns (blank lines, ``[]``)."""
    return BadInputError(
        "no columns: the file is empty or holds no header and no rows",
        where=Location(facts.path),
        hint="check it is the file you meant: a CSV needs a header row, "
        "a JSON file an array of objects",
    )


def write_table_rows(
    facts: FileFacts,
    options: ReadOptions,
    target: Target,
    out: SqlFile,
    *,
    progress: Progress,
    stop: threading.Event,
) -> tuple[dict[str, int], tuple[str, ...]]:
    """Rows of a CSV/TSV/JSON/NDJSON file into one table, restarting once if types widen."""
    if target.table.lower().startswith(RESERVED_PREFIXES):
        raise BadInputError(
            f"the table name {target.table!r} is reserved: D1 keeps _cf_* and sqlite_* for itself",
            where=Location(facts.path),
            hint="pick another table name",
        )
    # workers start now, while the head of the file is read and its types inferred
    renderer = (
        "d1tui.convert.fast.ndjson_convert"
        if facts.format == Format.NDJSON
        else "d1tui.convert.fast.csv_block"
    )
    spare = spawn_pool(worker_count(facts.size, None), (renderer,)) if _parallel(facts) else None
    try:
        return _write_rows(facts, options, target, out, spare, progress=progress, stop=stop)
    finally:
        if spare is not None:
            spare.close()  # used or not: closing twice is harmless


def _write_rows(
    facts: FileFacts,
    options: ReadOptions,
    target: Target,
    out: SqlFile,
    spare: WorkerPool | None,
    *,
    progress: Progress,
    stop: threading.Event,
) -> tuple[dict[str, int], tuple[str, ...]]:
    stats: tuple[list[str], list[ColumnStats]] | None = None
    for _attempt in range(3):
        with open_rows(facts, options) as source:
            head = list(islice(source.rows, HEAD_ROWS))
            created: tuple[str, ...] = ()
            try:
                plan = make_plan(source, [row for _, row in head], target, options, stats)
                if target.create and plan.schema is not None:
                    if not plan.schema.columns:
                        raise no_columns_error(facts)
                    out.statement(plan.schema.create_sql())
                    created = (plan.table,)
            except BadInputError as exc:  # the column names are at fault: say which file
                if exc.where is None:
                    exc.where = Location(facts.path, line=1 if facts.format in _LINED else None)
                raise
            remaining = chain(head, source.rows)
            spawned, spare = spare, None  # for the first attempt only: the converter closes it
            try:
                rows = _fast(
                    facts,
                    options,
                    source,
                    plan,
                    created=created,
                    out=out,
                    progress=progress,
                    stop=stop,
                    spawned=spawned,
                )
                if rows is None:
                    rows = _convert(
                        facts, source, plan, remaining, out=out, progress=progress, stop=stop
                    )
            except WidenError as widen:
                stats = _rescan(source, plan, widen, remaining, stop)
                out.reset()
                continue
            return {plan.table: rows}, created
    raise BadInputError("the file changed while it was read", where=Location(facts.path))


def _utf8(facts: FileFacts) -> bool:
    """Whether the file is UTF-8, the only encoding the block-wise converters read."""
    return (facts.encoding or "utf-8") in ("utf-8", "utf-8-sig")


def _parallel(facts: FileFacts) -> bool:
    """Whether a block-wise converter may take the file (then it may want worker processes)."""
    return facts.format in (*_LINED, Format.NDJSON) and _utf8(facts)


def _fast_types(facts: FileFacts, plan: Plan) -> list[str] | None:
    """Column types for a block-wise converter, or None when only the exact path applies."""
    if plan.schema is None or not _utf8(facts):
        return None
    if any(k not in FAST_KINDS for k in plan.kinds):
        return None
    return [TYPE_NAMES[k] for k in plan.kinds if k is not None]


def _fast(
    facts: FileFacts,
    options: ReadOptions,
    source: RowSource,
    plan: Plan,
    *,
    created: tuple[str, ...],
    out: SqlFile,
    progress: Progress,
    stop: threading.Event,
    spawned: WorkerPool | None,
) -> int | None:
    """Convert with ``fastcsv``/``fastndjson`` when they apply; None when the exact path must."""
    types = _fast_types(facts, plan)
    if types is None:
        return None
    size = facts.size

    def report(read: int, rows: int, statements: int, written: int) -> None:
        progress(PrepareProgress(read, size, rows, out.statements + statements, out.size + written))

    common: dict[str, Any] = {
        "table": plan.table,
        "columns": list(plan.columns),
        "column_types": types,
        "key_column": plan.key_column,
        "hasher": out.md5,
        "progress": report,
        "cancel": stop,
        "spawned": spawned,
    }
    try:
        if facts.format in (Format.CSV, Format.TSV):
            stats = fastcsv.convert_csv(
                facts.path,
                out.file.write,
                select=list(plan.fields),
                width=len(source.columns),
                delimiter=facts.delimiter or ",",
                quotechar=options.quotechar or '"',
                has_header=bool(facts.has_header),
                coerce=plan.coerce_text,
                **common,
            )
        elif FAST_NDJSON and facts.format == Format.NDJSON and plan.keys == plan.columns:
            stats = fastndjson.convert_ndjson(
                facts.path, out.file.write, coerce=plan.coerce_value, **common
            )
        else:
            return None
    except FastPathUnsupportedError:
        out.reset()
        if plan.schema is not None and plan.table in created:
            out.statement(plan.schema.create_sql())
        return None
    out.size += stats.bytes_written
    out.statements += stats.statements
    progress(PrepareProgress(size, size, stats.rows, out.statements, out.size))
    return stats.rows


def make_plan(
    source: RowSource,
    head: list[Any],
    target: Target,
    options: ReadOptions,
    stats: tuple[list[str], list[ColumnStats]] | None = None,
) -> Plan:
    """The conversion plan for a source: onto the existing table, or a new one inferred."""
    if target.existing is not None:
        return existing_table_plan(source.columns, target.existing)
    names, col_stats = stats or infer(source.columns, head, source.typed)
    plan, warnings = new_table_plan(
        target.table, names, col_stats, types=options.types, pk=options.pk
    )
    source.warnings.extend(w for w in warnings if w not in source.warnings)
    return plan


def _rescan(
    source: RowSource,
    plan: Plan,
    widen: WidenError,
    remaining: Iterator[tuple[int | None, Any]],
    stop: threading.Event,
) -> tuple[list[str], list[ColumnStats]]:
    """Final column stats: the plan's kinds so far, widened by the rest of the file."""
    row = widen.args[1] if len(widen.args) == 2 else None
    rest = chain([row] if row is not None else [], (r for _, r in remaining))
    names, stats = infer(list(plan.keys), _stoppable(rest, stop), source.typed)
    for st, kind in zip(stats, plan.kinds, strict=False):
        if kind is not None and kind > st.kind:
            st.kind = kind
    return names, stats


def _stoppable(rows: Iterator[T], stop: threading.Event) -> Iterator[T]:
    for n, row in enumerate(rows):
        if n % _CHECK_EVERY == 0 and stop.is_set():
            raise InterruptedError
        yield row


def _convert(
    facts: FileFacts,
    source: RowSource,
    plan: Plan,
    rows: Iterator[tuple[int | None, Any]],
    *,
    out: SqlFile,
    progress: Progress,
    stop: threading.Event,
) -> int:
    """Write every row through ``InsertWriter``; return the row count."""
    writer = InsertWriter(out.write, plan.table, plan.columns, key_column=plan.key_column)
    convert = plan.object_row if source.typed else plan.text_row
    total = facts.size
    last = time.monotonic()
    number = 0
    for number, (line, row) in enumerate(rows, start=1):
        try:
            values = convert(row)
            writer.add_row(values)
        except WidenError:
            raise WidenError(number, row) from None
        except BadInputError as exc:
            if exc.where is None:
                exc.where = Location(facts.path, line=line, row=number)
            raise
        if number % _CHECK_EVERY == 0:
            if stop.is_set():
                raise InterruptedError
            now = time.monotonic()
            if now - last >= PROGRESS_SECONDS:
                last = now
                progress(
                    PrepareProgress(
                        source.position(),
                        total,
                        number,
                        out.statements + writer.statements,
                        out.size,
                    )
                )
    writer.close()
    out.statements += writer.statements
    progress(PrepareProgress(total, total, number, out.statements, out.size))
    return number
