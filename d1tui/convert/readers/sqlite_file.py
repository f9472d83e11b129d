"""SQLite database files → SQL for D1: tables parent-first, exact rows, then indexes/triggers/views.

The original ``CREATE`` text from ``sqlite_master`` is kept (with ``IF NOT EXISTS``). Every table
is created first (a foreign-key cycle needs both ends to exist), then filled parent-first: a
parent's rows come before the rows that point at them. When tables reference each other or
themselves the file starts with ``PRAGMA defer_foreign_keys=true`` so the checks wait for the
commit. ``_cf_*`` and ``sqlite_*`` tables are skipped, and so are virtual tables (FTS and others)
with their shadow tables, with a note. Indexes and triggers come after the rows (faster, and the
triggers must not fire on copied rows); views are carried only when every table is copied.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from d1tui.convert.sql.inserts import STATEMENT_LIMIT, InsertWriter, quote_identifier
from d1tui.errors import BadInputError, ImportCancelledError, Location
from d1tui.events import PrepareProgress

MAGIC = b"SQLite format 3\x00"
_IF_NOT_EXISTS = re.compile(
    r"^(\s*CREATE\s+(?:UNIQUE\s+|TEMP\s+|TEMPORARY\s+)?(?:TABLE|INDEX|VIEW|TRIGGER)\s+)"
    r"(?!IF\s+NOT\s+EXISTS\b)",
    re.I,
)
_PROGRESS_ROWS = 50_000

Write = Callable[[bytes], object]


@dataclass(frozen=True)
class SqliteTable:
    """A table of an SQLite file as offered for copying."""

    name: str
    sql: str
    columns: tuple[str, ...]
    parents: tuple[str, ...]  # tables its foreign keys point at
    without_rowid: bool


@dataclass
class SqliteReport:
    """What ``convert_sqlite`` wrote: rows per table (for VERIFY) and notes for the user."""

    rows: dict[str, int] = field(default_factory=dict)
    statements: int = 0
    bytes_written: int = 0
    created_tables: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        """Rows over all tables."""
        return sum(self.rows.values())


def is_sqlite_file(path: Path) -> bool:
    """True when the file starts with the SQLite 3 header."""
    with open(path, "rb") as f:
        return f.read(len(MAGIC)) == MAGIC


def _connect(path: Path) -> sqlite3.Connection:
    if not is_sqlite_file(path):
        raise BadInputError("not an SQLite 3 database file", where=Location(path, byte_offset=0))
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return conn


def _unreadable(path: Path, exc: Exception, table: str | None = None) -> BadInputError:
    where = f" (table {table!r})" if table else ""
    return BadInputError(
        f"the SQLite file cannot be read{where}: {exc}",
        where=Location(path),
        hint="the file may be damaged or not a database; try `sqlite3 FILE .recover`",
    )


def sqlite_tables(path: Path) -> list[SqliteTable]:
    """The copyable tables of an SQLite file in file order (no ``_cf_*``, ``sqlite_*``, FTS)."""
    try:
        with _connect(path) as conn:
            tables, _ = _read_tables(conn)
            return tables
    except (sqlite3.Error, UnicodeDecodeError) as exc:  # a damaged page may hold bad UTF-8
        raise _unreadable(path, exc) from None


@dataclass(frozen=True)
class SqliteHead:
    """A table's declared columns (name, type, pk, notnull) and its first rows, for a preview."""

    table: SqliteTable
    columns: tuple[tuple[str, str, bool, bool], ...]
    rows: list[tuple[object, ...]]
    total: int


def sqlite_heads(
    path: Path, tables: Iterable[str] | None = None, limit: int = 20
) -> list[SqliteHead]:
    """The chosen tables (default: all) with their declared types and first ``limit`` rows."""
    current: str | None = None
    try:
        with _connect(path) as conn:
            offered, _ = _read_tables(conn)
            heads = []
            for table in _choose(path, offered, tables):
                current = table.name
                name = quote_identifier(table.name)
                info = conn.execute(f"PRAGMA table_xinfo({name})").fetchall()
                columns = tuple((r[1], r[2] or "", r[5] > 0, bool(r[3])) for r in info if r[6] == 0)
                cols = ", ".join(map(quote_identifier, table.columns))
                rows = conn.execute(f"SELECT {cols} FROM {name} LIMIT ?", (limit,)).fetchall()
                (total,) = conn.execute(f"SELECT count(*) FROM {name}").fetchone()
                heads.append(SqliteHead(table, columns, rows, int(total)))
            return heads
    except (sqlite3.Error, UnicodeDecodeError) as exc:
        raise _unreadable(path, exc, current) from None


