"""Source file or fake rows → a finished ``.sql`` file with its md5 and counts (``PreparedImport``).

The work runs in a thread; the generator yields ``PrepareProgress`` about every 0.1 s and ends
with the ``PreparedImport``. Bad input raises ``BadInputError`` (with file, line, column), a set
``cancel`` event raises ``ImportCancelledError``; either way the partial file is deleted.

Types of a new table are exact over the whole file: they are inferred from the first
``HEAD_ROWS`` rows and the file is converted with them; a later value that does not fit (a word
in an INTEGER column, a value in a column empty so far, a new NDJSON key) stops the writing, the
rest of the file is scanned for types only, and the conversion starts again with the final types
(at most two passes; a file whose head is representative is read once). CSV files in UTF-8 go
through the block-wise converter (``fastcsv``) when every column has an inferred INTEGER or TEXT
type; it calls back into this exact path for anything unusual and produces the same bytes.
``PRAGMA defer_foreign_keys`` is never needed for one table of rows (SQL dumps and SQLite files
bring their own). Every statement counts towards ``statements``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import Any, TypeVar

from d1tui.d1.errors import BadInputError, ImportCancelledError, Location
from d1tui.d1.events import PrepareProgress
from d1tui.d1.prepared import PreparedImport
from d1tui.data.convert import Plan, WidenError, existing_table_plan, infer, new_table_plan
from d1tui.data.fake import write_fake_sql
from d1tui.data.formats import FileFacts, Format, ReadOptions, detect
from d1tui.data.readers import open_rows
from d1tui.data.rowsource import RowSource
from d1tui.data.schema import TARGET_D1_TABLE, ColumnStats, TableSchema
from d1tui.data.sqldump import clean_dump
from d1tui.data.sqlgen import InsertWriter
from d1tui.data.sqlite_reader import convert_sqlite

HEAD_ROWS = 1000
PROGRESS_SECONDS = 0.1
_CHECK_EVERY = 512  # rows between cancel checks and progress updates
T = TypeVar("T")
Progress = Callable[[PrepareProgress], None]


@dataclass(frozen=True)
class Target:
    """Where rows go: a table, whether to create it, and its schema when it exists already."""

    table: str
    create: bool
    existing: TableSchema | None = None
    current_max_ids: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class FakeSpec:
    """How many fake rows, from which seed, in which Faker locale."""

    rows: int
    seed: int
    locale: str = "en_US"


class _Output:
    """The ``.sql`` file being written, hashed as it goes; deleted unless finished."""

    def __init__(self, stem: str, out_dir: Path | None, out_path: Path | None) -> None:
        if out_path is not None:
            self.path = out_path
            self.file = out_path.open("wb")
        else:
            fd, name = tempfile.mkstemp(prefix=f"{stem}-", suffix=".sql", dir=out_dir)
            self.path = Path(name)
            self.file = os.fdopen(fd, "wb")
        self.md5: Any = hashlib.md5()
        self.size = 0
        self.statements = 0

    def write(self, data: bytes) -> None:
        self.file.write(data)
        self.md5.update(data)
        self.size += len(data)

    def statement(self, sql: str) -> None:
        self.write(sql.encode("utf-8") + b"\n")
        self.statements += 1

    def reset(self) -> None:
        self.file.seek(0)
        self.file.truncate()
        self.md5 = hashlib.md5()
        self.size = self.statements = 0

    def discard(self) -> None:
        self.file.close()
        self.path.unlink(missing_ok=True)


@dataclass
class _Result:
    rows: dict[str, int]
    created: tuple[str, ...]
    md5: str | None = None  # set when a converter hashed the file itself


def _in_thread(
    work: Callable[[Progress, threading.Event], T], cancel: threading.Event | None
) -> Generator[PrepareProgress, None, T]:
    """Run ``work`` in a thread, yielding its latest progress at most every 0.1 s."""
    stop = threading.Event()
    latest: list[PrepareProgress | None] = [None]
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            outcome["value"] = work(_setter(latest), stop)
        except BaseException as exc:  # handed to the consumer below
            outcome["error"] = exc
        finally:
            done.set()

    thread = threading.Thread(target=run, name="d1tui-prepare", daemon=True)
    thread.start()
    shown: PrepareProgress | None = None
    try:
        while not done.wait(PROGRESS_SECONDS):
            if cancel is not None and cancel.is_set():
                stop.set()
            if latest[0] is not None and latest[0] is not shown:
                shown = latest[0]
                yield shown
    finally:
        stop.set()  # a consumer that stops early stops the work too
        thread.join()
    if "error" in outcome:
        error = outcome["error"]
        if isinstance(error, InterruptedError):
            raise ImportCancelledError("cancelled while preparing the SQL file") from None
        raise error
    value: T = outcome["value"]
    return value


def _setter(slot: list[PrepareProgress | None]) -> Progress:
    def put(p: PrepareProgress) -> None:
        slot[0] = p

    return put


def _finish(out: _Output, result: _Result, source: str) -> PreparedImport:
    out.file.close()
    md5 = result.md5 or out.md5.hexdigest()
    return PreparedImport(
        path=out.path,
        md5=md5,
        size=out.path.stat().st_size,
        statements=out.statements,
        rows=result.rows,
        source=source,
        created_tables=result.created,
        temporary=True,
    )


def _run(
    work: Callable[[_Output, Progress, threading.Event], _Result],
    *,
    stem: str,
    source: str,
    out_dir: Path | None,
    out_path: Path | None,
    cancel: threading.Event | None,
) -> Iterator[PrepareProgress | PreparedImport]:
    out = _Output(stem, out_dir, out_path)
    try:
        result = yield from _in_thread(lambda p, s: work(out, p, s), cancel)
        prepared = _finish(out, result, source)
    except BaseException:
        out.discard()
        raise
    yield prepared


def prepare_file(
    path: Path,
    options: ReadOptions,
    target: Target,
    *,
    out_dir: Path | None = None,
    cancel: threading.Event | None = None,
    out_path: Path | None = None,
) -> Iterator[PrepareProgress | PreparedImport]:
    """Convert ``path`` to SQL for ``target``; the last item yielded is the ``PreparedImport``.

    ``out_path`` writes exactly there instead of a new file in ``out_dir`` (or the temp dir).
    """
    facts = detect(path, options)

    def work(out: _Output, progress: Progress, stop: threading.Event) -> _Result:
        if facts.format == Format.SQL:
            return _dump(facts, out, progress, stop)
        if facts.format == Format.SQLITE:
            return _sqlite(facts, options, out, progress, stop)
        return _rows(facts, options, target, out, progress=progress, stop=stop)

    return _run(
        work, stem=path.stem, source=path.name, out_dir=out_dir, out_path=out_path, cancel=cancel
    )


def prepare_fake(
    spec: FakeSpec,
    target: Target,
    *,
    out_dir: Path | None = None,
    cancel: threading.Event | None = None,
    out_path: Path | None = None,
) -> Iterator[PrepareProgress | PreparedImport]:
    """Write ``spec.rows`` fake rows for ``target`` (its existing schema or the tutorial table)."""
    schema = target.existing or TableSchema(target.table, TARGET_D1_TABLE.columns)

    def work(out: _Output, progress: Progress, stop: threading.Event) -> _Result:
        created: tuple[str, ...] = ()
        if target.create and target.existing is None:
            out.statement(schema.create_sql())
            created = (schema.name,)
        report = write_fake_sql(
            schema,
            spec.rows,
            out.write,
            seed=spec.seed,
            locale=spec.locale,
            start_ids=target.current_max_ids,
            progress=progress,
            cancel=stop,
        )
        out.statements += report.statements
        return _Result({schema.name: report.rows}, created)

    return _run(
        work,
        stem=f"fake-{schema.name}",
        source=f"{spec.rows:,} fake rows",
        out_dir=out_dir,
        out_path=out_path,
        cancel=cancel,
    )


def _dump(facts: FileFacts, out: _Output, progress: Progress, stop: threading.Event) -> _Result:
    report = clean_dump(facts.path, out.write, progress=progress, cancel=stop)
    out.statements += report.statements
    rows = report.rows if report.rows_known else {}
    return _Result(dict(rows), tuple(report.created_tables))


def _sqlite(
    facts: FileFacts,
    options: ReadOptions,
    out: _Output,
    progress: Progress,
    stop: threading.Event,
) -> _Result:
    report = convert_sqlite(
        facts.path, out.write, tables=options.tables or None, progress=progress, cancel=stop
    )
    out.statements += report.statements
    return _Result(dict(report.rows), tuple(report.created_tables))


def _rows(
    facts: FileFacts,
    options: ReadOptions,
    target: Target,
    out: _Output,
    *,
    progress: Progress,
    stop: threading.Event,
) -> _Result:
    """Rows of a CSV/TSV/JSON/NDJSON file into one table, restarting once if types widen."""
    stats: tuple[list[str], list[ColumnStats]] | None = None
    for _attempt in range(3):
        with open_rows(facts, options) as source:
            head = list(islice(source.rows, HEAD_ROWS))
            plan = make_plan(source, [row for _, row in head], target, options, stats)
            created: tuple[str, ...] = ()
            if target.create and plan.schema is not None:
                out.statement(plan.schema.create_sql())
                created = (plan.table,)
            remaining = chain(head, source.rows)
            try:
                rows = _convert(
                    facts, source, plan, remaining, out=out, progress=progress, stop=stop
                )
            except WidenError as widen:
                stats = _rescan(source, plan, widen, remaining, stop)
                out.reset()
                continue
            return _Result({plan.table: rows}, created, out.md5.hexdigest())
    raise BadInputError("the file changed while it was read", where=Location(facts.path))


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
    out: _Output,
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
