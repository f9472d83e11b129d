"""The table rows go to, resolved once for ``import``, ``fake`` and the TUI.

``default_table_name`` names a table after a file; ``resolve_target`` looks the table up in the
database (case-insensitively, as SQLite compares names) and returns the data layer's ``Target``:
the live schema and its integer key's current maximum for an existing table, a table to create
otherwise (or a ``BadInputError`` when creating was not asked for).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from d1tui.api.client import D1Client, TableInfo
from d1tui.convert.schema import Column, TableSchema
from d1tui.convert.sql.inserts import quote_identifier
from d1tui.convert.target import Target
from d1tui.errors import BadInputError, Location

FALLBACK_TABLE = "imported"


def default_table_name(path: Path) -> str:
    """A table name from a file name: ``Sales 2024.csv`` → ``Sales_2024``.

    The file's stem keeps its case (SQLite matches table names case-insensitively, so folding
    would only change how a new table is spelt); every run of non-word characters becomes one
    ``_``; a name starting with a digit gets ``t_`` in front; nothing left gives ``imported``.
    """
    name = re.sub(r"\W+", "_", path.stem).strip("_") or FALLBACK_TABLE
    return f"t_{name}" if name[0].isdigit() else name


def schema_of(table: TableInfo) -> TableSchema:
    """The data layer's schema of a table listed by the client."""
    columns = tuple(
        Column(
            name=c.name,
            type=c.type or "",
            pk=bool(c.pk),
            notnull=bool(c.notnull),
            default=c.default,
        )
        for c in table.columns
    )
    return TableSchema(name=table.name, columns=columns)


def current_max_ids(client: D1Client, database_id: str, table: TableInfo) -> dict[str, int]:
    """``{key: MAX(key)}`` for a table with one INTEGER primary key (0 when it is empty)."""
    keys = [c for c in table.columns if c.pk]
    if len(keys) != 1 or "INT" not in (keys[0].type or "").upper():
        return {}
    sql = f"SELECT MAX({quote_identifier(keys[0].name)}) AS m FROM {quote_identifier(table.name)}"
    results = client.query(database_id, sql)
    value = results[0].results[0].get("m") if results and results[0].results else None
    return {keys[0].name: int(value) if isinstance(value, int | float) else 0}


def find_table(tables: Sequence[TableInfo], name: str) -> TableInfo | None:
    """The listed table called ``name``, compared case-insensitively."""
    return next((t for t in tables if t.name.lower() == name.lower()), None)


def resolve_target(
    client: D1Client,
    database_id: str,
    table: str,
    *,
    create: bool,
    tables: Sequence[TableInfo] | None = None,
    source: Path | None = None,
) -> Target:
    """Where rows for ``table`` go: onto the live table of that name, or a new one.

    ``tables`` is the database's table list when the caller has it (else it is fetched; an
    empty ``database_id`` means a database that does not exist yet, so no tables). Without
    ``create`` a missing table is a ``BadInputError`` naming ``source``.
    """
    if tables is None:
        tables = client.list_tables(database_id) if database_id else []
    info = find_table(tables, table)
    if info is None:
        if not create:
            raise BadInputError(
                f"table {table!r} does not exist in the database",
                where=Location(source) if source is not None else None,
                hint="pass --create to create it from the file's columns, or --table to pick "
                "another",
            )
        return Target(table=table, create=True)
    return Target(
        table=info.name,
        create=False,
        existing=schema_of(info),
        current_max_ids=current_max_ids(client, database_id, info),
    )