def _read_tables(conn: sqlite3.Connection) -> tuple[list[SqliteTable], list[str]]:
    """Tables to offer and notes about the ones skipped."""
    master = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY rowid"
    ).fetchall()
    virtual = [n for n, sql in master if (sql or "").upper().lstrip().startswith("CREATE VIRTUAL")]
    shadow = {
        r[0] for r in conn.execute("SELECT name FROM pragma_table_list WHERE type = 'shadow'")
    }
    notes = [
        f"virtual table {n!r} (FTS or similar) skipped: create it after the import" for n in virtual
    ]
    tables = []
    for name, sql in master:
        low = name.lower()
        if low.startswith(("sqlite_", "_cf_")) or name in virtual or name in shadow or not sql:
            continue
        info = conn.execute(f"PRAGMA table_xinfo({quote_identifier(name)})").fetchall()
        columns = tuple(r[1] for r in info if r[6] == 0)  # hidden 2/3: generated columns
        fks = conn.execute(f"PRAGMA foreign_key_list({quote_identifier(name)})").fetchall()
        parents = tuple(dict.fromkeys(r[2] for r in fks))
        without_rowid = bool(re.search(r"\)\s*WITHOUT\s+ROWID\s*(,|$)", sql, re.I))
        tables.append(SqliteTable(name, sql, columns, parents, without_rowid))
    return tables, notes


def parent_first(tables: Sequence[SqliteTable]) -> tuple[list[SqliteTable], bool]:
    """Tables with every parent before its children (stable); True if a cycle remained."""
    by_name = {t.name.lower(): t for t in tables}
    waiting = {
        t.name.lower(): {p.lower() for p in t.parents if p.lower() in by_name} - {t.name.lower()}
        for t in tables
    }
    ordered: list[SqliteTable] = []
    placed: set[str] = set()
    progress = True
    while progress:
        progress = False
        for t in tables:
            key = t.name.lower()
            if key not in placed and waiting[key] <= placed:
                ordered.append(t)
                placed.add(key)
                progress = True
                break
    cycle = len(ordered) < len(tables)
    ordered += [t for t in tables if t.name.lower() not in placed]
    return ordered, cycle


def _key_column(conn: sqlite3.Connection, table: SqliteTable) -> str | None:
    info = conn.execute(f"PRAGMA table_info({quote_identifier(table.name)})").fetchall()
    pks = [r for r in info if r[5] > 0]
    if len(pks) == 1 and (table.without_rowid or str(pks[0][2]).upper() == "INTEGER"):
        return str(pks[0][1])
    return None


def _with_if_not_exists(sql: str) -> str:
    return _IF_NOT_EXISTS.sub(r"\1IF NOT EXISTS ", sql, count=1)


def convert_sqlite(
    path: Path,
    out: Write,
    *,
    tables: Iterable[str] | None = None,
    progress: Callable[[PrepareProgress], None] | None = None,
    cancel: threading.Event | None = None,
) -> SqliteReport:
    """Write an SQLite file's chosen tables (default: all) as SQL D1 imports; see module doc."""
    report = SqliteReport()
    current: str | None = None
    try:
        with _connect(path) as conn:
            offered, report.notes = _read_tables(conn)
            chosen = _choose(path, offered, tables)
            ordered, cycle = parent_first(chosen)
            names = {t.name.lower() for t in chosen}
            _note_missing_parents(report, chosen, names)
            if cycle:
                report.notes.append("tables reference each other: foreign keys checked at commit")
            emit = _Emitter(out, report)
            if cycle or any(t.parents for t in chosen):
                emit("PRAGMA defer_foreign_keys=true;")
            for table in ordered:  # every table first: a cycle needs both ends to exist
                emit(_with_if_not_exists(table.sql) + ";")
                report.created_tables.append(table.name)
            for table in ordered:
                current = table.name
                _copy_rows(conn, table, emit, report, progress=progress, cancel=cancel)
            current = None
            for sql in _extras(conn, names, all_tables=tables is None, report=report):
                emit(sql)
    except (sqlite3.Error, UnicodeDecodeError) as exc:
        raise _unreadable(path, exc, current) from None
    if progress is not None:
        progress(_progress(report))
    return report


