"""Rows of a dump too long for one statement, re-sent through InsertWriter's long-row path.

The dump's own ``CREATE TABLE`` statements are replayed into a private in-memory SQLite database,
which gives the column names and key of each table, and evaluates a row's literals (``'…'``,
``X'…'``, numbers, ``replace(…, char(10))`` as ``sqlite3 .dump`` writes newlines) to exact
values. The row is then inserted with its long values cut, and completed by ``UPDATE``s.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Sequence

from d1tui.convert.sql.inserts import InsertWriter, quote_identifier


class LongRows:
    """Knows the dump's tables; turns one over-long row into statements under the limit."""

    def __init__(self) -> None:
        self._db: sqlite3.Connection | None = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = sqlite3.connect(":memory:")
        return self._db

    def note_create(self, sql: str) -> None:
        """Replay a ``CREATE TABLE`` of the dump (errors ignored: only column names matter)."""
        with contextlib.suppress(sqlite3.Error):
            self._conn().execute(sql)

    def columns(self, table: str) -> tuple[list[str], str | None]:
        """Insertable column names of ``table`` and its key column (None: use the rowid)."""
        info = self._conn().execute(f"PRAGMA table_xinfo({quote_identifier(table)})").fetchall()
        names = [str(r[1]) for r in info if r[6] == 0]
        pks = [r for r in info if r[5] > 0]
        key = str(pks[0][1]) if len(pks) == 1 else None
        return names, key

    def write(
        self,
        write: Callable[[bytes], object],
        table: str,
        columns: Sequence[str] | None,
        row: str,
    ) -> tuple[int, int] | None:
        """Write one ``(…)`` row; (statements, bytes) written, or None if it cannot be read."""
        names, key = self.columns(table)
        if columns is not None:
            names, key = list(columns), key if key in columns else None
        if not names:
            return None
        try:
            values = self._conn().execute("SELECT " + row.strip()[1:-1]).fetchone()
        except sqlite3.Error:
            return None
        if values is None or len(values) != len(names):
            return None
        writer = InsertWriter(write, table, names, key_column=key)
        writer.add_row(values)
        writer.close()
        return writer.statements, writer.bytes_written

    def close(self) -> None:
        """Drop the private database."""
        if self._db is not None:
            self._db.close()
            self._db = None
