"""Split SQL text into statements, streaming, aware of quotes, comments and trigger bodies."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from d1tui.emulator.sqlrules import STATEMENT_LIMIT, TOO_LONG, SqlError

# Every byte that can change the scanner's state. UTF-8 continuation bytes are never ASCII,
# so scanning bytes is safe for any UTF-8 text.
_SPECIAL = re.compile(rb"['\"`\[;]|--|/\*")
_SPACE = re.compile(rb"[ \t\r\n\f\v]*")
_CLOSERS = {b"'": b"'", b'"': b'"', b"`": b"`", b"[": b"]", b"--": b"\n", b"/*": b"*/"}
_CHUNK = 1 << 20
_MAX_PENDING = 64 << 20  # a comment this long is surely not a real dump


class StatementSplitter:
    """Incremental splitter: feed bytes, get complete statements (text up to and including `;`)."""

    def __init__(self, limit: int = STATEMENT_LIMIT) -> None:
        self._buf = bytearray()
        self._start = 0  # first code byte of the current statement
        self._pos = 0  # scan position
        self._content = False  # current statement holds code, not only whitespace/comments
        self._limit = limit

    def feed(self, data: bytes) -> list[str]:
        """Add bytes; return the statements completed by them."""
        self._buf += data
        out = self._scan(final=False)
        pending = len(self._buf) - self._start
        if pending > self._limit and (self._content or pending > _MAX_PENDING):
            raise SqlError(TOO_LONG)
        self._compact()
        return out

    def finish(self) -> list[str]:
        """Flush at end of input: a trailing statement without `;` is returned as is."""
        out = self._scan(final=True)
        tail = bytes(self._buf[self._start :]).strip()
        if self._content and tail:
            out.append(self._emit(tail))
        self._buf.clear()
        self._start = self._pos = 0
        self._content = False
        return out

    def _scan(self, *, final: bool) -> list[str]:
        out: list[str] = []
        buf = self._buf
        while True:
            if not self._content:
                space = _SPACE.match(buf, self._pos)
                self._pos = self._start = space.end() if space else self._pos
            match = _SPECIAL.search(buf, self._pos)
            if match is None:
                # A lone '-' or '/' at the end may start a comment once more bytes arrive.
                waits = not final and self._pos < len(buf) and bytes(buf[-1:]) in (b"-", b"/")
                stop = len(buf) - 1 if waits else len(buf)
                self._note_code(stop)
                self._pos = stop
                return out
            self._note_code(match.start())
            token = match.group()
            if token == b";":
                self._pos = match.end()
                if not self._content:
                    continue  # an empty statement
                text = bytes(buf[self._start : self._pos])
                if sqlite3.complete_statement(text.decode("utf-8", "replace")):
                    out.append(self._emit(text.strip()))
                    self._start = self._pos
                    self._content = False
                continue
            close_at = buf.find(_CLOSERS[token], match.end())
            if close_at < 0:
                if token not in (b"--", b"/*"):
                    self._content = True
                # Wait for the rest of the quote or comment (or take it all at the end).
                self._pos = len(buf) if final else match.start()
                return out
            if token not in (b"--", b"/*"):
                self._content = True
            self._pos = close_at + len(_CLOSERS[token])

    def _note_code(self, upto: int) -> None:
        """Note whether code (not whitespace) lies between the scan position and `upto`."""
        if not self._content and bytes(self._buf[self._pos : upto]).strip():
            self._content = True

    def _emit(self, stmt: bytes) -> str:
        if len(stmt) > self._limit:
            raise SqlError(TOO_LONG)
        return stmt.decode("utf-8", "replace")

    def _compact(self) -> None:
        if self._start > _CHUNK:
            del self._buf[: self._start]
            self._pos -= self._start
            self._start = 0


def split_sql(sql: str) -> list[str]:
    """Split a request's SQL text into statements (D1 runs each one in turn)."""
    splitter = StatementSplitter(limit=1 << 62)
    return [*splitter.feed(sql.encode("utf-8", "surrogatepass")), *splitter.finish()]


def iter_chunks(stream: BinaryIO, size: int = _CHUNK) -> Iterator[bytes]:
    """Read a binary stream in fixed-size chunks."""
    while chunk := stream.read(size):
        yield chunk


def iter_statements(chunks: Iterable[bytes]) -> Iterator[str]:
    """Yield statements from a stream of bytes without holding more than one statement in memory."""
    splitter = StatementSplitter()
    for chunk in chunks:
        yield from splitter.feed(chunk)
    yield from splitter.finish()
