"""SQL dumps (`sqlite3 .dump`, `wrangler d1 export`, hand-written) → SQL that D1's import accepts.

Decisions (d1-api.md §2.7):
- ``BEGIN``/``COMMIT``/``END``/``SAVEPOINT``/``RELEASE`` are stripped: an import already runs as one
  transaction and D1 rejects nested ones.
- ``ROLLBACK`` is rejected: ``sqlite3 .dump`` writes ``ROLLBACK; -- due to errors`` when it
  could not read the database, so the file is incomplete and importing it would keep what it
  meant to undo.
- ``PRAGMA foreign_keys=OFF`` becomes ``PRAGMA defer_foreign_keys=true`` (checks at commit, the
  effect a dump wants); ``PRAGMA foreign_keys=ON`` is dropped (a no-op inside a transaction).
  Other allow-listed PRAGMAs stay; the rest, ``ATTACH``, ``DETACH``, ``VACUUM`` are errors.
- ``_cf_*`` tables are D1's own: statements on them are dropped. ``sqlite_*`` tables are SQLite's
  own: writes to ``sqlite_sequence``/``sqlite_stat*`` and ``ANALYZE`` are dropped (AUTOINCREMENT
  restarts from the largest rowid; D1 keeps its own statistics).
- Multi-row INSERTs over 100,000 bytes are split into several; a single row over it is an error.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from d1tui.convert.sql.dump_rows import LongRows
from d1tui.convert.sql.head import (
    column_list,
    count_tuples,
    create_kind,
    is_internal,
    plain_insert,
    target_table,
    values_offset,
)
from d1tui.convert.sql.inserts import STATEMENT_LIMIT
from d1tui.convert.sql.split import (
    Statement,
    Token,
    decoded_lines,
    leading_tuples,
    split_lines,
    tokens,
    value_tuples,
)
from d1tui.errors import BadInputError, ImportCancelledError, Location
from d1tui.events import PrepareProgress

# D1's allowed PRAGMAs (d1-api.md). The emulator keeps its own copy in emulator/sqlrules.py on
# purpose: it stands in for D1 and imports nothing from the client.
ALLOWED_PRAGMAS = frozenset(
    {
        "table_list",
        "table_info",
        "table_xinfo",
        "index_list",
        "index_info",
        "index_xinfo",
        "quick_check",
        "foreign_key_check",
        "foreign_key_list",
        "case_sensitive_like",
        "ignore_check_constraints",
        "legacy_alter_table",
        "recursive_triggers",
        "reverse_unordered_selects",
        "foreign_keys",
        "defer_foreign_keys",
        "optimize",
    }
)
_TRANSACTION = frozenset({"BEGIN", "COMMIT", "END", "SAVEPOINT", "RELEASE"})
_FORBIDDEN = {
    "ATTACH": "ATTACH is not allowed in D1",
    "DETACH": "DETACH is not allowed in D1",
    "VACUUM": "VACUUM is not allowed in D1",
}
_OFF = frozenset({"OFF", "0", "FALSE", "NO"})
_PROGRESS_EVERY = 1 << 20

Write = Callable[[bytes], object]


@dataclass
class DumpReport:
    """What cleaning did: counts for the notes the CLI/TUI show, and rows per table for VERIFY.

    ``rows`` counts the tuples of plain ``INSERT INTO t … VALUES`` statements per table; it is
    emptied (``rows_known`` false) when the file also deletes, replaces or creates rows in ways
    that cannot be counted without running it.
    """

    statements_in: int = 0
    statements: int = 0
    bytes_read: int = 0
    bytes_written: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    rows_known: bool = True
    created_tables: list[str] = field(default_factory=list)
    transaction_stripped: int = 0
    internal_dropped: int = 0
    pragmas_rewritten: int = 0
    pragmas_dropped: int = 0
    inserts_split: int = 0
    long_rows: int = 0

    @property
    def total_rows(self) -> int:
        """Rows inserted over all tables (when known)."""
        return sum(self.rows.values())

    @property
    def notes(self) -> list[str]:
        """One line per kind of change made to the file, for the user."""
        notes = []
        if self.transaction_stripped:
            notes.append(
                f"removed {self.transaction_stripped} BEGIN/COMMIT/SAVEPOINT statement(s): "
                "the import is one transaction already"
            )
        if self.pragmas_rewritten:
            notes.append("PRAGMA foreign_keys=OFF → PRAGMA defer_foreign_keys=true")
        if self.pragmas_dropped:
            notes.append(f"dropped {self.pragmas_dropped} PRAGMA foreign_keys=ON (no effect)")
        if self.internal_dropped:
            notes.append(
                f"dropped {self.internal_dropped} statement(s) on internal tables "
                "(_cf_*, sqlite_sequence, sqlite_stat*)"
            )
        if self.inserts_split:
            notes.append(
                f"split {self.inserts_split} INSERT(s) over 100,000 bytes into smaller ones"
            )
        if self.long_rows:
            notes.append(
                f"{self.long_rows} row(s) over 100,000 bytes inserted in parts "
                "(INSERT, then UPDATE … || … appends)"
            )
        if not self.rows_known:
            notes.append("row counts cannot be checked: the file does more than plain INSERTs")
        return notes


class _Cleaner:
    """Applies the rules to one statement at a time and writes what survives."""

    def __init__(self, path: Path, out: Write, report: DumpReport) -> None:
        self.path, self.out, self.report = path, out, report
        self.names: dict[str, str] = {}  # lower-case table name → first spelling
        self.long_rows = LongRows()
        self.draining = False  # rows of the statement being read were written already
        self.trigger_seen = False

    def handle(self, st: Statement) -> None:
        """Keep, rewrite, drop or refuse one statement (see the module docstring)."""
        self.report.statements_in += 1
        if "\x00" in st.text:  # D1 would fail mid-import on it with an internal error
            raise BadInputError(
                "a NUL character in this statement",
                where=Location(self.path, line=st.line, column=st.column),
                hint="remove it; a value holding NUL can be written as a blob (X'00')",
            )
        fast = plain_insert(st.text)
        if fast is not None:
            if is_internal(fast[0]):
                self.report.internal_dropped += 1
            else:
                self._values(st, *fast)
            return
        toks = tokens(st.text, 0, 12)
        if not toks:
            return
        first = toks[0].value.upper() if not toks[0].quoted else ""
        if toks[0].value == "." or first == "":
            self._fail(st, "not an SQL statement (a sqlite3 shell command?)")
        if first in _TRANSACTION:
            self.report.transaction_stripped += 1
            return
        if first == "ROLLBACK":
            self._fail(
                st,
                "ROLLBACK: the dump says its own changes must be undone "
                "(sqlite3 .dump writes it when the database could not be read); make a new dump",
            )
        if first in _FORBIDDEN:
            self._fail(st, _FORBIDDEN[first])
        if first == "PRAGMA":
            self._pragma(st, toks)
            return
        if first == "ANALYZE":
            self.report.internal_dropped += 1
            return
        table = target_table(toks)
        if table is not None and is_internal(table):
            self.report.internal_dropped += 1
            return
        if first in ("INSERT", "REPLACE"):
            self._insert(st, toks, table)
            return
        self._account(first, toks, table, st.text)
        self._emit(st.text)

    def _pragma(self, st: Statement, toks: list[Token]) -> None:
        i = 3 if len(toks) > 3 and toks[2].value == "." else 1
        name = toks[i].value.lower() if len(toks) > i else ""
        value = toks[i + 2].value.upper() if len(toks) > i + 2 else ""
        if name not in ALLOWED_PRAGMAS:
            hint = " (the dump holds virtual tables; D1 cannot import them this way)"
            extra = hint if name == "writable_schema" else ""
            self._fail(st, f"PRAGMA {name} is not allowed in D1{extra}")
        if name == "foreign_keys" and len(toks) > i + 2:
            if value in _OFF:
                self.report.pragmas_rewritten += 1
                self._emit("PRAGMA defer_foreign_keys=true;")
            else:
                self.report.pragmas_dropped += 1
            return
        self._emit(st.text)

    def _insert(self, st: Statement, toks: list[Token], table: str | None) -> None:
        plain = len(toks) > 2 and toks[0].is_word("INSERT") and toks[1].is_word("INTO")
        values_at = values_offset(st.text) if plain and table else None
        if table is None or values_at is None:
            self._account("INSERT", toks, table, st.text)
            self._emit(st.text)
            return
        self._values(st, table, values_at)

    def _values(self, st: Statement, table: str, values_at: int) -> None:
        """A plain ``INSERT INTO t … VALUES``: count its rows; split it when over the limit."""
        text = st.text if st.text.endswith(";") else st.text + ";"
        data = text.encode()
        small = len(data) <= STATEMENT_LIMIT
        spans = None if small else value_tuples(text, values_at)
        rows = count_tuples(text, values_at) if small else spans and len(spans)
        drained, self.draining = self.draining, False
        if not rows:
            if drained:
                self._fail(st, "a multi-row INSERT this long must end with its last row")
            self.report.rows_known = False
            self._emit(text)
            return
        key = self.names.setdefault(table.lower(), table)
        self.report.rows[key] = self.report.rows.get(key, 0) + rows
        if self.trigger_seen:
            self.report.rows_known = False
        if small:
            self._write(data)
        else:
            assert spans is not None
            self._split(st, text[:values_at], spans, table, first=not drained)

    def drain(self, st: Statement) -> tuple[str, str] | None:
        """Write the finished rows of a long plain INSERT still being read (bounded memory)."""
        head = plain_insert(st.text)
        if head is None or is_internal(head[0]):
            return None
        table, values_at = head
        spans, rest = leading_tuples(st.text, values_at)
        if not spans:
            return None
        key = self.names.setdefault(table.lower(), table)
        self.report.rows[key] = self.report.rows.get(key, 0) + len(spans)
        self._split(st, st.text[:values_at], spans, table, first=not self.draining)
        self.draining = True
        return st.text[:values_at].rstrip() + " ", st.text[rest:].lstrip()

    def _split(
        self,
        st: Statement,
        prefix: str,
        spans: list[tuple[int, int]],
        table: str,
        *,
        first: bool = True,
    ) -> None:
        """Write the tuples of one over-long INSERT as several INSERTs under the limit."""
        head = prefix.encode()
        room = STATEMENT_LIMIT - len(head) - 1  # the ';'
        batch: list[bytes] = []
        used = 0
        for a, b in spans:
            row = st.text[a:b].encode()
            if len(row) > room:
                if batch:
                    self._write(head + b",".join(batch) + b";")
                    batch, used = [], 0
                self._long_row(st, prefix, table, a, b)
                continue
            if batch and used + 1 + len(row) > room:
                self._write(head + b",".join(batch) + b";")
                batch, used = [], 0
            used += len(row) + (1 if batch else 0)
            batch.append(row)
        if batch:
            self._write(head + b",".join(batch) + b";")
        self.report.inserts_split += first

    def _long_row(self, st: Statement, prefix: str, table: str, a: int, b: int) -> None:
        """A row over the limit: inserted cut, then completed by UPDATEs (InsertWriter)."""
        written = self.long_rows.write(self._raw, table, column_list(prefix), st.text[a:b])
        if written is None:
            self._fail(
                st,
                f"one row of this INSERT is {len(st.text[a:b].encode()):,} bytes: over D1's "
                "100,000-byte statement limit, and its values could not be read to split it",
                line=st.line + st.text.count("\n", 0, a),
            )
        else:
            self.report.statements += written[0]
            self.report.long_rows += 1

    def _raw(self, data: bytes) -> None:
        self.out(data)
        self.report.bytes_written += len(data)

    def _account(self, first: str, toks: list[Token], table: str | None, st_text: str) -> None:
        """Keep ``rows`` honest: anything but plain INSERT…VALUES makes counts unknowable."""
        if first == "CREATE":
            kind = create_kind(toks)
            if kind == "TRIGGER":
                self.trigger_seen = True
            if kind == "TABLE" and table is not None:
                self.long_rows.note_create(st_text)
                if any(t.is_word("AS") for t in toks):
                    self.report.rows_known = False
                self.report.created_tables.append(table)
            return
        if first in ("SELECT", "EXPLAIN") or (first == "UPDATE" and not self.trigger_seen):
            return
        self.report.rows_known = False

    def _emit(self, text: str) -> None:
        data = (text if text.endswith(";") else text + ";").encode()
        if len(data) > STATEMENT_LIMIT:
            raise BadInputError(
                f"statement of {len(data):,} bytes: over D1's 100,000-byte limit "
                "(only multi-row INSERTs can be split)"
            )
        self._write(data)

    def _write(self, data: bytes) -> None:
        self.out(data + b"\n")
        self.report.statements += 1
        self.report.bytes_written += len(data) + 1

    def _fail(self, st: Statement, detail: str, line: int | None = None) -> None:
        where = Location(self.path, line=line or st.line, column=None if line else st.column)
        raise BadInputError(detail, where=where)


def clean_dump(
    path: Path,
    out: Write,
    *,
    progress: Callable[[PrepareProgress], None] | None = None,
    cancel: threading.Event | None = None,
) -> DumpReport:
    """Stream an SQL dump file through the cleaner into ``out`` (bytes); return what changed."""
    report = DumpReport()
    cleaner = _Cleaner(path, out, report)
    total = path.stat().st_size
    next_report = _PROGRESS_EVERY
    with open(path, "rb") as f:
        pieces = decoded_lines(path, f)
        for st in split_lines(pieces, path, drain=cleaner.drain):
            try:
                cleaner.handle(st)
            except BadInputError as exc:
                if exc.where is None:
                    exc.where = Location(path, line=st.line, column=st.column)
                raise
            report.bytes_read = f.tell()
            if report.bytes_read >= next_report:
                next_report = report.bytes_read + _PROGRESS_EVERY
                if cancel is not None and cancel.is_set():
                    raise ImportCancelledError("cancelled while preparing the SQL file")
                if progress is not None:
                    progress(_progress(report, total))
    report.bytes_read = total
    _finish_counts(report)
    if progress is not None:
        progress(_progress(report, total))
    return report


def _progress(report: DumpReport, total: int) -> PrepareProgress:
    return PrepareProgress(
        bytes_read=report.bytes_read,
        total_bytes=total,
        rows=report.total_rows,
        statements=report.statements,
        bytes_written=report.bytes_written,
    )


def _finish_counts(report: DumpReport) -> None:
    if not report.rows_known:
        report.rows = {}
