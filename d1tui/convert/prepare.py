"""Source file or fake rows → a finished ``.sql`` file with its md5 and counts (``PreparedImport``).

The work runs in a thread; the generator yields ``PrepareProgress`` about every 0.1 s and ends
with the ``PreparedImport``. Bad input raises ``BadInputError`` (with file, line, column), a set
``cancel`` event raises ``ImportCancelledError``; either way the partial file is deleted.

Rows of CSV/TSV/JSON/NDJSON files go through ``table_rows`` (types exact over the whole file);
SQL dumps through ``sqldump``, SQLite files through ``sqlite_reader``, fake rows through ``fake``.
``PRAGMA defer_foreign_keys`` is never needed for one table of rows (SQL dumps and SQLite files
bring their own). Every statement counts towards ``statements``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from d1tui.convert.detect import FileFacts, Format, ReadOptions, detect
from d1tui.convert.fake.rows import write_fake_sql
from d1tui.convert.readers.sqlite_file import convert_sqlite
from d1tui.convert.schema import TARGET_D1_TABLE, TableSchema
from d1tui.convert.sql.dump import clean_dump
from d1tui.convert.sqlfile import Progress, SqlFile, run_in_thread
from d1tui.convert.tabular import HEAD_ROWS, make_plan, write_table_rows
from d1tui.convert.target import FakeSpec, Target
from d1tui.errors import BadInputError, Location
from d1tui.events import PrepareProgress
from d1tui.importer.prepared import PreparedImport

__all__ = ["HEAD_ROWS", "FakeSpec", "Target", "make_plan", "prepare_fake", "prepare_file"]


@dataclass
class _Result:
    rows: dict[str, int]
    created: tuple[str, ...]


def _finish(out: SqlFile, result: _Result, source: str, origin: Path | None) -> PreparedImport:
    out.file.close()
    md5 = str(out.md5.hexdigest())
    return PreparedImport(
        path=out.path,
        md5=md5,
        size=out.path.stat().st_size,
        statements=out.statements,
        rows=result.rows,
        source=source,
        created_tables=result.created,
        temporary=out.temporary,
        origin=origin,
    )


def _run(
    work: Callable[[SqlFile, Progress, threading.Event], _Result],
    *,
    stem: str,
    source: str,
    origin: Path | None = None,
    out_dir: Path | None,
    out_path: Path | None,
    cancel: threading.Event | None,
) -> Iterator[PrepareProgress | PreparedImport]:
    out = SqlFile(stem, out_dir, out_path)
    try:
        result = yield from run_in_thread(lambda p, s: work(out, p, s), cancel)
        prepared = _finish(out, result, source, origin)
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

    def work(out: SqlFile, progress: Progress, stop: threading.Event) -> _Result:
        try:
            if facts.format in (Format.SQL, Format.SQLITE):
                if facts.format == Format.SQL:
                    dumped = _dump(facts, out, progress, stop)
                else:
                    dumped = _sqlite(facts, options, out, progress, stop)
                if out.statements == 0:  # else the import "succeeds" having done nothing
                    raise BadInputError(
                        "nothing to import: no SQL statements are left",
                        hint="the file holds only comments, or only tables D1 keeps for itself "
                        "(_cf_*, sqlite_*); check it is the file you meant",
                    )
                return dumped
            rows, created = write_table_rows(
                facts, options, target, out, progress=progress, stop=stop
            )
        except BadInputError as exc:  # every bad-input error names at least the file
            if exc.where is None:
                exc.where = Location(path)
            raise
        return _Result(rows, created)

    return _run(
        work,
        stem=path.stem,
        source=path.name,
        origin=path.resolve(),  # an import's record names it, so a rerun is recognised
        out_dir=out_dir,
        out_path=out_path,
        cancel=cancel,
    )


def prepare_fake(
    spec: FakeSpec,
    target: Target,
    *,
    out_dir: Path | None = None,
    cancel: threading.Event | None = None,
    out_path: Path | None = None,
) -> Iterator[PrepareProgress | PreparedImport]:
    """Write ``spec.rows`` fake rows for ``target`` (its existing schema or the tutorial table).

    ``target.create`` puts ``CREATE TABLE IF NOT EXISTS`` first even when ``target.existing``
    gives the schema (fake rows for a table described elsewhere, e.g. another SQLite file).
    """
    schema = target.existing or TableSchema(target.table, TARGET_D1_TABLE.columns)

    def work(out: SqlFile, progress: Progress, stop: threading.Event) -> _Result:
        created: tuple[str, ...] = ()
        if target.create:
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


def _dump(facts: FileFacts, out: SqlFile, progress: Progress, stop: threading.Event) -> _Result:
    report = clean_dump(facts.path, out.write, progress=progress, cancel=stop)
    out.statements += report.statements
    rows = report.rows if report.rows_known else {}
    return _Result(dict(rows), tuple(report.created_tables))


def _sqlite(
    facts: FileFacts,
    options: ReadOptions,
    out: SqlFile,
    progress: Progress,
    stop: threading.Event,
) -> _Result:
    report = convert_sqlite(
        facts.path, out.write, tables=options.tables or None, progress=progress, cancel=stop
    )
    out.statements += report.statements
    return _Result(dict(report.rows), tuple(report.created_tables))