class _Emitter:
    """Writes whole statements and counts them."""

    def __init__(self, out: Write, report: SqliteReport) -> None:
        self.out, self.report = out, report

    def __call__(self, statement: str) -> None:
        data = statement.encode()
        if len(data) > STATEMENT_LIMIT:
            raise BadInputError(
                f"a schema statement of {len(data):,} bytes exceeds D1's 100,000-byte limit: "
                + statement[:80]
            )
        self.raw(data + b"\n")
        self.report.statements += 1

    def raw(self, data: bytes) -> None:
        """Write bytes that are whole statements already (InsertWriter's output)."""
        self.out(data)
        self.report.bytes_written += len(data)


def _choose(
    path: Path, offered: list[SqliteTable], wanted: Iterable[str] | None
) -> list[SqliteTable]:
    if wanted is None:
        return offered
    by_name = {t.name.lower(): t for t in offered}
    chosen = []
    for name in wanted:
        table = by_name.get(name.lower())
        if table is None:
            known = ", ".join(t.name for t in offered) or "none"
            raise BadInputError(
                f"no table {name!r} in the file (tables: {known})", where=Location(path)
            )
        if table not in chosen:
            chosen.append(table)
    return [t for t in offered if t in chosen]


def _note_missing_parents(report: SqliteReport, chosen: list[SqliteTable], names: set[str]) -> None:
    for t in chosen:
        missing = [p for p in t.parents if p.lower() not in names]
        if missing:
            report.notes.append(
                f"{t.name!r} references {', '.join(map(repr, missing))}, not copied: "
                "those rows must already exist in the target"
            )


def _copy_rows(
    conn: sqlite3.Connection,
    table: SqliteTable,
    emit: _Emitter,
    report: SqliteReport,
    *,
    progress: Callable[[PrepareProgress], None] | None,
    cancel: threading.Event | None,
) -> None:
    cols = ", ".join(map(quote_identifier, table.columns))
    writer = InsertWriter(emit.raw, table.name, table.columns, key_column=_key_column(conn, table))
    cursor = conn.execute(f"SELECT {cols} FROM {quote_identifier(table.name)}")
    before = report.statements
    while batch := cursor.fetchmany(1000):
        for row in batch:
            writer.add_row(row)
        if cancel is not None and cancel.is_set():
            raise ImportCancelledError("cancelled while reading the SQLite file")
        if progress is not None and writer.rows % _PROGRESS_ROWS < 1000:
            report.rows[table.name] = writer.rows
            progress(_progress(report, writer.statements))
    writer.close()
    report.statements = before + writer.statements
    report.rows[table.name] = writer.rows


def _extras(
    conn: sqlite3.Connection, names: set[str], *, all_tables: bool, report: SqliteReport
) -> list[str]:
    """Indexes, then triggers, then views of the copied tables, each with IF NOT EXISTS."""
    rows = conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master "
        "WHERE type IN ('index', 'trigger', 'view') AND sql IS NOT NULL ORDER BY rowid"
    ).fetchall()
    out: list[str] = []
    for kind in ("index", "trigger", "view"):
        for type_, name, tbl_name, sql in rows:
            if type_ != kind or name.lower().startswith(("sqlite_", "_cf_")):
                continue
            if kind == "view" and not all_tables:
                report.notes.append(f"view {name!r} not copied: only some tables were chosen")
                continue
            if kind != "view" and tbl_name.lower() not in names:
                continue
            out.append(_with_if_not_exists(sql) + ";")
    return out


def _progress(report: SqliteReport, extra_statements: int = 0) -> PrepareProgress:
    return PrepareProgress(
        bytes_read=0,
        total_bytes=None,
        rows=report.total_rows,
        statements=report.statements + extra_statements,
        bytes_written=report.bytes_written,
    )
