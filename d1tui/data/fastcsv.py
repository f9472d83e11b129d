"""CSV → multi-row INSERTs a block at a time, byte-identical to the exact per-value path.

The fast path runs no Python code per row or value: each ~1 MiB block of complete records is
split once on the quote character (which locates quoted spans), delimiters and line breaks inside
quotes are swapped for sentinel bytes, fields are split once, columns are taken by slicing and
validated and rendered whole (``fastcols``), and the rows are packed into statements with
``rfind`` (``blockpack``). A block holding anything the fast path does not model (a sentinel or
NUL byte, a number that is not canonical, a row too long for one statement) is converted by the
exact path instead: ``csv`` parsing and ``sqlgen.render_row``. Quoting the fast path cannot
follow (a stray quote, a ragged row, a bare CR) raises ``FastPathUnsupportedError`` before the
block is written, and the caller converts the whole file with the exact path, which also
reports errors precisely.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Callable, Sequence
from itertools import compress, repeat
from operator import not_
from pathlib import Path

from d1tui.d1.errors import Location
from d1tui.data.blockpack import (
    ROW_SEP,
    ConvertStats,
    FastPathUnsupportedError,
    HashingSink,
    StatementPacker,
)
from d1tui.data.fastcols import (
    SEP,
    ColumnRenderer,
    renderers_for,
)
from d1tui.data.sqlgen import STATEMENT_LIMIT, render_row

BLOCK_SIZE = 1 << 20
_SENTINEL_BYTES = tuple(bytes([b]) for b in range(9))  # NUL, and the bytes used as markers
_LINE = b"\x07"  # starts every record but the first while a block is split into fields
_Q = b"\x01"  # stands for the quote character while quoted spans are rewritten
_S_DELIM, _S_LF, _S_CR = b"\x02", b"\x03", b"\x04"  # delimiter, LF, CR inside quotes
_BOUNDARY = b")" + ROW_SEP + b"("
_BOM = b"\xef\xbb\xbf"

ProgressFn = Callable[[int, int, int, int], None]  # bytes_read, rows, statements, bytes_written


class _Block:
    """Converts one block of complete records (fast path, else exact) for one file's layout."""

    def __init__(
        self,
        path: Path,
        *,
        renderers: Sequence[ColumnRenderer],
        select: Sequence[int],
        width: int,
        delimiter: bytes,
        quotechar: bytes,
        coerce: Callable[[str, int, Location], object],
    ) -> None:
        self.path = path
        self.renderers = renderers
        self.select = select
        self.width = width
        self.delim = delimiter
        self.quote = quotechar
        self.coerce = coerce
        # marked blob → output: sentinels back to what they stand for, ROW_SEP and SEP to ','
        self.restore = bytes.maketrans(
            SEP + ROW_SEP + _S_DELIM + _S_LF + _S_CR, b",," + delimiter + b"\n\r"
        )

    def fast(self, buf: bytes) -> tuple[bytes, bytes, int] | None:
        """``(marked, final, rows)`` for ``StatementPacker.add_blob``, or None: use the exact path.

        Raises ``FastPathUnsupportedError`` when the quoting or row shape is not plain CSV.
        """
        if any(map(buf.__contains__, _SENTINEL_BYTES)):
            return None
        delim, text = self.delim, buf
        parts = buf.split(self.quote)
        if len(parts) > 1:
            if len(parts) % 2 == 0:
                raise FastPathUnsupportedError("unbalanced quotes")
            inner = _Q.join(parts[1::2])
            for plain, sentinel in ((delim, _S_DELIM), (b"\n", _S_LF), (b"\r", _S_CR)):
                if plain in inner:
                    inner = inner.replace(plain, sentinel)
            parts[1::2] = inner.split(_Q)
            self._unquote(parts)
            text = b"".join(parts)
        if b"\r" in text:
            if text.count(b"\r") != text.count(b"\r\n"):
                raise FastPathUnsupportedError("a bare carriage return outside quotes")
            text = text.replace(b"\r\n", b"\n")
        if b"'" in text:
            text = text.replace(b"'", b"''")
        # Every record after the first starts with _LINE: then counting _LINE in the first
        # column proves each record has exactly `width` fields.
        rows, width = text.count(b"\n"), self.width
        flat = text.replace(b"\n", delim + _LINE).split(delim)
        if flat.pop() != _LINE or len(flat) != rows * width:
            raise FastPathUnsupportedError("rows with differing numbers of fields")
        first = SEP.join(flat[0::width])
        if first.count(_LINE) != rows - 1:
            raise FastPathUnsupportedError("rows with differing numbers of fields")
        flat[0::width] = first.replace(_LINE, b"").split(SEP)
        ncols = len(self.select)
        out: list[bytes] = [_BOUNDARY] * (rows * (ncols + 1) - 1)
        for j, (k, renderer) in enumerate(zip(self.select, self.renderers, strict=True)):
            col = renderer(flat[k::width])
            if col is None:
                return None
            out[j :: ncols + 1] = col
        marked = b"(" + SEP.join(out).replace(SEP + _BOUNDARY + SEP, _BOUNDARY) + b")"
        return marked, marked.translate(self.restore), rows

    def _unquote(self, parts: list[bytes]) -> None:
        """Check that quotes open and close whole fields; turn doubled quotes into one.

        ``parts`` is a block split on the quote character: odd items are quoted text, an empty
        even item between two quoted spans is an escaped quote, any other even item must start
        right after a closing quote with a delimiter or line break and end with one before
        the next opening quote.
        """
        delim = self.delim
        starts, ends = (delim, b"\n", b"\r"), (delim, b"\n")
        mids = parts[2:-1:2]
        escapes = mids.count(b"")
        opened = sum(map(bytes.endswith, mids, repeat(ends)))
        closed = sum(map(bytes.startswith, mids, repeat(starts)))
        if opened + escapes != len(mids) or closed + escapes != len(mids):
            raise FastPathUnsupportedError("a quote character inside an unquoted field")
        if parts[0] and not parts[0].endswith(ends):
            raise FastPathUnsupportedError("a quote character inside an unquoted field")
        if parts[-1] and not parts[-1].startswith(starts):
            raise FastPathUnsupportedError("a quote character inside an unquoted field")
        if escapes:
            for i in compress(range(len(mids)), map(not_, mids)):
                parts[2 + 2 * i] = self.quote

    def exact(
        self, buf: bytes, packer: StatementPacker, line: int, row: int
    ) -> tuple[list[bytes], int]:
        """Convert a block value by value; returns statements and the number of rows."""
        try:
            text = buf.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FastPathUnsupportedError("undecodable bytes") from exc
        reader = csv.reader(
            io.StringIO(text, newline=""),
            delimiter=self.delim.decode(),
            quotechar=self.quote.decode(),
        )
        out: list[bytes] = []
        n = 0
        for fields in reader:
            if len(fields) != self.width:
                raise FastPathUnsupportedError("rows with differing numbers of fields")
            n += 1
            where = Location(self.path, line=line + reader.line_num, row=row + n)
            values = [self.coerce(fields[k], j, where) for j, k in enumerate(self.select)]
            out += packer.add_row(render_row(values), values, where)
        return out, n


