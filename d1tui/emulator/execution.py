"""Run user statements under D1's rules and report them with D1's `meta` block."""

from __future__ import annotations

import math
import re
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from d1tui.emulator.splitter import split_sql
from d1tui.emulator.sqlrules import Authorizer, SqlError, check_length, error_text

_DDL = ("CREATE", "DROP", "ALTER")
SERVED_BY = "v3-prod"
QUERY_TIME_LIMIT = 30.0
"""Longest a /query or /raw request may run, in seconds (D1's "max SQL query duration")."""
TIME_LIMIT_TEXT = "D1 DB exceeded its CPU time limit and was reset."
"""What a request over the limit is told (D1's documented text; see emulator/FIDELITY.md)."""


@dataclass
class Outcome:
    """What one statement did."""

    columns: list[str] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    rows_seen: int = 0
    changes: int = 0
    changed_db: bool = False
    duration_ms: float = 0.0


def json_value(value: object) -> object:
    """A column value as D1 puts it in JSON (BLOBs as byte arrays, no NaN)."""
    if isinstance(value, bytes):
        return list(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


_LEADS_WITH_ALTER = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*ALTER\b", re.I | re.S)
_RESERVED_TABLES = (
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '\\_cf\\_%' ESCAPE '\\'"
)


def _reserved_tables(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute(_RESERVED_TABLES)}


def execute_one(
    conn: sqlite3.Connection,
    auth: Authorizer,
    statement: str,
    params: Sequence[object] = (),
    *,
    keep_rows: bool = True,
) -> Outcome:
    """Execute one statement with the rules authorizer on; SqlError carries D1's error text."""
    check_length(statement)
    # SQLite's authorizer sees only the old name of `ALTER TABLE … RENAME TO`, so a rename
    # into D1's reserved `_cf_` names is caught by comparing the tables before and after.
    reserved = _reserved_tables(conn) if _LEADS_WITH_ALTER.match(statement) else None
    before = conn.total_changes
    started = time.perf_counter()
    out = Outcome()
    auth.enabled = True
    try:
        cursor = conn.execute(statement, tuple(params))
        out.columns = [d[0] for d in cursor.description or ()]
        if keep_rows:
            out.rows = cursor.fetchall()
            out.rows_seen = len(out.rows)
        else:
            for _ in cursor:
                out.rows_seen += 1
    except (sqlite3.Error, sqlite3.Warning) as exc:
        raise SqlError(error_text(exc)) from None
    except (ValueError, OverflowError, TypeError) as exc:
        raise SqlError(f"{exc}: SQLITE_ERROR") from None
    finally:
        auth.enabled = False
    if reserved is not None and not _reserved_tables(conn) <= reserved:
        # The caller's transaction is rolled back on this error, undoing the rename.
        raise SqlError("not authorized: SQLITE_AUTH")
    out.duration_ms = (time.perf_counter() - started) * 1000.0
    out.changes = conn.total_changes - before
    out.changed_db = out.changes > 0 or statement[:16].lstrip().upper().startswith(_DDL)
    return out


def size_of(conn: sqlite3.Connection) -> int:
    """Database size in bytes as SQLite sees it inside the current transaction."""
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    return int(pages) * int(page_size)


def last_row_id(conn: sqlite3.Connection) -> int:
    """sqlite3_last_insert_rowid() of the connection."""
    return int(conn.execute("SELECT last_insert_rowid()").fetchone()[0])


def meta_block(
    *,
    region: str,
    duration_ms: float,
    changes: int,
    last_id: int,
    changed_db: bool,
    size_after: int,
    rows_read: int,
    rows_written: int,
) -> dict[str, Any]:
    """D1's `meta` object (same fields for /query and for a finished import)."""
    duration = round(duration_ms, 4)
    return {
        "served_by": SERVED_BY,
        "served_by_region": region,
        "served_by_primary": True,
        "timings": {"sql_duration_ms": duration},
        "duration": duration,
        "changes": changes,
        "last_row_id": last_id,
        "changed_db": changed_db,
        "size_after": size_after,
        "rows_read": rows_read,
        "rows_written": rows_written,
    }


def run_request(
    conn: sqlite3.Connection,
    auth: Authorizer,
    batch: Sequence[tuple[str, Sequence[object]]],
    *,
    raw: bool,
    region: str,
    time_limit: float | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """Run a /query or /raw request as one all-or-nothing unit; return (results, changed_db).

    With `time_limit`, SQLite is interrupted once the request has run that many seconds and
    the request fails with TIME_LIMIT_TEXT (rolled back; the connection stays usable).
    """
    if time_limit is None:
        return _run_request(conn, auth, batch, raw=raw, region=region)
    deadline = time.monotonic() + time_limit
    conn.set_progress_handler(lambda: time.monotonic() > deadline, 1000)
    try:
        return _run_request(conn, auth, batch, raw=raw, region=region)
    except SqlError:
        if time.monotonic() > deadline:
            raise SqlError(TIME_LIMIT_TEXT) from None
        raise
    finally:
        conn.set_progress_handler(None, 0)


def _run_request(
    conn: sqlite3.Connection,
    auth: Authorizer,
    batch: Sequence[tuple[str, Sequence[object]]],
    *,
    raw: bool,
    region: str,
) -> tuple[list[dict[str, Any]], bool]:
    results: list[dict[str, Any]] = []
    changed_any = False
    conn.execute("BEGIN")
    try:
        for sql, params in batch:
            statements = split_sql(sql)
            if not statements:
                raise SqlError("No SQL statements detected.: SQLITE_ERROR")
            for statement in statements:
                out = execute_one(conn, auth, statement, params)
                changed_any = changed_any or out.changed_db
                meta = meta_block(
                    region=region,
                    duration_ms=out.duration_ms,
                    changes=out.changes,
                    last_id=last_row_id(conn),
                    changed_db=out.changed_db,
                    size_after=size_of(conn),
                    rows_read=max(out.rows_seen, out.changes),
                    rows_written=out.changes,
                )
                rows = [[json_value(v) for v in row] for row in out.rows]
                body: object
                if raw:
                    body = {"columns": out.columns, "rows": rows}
                else:
                    body = [dict(zip(out.columns, row, strict=True)) for row in rows]
                results.append({"results": body, "success": True, "meta": meta})
        commit(conn)
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return results, changed_any


def commit(conn: sqlite3.Connection) -> None:
    """COMMIT; deferred constraint failures surface here as D1-worded SqlError."""
    try:
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        raise SqlError(error_text(exc)) from None
