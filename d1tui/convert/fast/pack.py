"""Block-wise statement packing and a hashing writer thread, shared by the fast converters.

``StatementPacker`` packs rows into ``INSERT`` statements exactly as ``sqlgen.InsertWriter``
does (greedy, at most ``limit`` bytes from ``INSERT`` through ``;``), but takes a whole block of
rendered rows at once and finds the cut points with ``rfind`` instead of adding rows one by one.
``HashingSink`` hashes and writes in a thread of its own (both release the GIL), so rendering
the next block overlaps with md5 and I/O.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from d1tui.convert.sql.inserts import STATEMENT_LIMIT, InsertWriter, insert_prefix
from d1tui.errors import Location

# Marks a row boundary in a block blob: ``)`` + ROW_SEP + ``(``. The separator byte is absent from
# blocks the fast path accepts and becomes ``,`` in the output (same length: offsets hold).
ROW_SEP = b"\x05"
_BOUNDARY = b")" + ROW_SEP + b"("


class FastPathUnsupportedError(Exception):
    """The input needs the exact per-value path from its start (nothing useful was written)."""


@dataclass(frozen=True)
class ConvertStats:
    """What a fast conversion produced."""

    rows: int
    statements: int
    bytes_written: int
    md5: str
    bytes_read: int


class HashingSink:
    """Writes byte chunks in a background thread, updating an md5 over everything written.

    The thread starts with the first chunk, so a sink given up before any (a converter that
    fails while setting up) leaves nothing running.
    """

    def __init__(self, write: Callable[[bytes], object], hasher: object | None = None) -> None:
        self._write = write
        self._md5 = hasher if hasher is not None else hashlib.md5()
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=3)
        self._error: BaseException | None = None
        self.bytes_written = 0
        self._thread = threading.Thread(target=self._run, name="d1tui-sql-writer", daemon=True)

    def _run(self) -> None:
        update = self._md5.update  # type: ignore[attr-defined]
        while (chunk := self._queue.get()) is not None:
            if self._error is not None:
                continue
            try:
                update(chunk)
                self._write(chunk)
            except BaseException as exc:  # surfaced to the producer by put()/close()
                self._error = exc

    def put(self, chunk: bytes) -> None:
        """Queue a chunk (blocks while three are waiting: memory stays bounded)."""
        if self._error is not None:
            raise self._error
        if chunk:
            if self._thread.ident is None:  # not started yet
                self._thread.start()
            self.bytes_written += len(chunk)
            self._queue.put(chunk)

    def close(self) -> str:
        """Wait for everything queued to be written; return the md5 hex digest."""
        self._stop()
        if self._error is not None:
            raise self._error
        return str(self._md5.hexdigest())  # type: ignore[attr-defined]

    def abort(self) -> None:
        """Stop the thread without raising (used on the way out of an error)."""
        self._stop()

    def _stop(self) -> None:
        if self._thread.ident is not None:  # started
            self._queue.put(None)
            self._thread.join()


class StatementPacker:
    """Greedy INSERT packing identical to ``InsertWriter``, fed a block of rows at a time."""

    def __init__(
        self,
        sink: HashingSink,
        table: str,
        columns: Sequence[str],
        *,
        key_column: str | None = None,
        limit: int = STATEMENT_LIMIT,
    ) -> None:
        self._sink = sink
        self._table = table
        self._columns = tuple(columns)
        self._key_column = key_column
        self._limit = limit
        self.prefix = insert_prefix(table, self._columns).encode("utf-8")
        self.budget = limit - len(self.prefix) - 1  # bytes for the rows of one statement
        self._parts: list[bytes] = []  # rows (or runs of rows) of the open statement
        self._size = 0  # their size joined by ','
        self.statements = 0
        self.rows = 0

    def _statement(self, body: bytes | None = None) -> bytes:
        """The open statement (plus ``body`` rows), ready to write; the statement is reset."""
        if body is not None:
            self._parts.append(body)
        text = self.prefix + b",".join(self._parts) + b";\n"
        self._parts = []
        self._size = 0
        return text

    def add_blob(self, marked: bytes, final: bytes, rows: int) -> list[bytes] | None:
        """Add ``rows`` rows: ``marked`` splits them by ``)\\x05(``, ``final`` by ``),(``.

        Returns the finished statements, or None (and nothing changed) when a row is too long
        for a statement of its own: that block needs the exact path.
        """
        out: list[bytes] = []
        parts, size = list(self._parts), self._size
        budget, pos, end = self.budget, 0, len(final)
        prefix = self.prefix
        while True:
            room = budget - size - 1 if parts else budget
            if end - pos <= room:
                if pos < end:
                    size += (len(parts) > 0) + end - pos
                    parts.append(final[pos:] if pos else final)
                break
            cut = marked.rfind(_BOUNDARY, pos, pos + room + 2) if room > 0 else -1
            if cut < 0:
                if not parts:
                    return None
            else:
                parts.append(final[pos : cut + 1])
                pos = cut + 2
            out.append(prefix + b",".join(parts) + b";\n")
            parts, size = [], 0
        self._parts, self._size = parts, size
        self.rows += rows
        self.statements += len(out)
        return out

    def add_row(self, row: bytes, values: Sequence[object], where: Location | None) -> list[bytes]:
        """Add one rendered row (exact path); long rows go through ``InsertWriter``'s UPDATEs."""
        out: list[bytes] = []
        size = len(row)
        if size <= self.budget:
            if self._parts and self._size + 1 + size > self.budget:
                out.append(self._statement())
            self._size += (len(self._parts) > 0) + size
            self._parts.append(row)
            self.rows += 1
            self.statements += len(out)
            return out
        if self._parts:
            out.append(self._statement())
        writer = InsertWriter(
            out.append, self._table, self._columns, key_column=self._key_column, limit=self._limit
        )
        writer.add_rendered(row, values, where=where)
        self.rows += 1
        self.statements += len(out)
        return out

    def close(self) -> list[bytes]:
        """The last statement, if any rows are pending."""
        if not self._parts:
            return []
        self.statements += 1
        return [self._statement()]