def _record_end(buf: bytes, quote: bytes, start: int = 0) -> int:
    """Offset just past the first record-ending LF outside quotes at or after ``start``, or -1."""
    pos = start
    while (nl := buf.find(b"\n", pos)) >= 0:
        if buf.count(quote, start, nl) % 2 == 0:
            return nl + 1
        pos = nl + 1
    return -1


def _last_record_end(buf: bytes, quote: bytes) -> int:
    """Offset just past the last record-ending LF outside quotes (``buf`` starts a record)."""
    nl = len(buf)
    quotes = buf.count(quote)
    while (nl := buf.rfind(b"\n", 0, nl)) >= 0:
        if (quotes - buf.count(quote, nl)) % 2 == 0:
            return nl + 1
    return -1


def convert_csv(
    path: Path,
    write: Callable[[bytes], object],
    *,
    table: str,
    columns: Sequence[str],
    column_types: Sequence[str],
    select: Sequence[int] | None = None,
    width: int | None = None,
    delimiter: str = ",",
    quotechar: str = '"',
    has_header: bool = True,
    key_column: str | None = None,
    coerce: Callable[[str, int, Location], object] | None = None,
    hasher: object | None = None,
    limit: int = STATEMENT_LIMIT,
    block_size: int = BLOCK_SIZE,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> ConvertStats:
    """Convert a UTF-8 CSV file to INSERT statements written through ``write``.

    Args:
        columns / column_types: the target columns and their declared SQL types, in output order.
        select: for each output column the index of its CSV field (default: the same order).
        width: fields per CSV record (default: ``len(columns)``).
        coerce: the exact path's value conversion ``(text, output_column, where) -> value``.
        hasher: an md5 object to continue (e.g. after a ``CREATE TABLE`` written first).
    Raises ``FastPathUnsupportedError`` when the file needs the exact path from its start.
    """
    sel = list(range(len(columns))) if select is None else list(select)
    nfields = len(sel) if width is None else width
    if len(delimiter.encode()) != 1 or len(quotechar.encode()) != 1 or quotechar in "\r\n":
        raise FastPathUnsupportedError("multi-byte delimiter or quote character")
    if nfields < 2 or not columns:
        raise FastPathUnsupportedError("fewer than two fields per record")
    renderers = renderers_for(column_types)
    if coerce is None:
        raise FastPathUnsupportedError("no exact value conversion given")
    conv = _Block(
        path,
        renderers=renderers,
        select=sel,
        width=nfields,
        delimiter=delimiter.encode(),
        quotechar=quotechar.encode(),
        coerce=coerce,
    )
    sink = HashingSink(write, hasher)
    packer = StatementPacker(sink, table, columns, key_column=key_column, limit=limit)
    try:
        read_total, lines, rows = _run(
            path,
            conv,
            packer=packer,
            sink=sink,
            has_header=has_header,
            block_size=block_size,
            progress=progress,
            cancel=cancel,
        )
        for stmt in packer.close():
            sink.put(stmt)
        md5 = sink.close()
    except BaseException:
        sink.abort()
        raise
    del lines, rows
    return ConvertStats(packer.rows, packer.statements, sink.bytes_written, md5, read_total)


def _run(
    path: Path,
    conv: _Block,
    *,
    packer: StatementPacker,
    sink: HashingSink,
    has_header: bool,
    block_size: int,
    progress: ProgressFn | None,
    cancel: threading.Event | None,
) -> tuple[int, int, int]:
    """Read, convert and queue every block; returns bytes read, lines and rows."""
    quote, line = conv.quote, 0
    with path.open("rb") as f:
        buf = f.read(block_size)
        read_total = len(buf)
        if buf.startswith(_BOM):
            buf = buf[3:]
        if has_header:
            while (end := _record_end(buf, quote)) < 0:
                chunk = f.read(block_size)
                if not chunk:
                    end = len(buf)
                    break
                read_total += len(chunk)
                buf += chunk
            line = buf.count(b"\n", 0, end)
            buf = buf[end:]
        carry = buf
        while True:
            if cancel is not None and cancel.is_set():
                raise InterruptedError("conversion cancelled")
            chunk = f.read(block_size)
            read_total += len(chunk)
            buf = carry + chunk if carry else chunk
            if chunk:
                cut = _last_record_end(buf, quote)
                if cut < 0:
                    carry = buf
                    continue
            else:
                if buf and not buf.endswith(b"\n"):
                    buf += b"\n"
                cut = len(buf)
            block, carry = (buf, b"") if cut == len(buf) else (buf[:cut], buf[cut:])
            if block:
                _convert_block(conv, packer, sink, block, line)
                line += block.count(b"\n")
            if progress is not None:
                progress(read_total, packer.rows, packer.statements, sink.bytes_written)
            if not chunk:
                return read_total, line, packer.rows


def _convert_block(
    conv: _Block, packer: StatementPacker, sink: HashingSink, block: bytes, line: int
) -> None:
    """Convert one block by the fast path if it can, else by the exact path, and queue it."""
    got = conv.fast(block)
    if got is not None:
        marked, final, rows = got
        try:
            final.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FastPathUnsupportedError("undecodable bytes") from exc
        statements = packer.add_blob(marked, final, rows)
        if statements is not None:
            sink.put(b"".join(statements))
            return
    out, _ = conv.exact(block, packer, line, packer.rows)
    sink.put(b"".join(out))
