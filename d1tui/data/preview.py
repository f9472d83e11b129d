"""A look at what an import will do before it runs: first rows, schema, warnings, first SQL.

Only the head of a file is read (``prepare.HEAD_ROWS`` rows for the types, ``limit`` shown);
the import itself checks every row and may widen a type the head did not show.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from d1tui.data.convert import WidenError
from d1tui.data.fake import fake_rows
from d1tui.data.formats import FileFacts, Format, ReadOptions, detect
from d1tui.data.readers import open_rows
from d1tui.data.schema import TARGET_D1_TABLE, Column, ColumnMapping, TableSchema
from d1tui.data.sqlgen import InsertWriter
from d1tui.data.sqlite_reader import sqlite_tables
from d1tui.data.table_rows import HEAD_ROWS, make_plan
from d1tui.data.target import FakeSpec, Target
from d1tui.humanize import plural

SQL_SHOWN = 2000  # characters of the first statement shown


@dataclass(frozen=True)
class Preview:
    """What the preview screen shows."""

    facts: FileFacts | None
    schema: TableSchema
    rows: list[tuple[object, ...]]
    warnings: list[str]
    mapping: ColumnMapping | None
    first_sql: str


def _shorten(sql: str) -> str:
    return sql if len(sql) <= SQL_SHOWN else sql[:SQL_SHOWN] + f"… ({len(sql):,} characters)"


def _first_sql(
    schema: TableSchema,
    columns: list[str],
    rows: list[tuple[object, ...]],
    *,
    create: bool,
    key: str | None,
) -> str:
    statements: list[bytes] = []
    writer = InsertWriter(statements.append, schema.name, columns, key_column=key)
    for row in rows:
        writer.add_row(row)
    writer.close()
    parts = [schema.create_sql()] if create else []
    if statements:
        parts.append(_shorten(statements[0].decode("utf-8").rstrip("\n")))
    return "\n".join(parts)


def preview_file(path: Path, options: ReadOptions, target: Target, limit: int = 50) -> Preview:
    """Preview ``path`` going into ``target``; reads only the head of the file."""
    facts = detect(path, options)
    if facts.format == Format.SQLITE:
        return _preview_sqlite(facts)
    if facts.format == Format.SQL:
        return _preview_sql(facts, target)
    with open_rows(facts, options) as source:
        head = list(islice(source.rows, HEAD_ROWS))
        plan = make_plan(source, [row for _, row in head], target, options)
        rows: list[tuple[object, ...]] = []
        warnings = list(source.warnings)
        for _line, row in head[:limit]:
            try:
                rows.append(tuple(plan.row(row)))
            except WidenError:  # a JSON key beyond the head's: shown by the import
                warnings.append("a row has keys the first rows do not; the import adds them")
                break
    if plan.mapping is not None:
        warnings.extend(plan.mapping.warnings)
    if len(head) == HEAD_ROWS:
        warnings.append(f"types are from the first {HEAD_ROWS:,} rows; the import checks every row")
    schema = plan.schema or target.existing or TableSchema(target.table, ())
    create = target.create and plan.schema is not None
    first = _first_sql(schema, list(plan.columns), rows, create=create, key=plan.key_column)
    return Preview(facts, schema, rows, warnings, plan.mapping, first)


def preview_fake(spec: FakeSpec, target: Target, limit: int = 50) -> Preview:
    """Preview fake rows: the same seed gives the same first rows as the import."""
    schema = target.existing or TableSchema(target.table, TARGET_D1_TABLE.columns)
    n = min(limit, spec.rows)
    rows = list(
        fake_rows(schema, n, seed=spec.seed, locale=spec.locale, start_ids=target.current_max_ids)
    )
    first = _first_sql(schema, schema.names, rows, create=target.create, key=schema.key_column)
    return Preview(None, schema, rows, [], None, first)


def _preview_sqlite(facts: FileFacts) -> Preview:
    tables = sqlite_tables(facts.path)
    if not tables:
        return Preview(facts, TableSchema("", ()), [], ["the database has no tables"], None, "")
    first = tables[0]
    schema = TableSchema(first.name, tuple(Column(c, "") for c in first.columns))
    names = ", ".join(t.name for t in tables)
    return Preview(facts, schema, [], [f"{plural(len(tables), 'table')}: {names}"], None, first.sql)


def _preview_sql(facts: FileFacts, target: Target) -> Preview:
    with facts.path.open("rb") as f:
        head = f.read(SQL_SHOWN * 2).decode(facts.encoding or "utf-8", errors="replace")
    note = "an SQL file is imported as it is, cleaned for D1 (BEGIN/COMMIT, _cf_KV, PRAGMAs)"
    return Preview(facts, TableSchema(target.table, ()), [], [note], None, _shorten(head))
