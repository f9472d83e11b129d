"""The export endpoint: dump a database to SQL (D1's style) behind a signed download URL."""

from __future__ import annotations

import math
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from d1tui.emulator.sqlrules import BUSY_IMPORTING, is_reserved_table
from d1tui.emulator.store import DatabaseRecord, Store, StoreError


def quote_name(name: str) -> str:
    """A double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: object) -> str:
    """A value as an SQLite literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return "X'" + value.hex().upper() + "'"
    if isinstance(value, float):
        if math.isnan(value):
            return "NULL"
        return repr(value) if math.isfinite(value) else ("9e999" if value > 0 else "-9e999")
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def dump_lines(
    conn: sqlite3.Connection, *, no_schema: bool, no_data: bool, tables: Sequence[str]
) -> Iterator[str]:
    """The dump, statement by statement: tables (with rows) first, then indexes/triggers/views."""
    yield "PRAGMA defer_foreign_keys=TRUE;"
    objects = conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master"
        " WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid"
    ).fetchall()
    wanted = set(tables)
    chosen = [o for o in objects if not is_reserved_table(o[2]) and (not wanted or o[2] in wanted)]
    for kind, name, _table, sql in chosen:
        if kind != "table":
            continue
        if not no_schema:
            yield f"{sql};"
        if no_data:
            continue
        cursor = conn.execute(f"SELECT * FROM {quote_name(name)}")
        columns = ",".join(quote_name(d[0]) for d in cursor.description)
        for row in cursor:
            values = ",".join(literal(v) for v in row)
            yield f"INSERT INTO {quote_name(name)} ({columns}) VALUES({values});"
    if not no_schema:
        for kind, _name, _table, sql in chosen:
            if kind != "table":
                yield f"{sql};"


def export_name(record: DatabaseRecord, bookmark: str) -> str:
    """The dump's object name: database uuid and the bookmark's counter."""
    return f"{record.uuid}-{bookmark.split('-')[2]}.sql"


def run_export(store: Store, record: DatabaseRecord, options: object, target: Path) -> int:
    """Write the dump of `record` to `target` (atomically); return the number of statements."""
    opts: dict[str, Any] = options if isinstance(options, dict) else {}
    tables = opts.get("tables") or []
    if not isinstance(tables, list) or not all(isinstance(t, str) for t in tables):
        raise StoreError(400, 7400, "dump_options.tables must be a list of table names.")
    if record.uuid in store.importing:
        raise StoreError(400, 7500, BUSY_IMPORTING)
    count = 0
    part = target.with_name(target.name + ".part")
    with store.db_lock(record.uuid):
        path = store.file_of(record.uuid)
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10.0)
        try:
            with open(part, "w", encoding="utf-8") as out:
                for line in dump_lines(
                    conn,
                    no_schema=bool(opts.get("no_schema")),
                    no_data=bool(opts.get("no_data")),
                    tables=tables,
                ):
                    out.write(line + "\n")
                    count += 1
        finally:
            conn.close()
    os.replace(part, target)
    return count
