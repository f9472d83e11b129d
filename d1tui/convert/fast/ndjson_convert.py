"""NDJSON → multi-row INSERTs a block at a time, byte-identical to the exact per-value path.

Each ~1 MiB block of whole lines is parsed by one ``orjson.loads`` call (the lines joined into a
JSON array), columns are taken with ``itemgetter`` and rendered whole when every value has the
column's own type (``str``/``int``/``float`` or ``None``), and rows are packed with ``rfind``
(``blockpack``). Anything else in a block (a line that is not an object with exactly the
columns as keys, a value of another type, a NUL, a blank line) sends that block through the exact
path: the caller's ``coerce`` per value and ``sqlgen.render_row``.
"""

from __future__ import annotations

import codecs
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from itertools import compress, repeat
from operator import is_, is_not, itemgetter
from pathlib import Path
from typing import Any

import orjson

from d1tui.convert.fast.columns import SEP, float_literals, marked_rows
from d1tui.convert.fast.pack import (
    ROW_SEP,
    ConvertStats,
    FastPathUnsupportedError,
    HashingSink,
    StatementPacker,
)
from d1tui.convert.fast.pool import (
    BLOCK_SIZE,
    Pipeline,
    ProgressFn,
    WorkerPool,
    start_pool,
    worker_count,
)
from d1tui.convert.sql.inserts import STATEMENT_LIMIT, float_literal, render_row
from d1tui.errors import BadInputError, Location

_NUL_MARK = "\x07"
_INT64 = (-(2**63), 2**63 - 1)
_EXACT_INT, _FLOAT_INT = 2**53, 2**63
_NONE = type(None)

Coerce = Callable[[object, int, Location | None], object]
Renderer = Callable[[list[Any]], list[bytes] | None]


def _nones(col: list[Any]) -> Iterator[int]:
    """Indexes of the ``None`` items of a column."""
    return compress(range(len(col)), map(is_, col, repeat(None)))


def _text(col: list[Any]) -> list[bytes] | None:
    """``'…'`` literals (quotes doubled) for a column of ``str``/``None``."""
    nones = col.count(None)
    if nones:
        col = [_NUL_MARK if v is None else v for v in col]
    text = "\x06".join(col)
    if "\x00" in text or text.count("\x06") != len(col) - 1 or "\x05" in text:
        return None
    if text.count(_NUL_MARK) != nones:
        return None
    try:
        joined = text.encode("utf-8")
    except UnicodeEncodeError:
        return None
    if b"'" in joined:
        joined = joined.replace(b"'", b"''")
    joined = b"'" + joined.replace(SEP, b"'" + SEP + b"'") + b"'"
    if nones:
        joined = joined.replace(b"'\x07'", b"NULL")
    return joined.split(SEP)


def _integer(col: list[Any]) -> list[bytes] | None:
    """Digits for a column of 64-bit ``int``/``None``."""
    nones = col.count(None)
    ints = [v for v in col if v is not None] if nones else col
    if ints and (min(ints) < _INT64[0] or max(ints) > _INT64[1]):
        return None
    if not nones:
        return list(map(b"%d".__mod__, col))
    out = [b"NULL"] * len(col)
    for i in compress(range(len(col)), map(is_not, col, repeat(None))):
        out[i] = b"%d" % col[i]
    return out


def _real(col: list[Any]) -> list[bytes] | None:
    """``sqlgen.float_literal(float(v))`` for a column of ``float``/``int``/``None``, in bulk.

    An int beyond 2**53 widens the column on the exact path; a float of 2**63 or more may be
    an integer literal ``orjson`` read as a float where ``json`` reads an int: both go there.
    """
    nones = col.count(None)
    values = [v for v in col if v is not None] if nones else col
    if values:
        lo, hi = min(values), max(values)
        if hi >= _FLOAT_INT or lo <= -_FLOAT_INT:
            return None
        if (hi > _EXACT_INT or lo < -_EXACT_INT) and int in set(map(type, values)):
            return None
    floats = [0.5 if v is None else float(v) for v in col] if nones else list(map(float, col))
    out = float_literals(floats)
    if out is None:  # NaN and infinities: the exact function handles them
        out = [float_literal(f).encode() for f in floats]
    if nones:
        for i in _nones(col):
            out[i] = b"NULL"
    return out


_RENDERERS: dict[str, tuple[frozenset[type], Renderer]] = {
    "TEXT": (frozenset({str, _NONE}), _text),
    "INTEGER": (frozenset({int, _NONE}), _integer),
    "REAL": (frozenset({float, int, _NONE}), _real),
}


def _nullable(coerce: Coerce, j: int) -> bool:
    """Whether the exact conversion stores a JSON null in column ``j`` as NULL."""
    try:
        return coerce(None, j, None) is None
    except BadInputError:
        return False


class _Blocks:
    """Converts blocks of NDJSON lines for one file's columns."""

    def __init__(
        self,
        path: Path,
        columns: Sequence[str],
        types: Sequence[str],
        coerce: Coerce,
        nullable: Sequence[bool] | None = None,
    ) -> None:
        self.path = path
        self.columns = tuple(columns)
        self.getters = [itemgetter(c) for c in self.columns]
        self.renderers = []
        for t in types:
            if t.upper() not in _RENDERERS:
                raise FastPathUnsupportedError(f"column type {t!r}")
            self.renderers.append(_RENDERERS[t.upper()])
        self.coerce = coerce
        if nullable is None:
            nullable = [_nullable(coerce, j) for j in range(len(self.columns))]
        self.nullable = list(nullable)

    def fast(self, block: bytes) -> tuple[bytes, int, int] | None:
        """``(marked, rows, lines)`` (see ``blockpool.Rendered``), or None: the exact path."""
        if b"\r" in block and block.count(b"\r") != block.count(b"\r\n"):
            raise FastPathUnsupportedError("a bare carriage return: the exact reader splits there")
        try:
            objs = orjson.loads(b"[" + block[:-1].replace(b"\n", b",") + b"]")
        except orjson.JSONDecodeError:
            return None
        if set(map(type, objs)) != {dict} or set(map(len, objs)) != {len(self.columns)}:
            return None
        columns: list[list[bytes]] = []
        for getter, (kinds, render), nullable in zip(
            self.getters, self.renderers, self.nullable, strict=True
        ):
            try:
                col = list(map(getter, objs))
            except KeyError:
                return None
            if not set(map(type, col)) <= kinds:
                return None
            if not nullable and None in col:
                return None
            lits = render(col)
            if lits is None:
                return None
            columns.append(lits)
        return marked_rows(columns, len(objs)), len(objs), len(objs)  # one object per line

    def exact(self, block: bytes, packer: StatementPacker, line: int) -> list[bytes]:
        """Convert a block line by line as the exact reader does (``json``, blank lines skipped).

        What only that reader can report (bad JSON or UTF-8, not an object, a key that is not
        a column) raises ``FastPathUnsupportedError``.
        """
        out: list[bytes] = []
        names = set(self.columns)
        for n, raw in enumerate(block.split(b"\n")[:-1], start=line + 1):
            try:
                text = raw.decode("utf-8").strip()
                if not text:
                    continue
                obj = json.loads(text)
            except ValueError as exc:  # UnicodeDecodeError, JSONDecodeError
                raise FastPathUnsupportedError(f"line {n}: {exc}") from exc
            if not isinstance(obj, dict) or not names.issuperset(obj):
                raise FastPathUnsupportedError(f"line {n}: not an object with the known keys")
            where = Location(self.path, line=n, row=packer.rows + 1)
            values = [self.coerce(obj.get(c), j, where) for j, c in enumerate(self.columns)]
            out += packer.add_row(render_row(values), values, where)
        return out


def convert_ndjson(
    path: Path,
    write: Callable[[bytes], object],
    *,
    table: str,
    columns: Sequence[str],
    column_types: Sequence[str],
    key_column: str | None = None,
    coerce: Coerce | None = None,
    hasher: object | None = None,
    limit: int = STATEMENT_LIMIT,
    block_size: int = BLOCK_SIZE,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    workers: int | None = None,
    spawned: WorkerPool | None = None,
) -> ConvertStats:
    """Convert an NDJSON file (one object per line, keys = ``columns``) to INSERT statements.

    ``coerce(value, column, where)`` is the exact path's conversion of one parsed JSON value
    (default: the value itself). Raises ``FastPathUnsupportedError`` for lines only the exact
    reader can explain (not JSON, not an object): convert the file with it instead. Files of
    16 MiB or more are rendered by up to 2 worker processes (``workers`` overrides; ``spawned``
    are worker processes already started to use).
    """
    conv = _Blocks(path, columns, column_types, coerce or _as_is)
    sink = HashingSink(write, hasher)
    packer = StatementPacker(sink, table, columns, key_column=key_column, limit=limit)
    layout = (list(columns), list(column_types), conv.nullable)
    setup = ("d1tui.convert.fast.ndjson_convert", "worker_renderer", (layout,))
    pool = start_pool(worker_count(path.stat().st_size, workers), setup, spawned)
    pipeline = Pipeline(
        local=conv.fast,
        exact=conv.exact,
        restore=_restore,
        packer=packer,
        sink=sink,
        pool=pool,
    )
    return pipeline.run(lambda: _feed(path, pipeline, block_size, progress, cancel))


def _feed(
    path: Path,
    pipeline: Pipeline,
    block_size: int,
    progress: ProgressFn | None,
    cancel: threading.Event | None,
) -> int:
    """Read, cut at line ends and submit every block; returns the bytes read."""
    packer, sink = pipeline.packer, pipeline.sink
    read_total, carry, first = 0, b"", True
    with path.open("rb") as f:
        while True:
            if cancel is not None and cancel.is_set():
                raise InterruptedError("conversion cancelled")
            chunk = f.read(block_size)
            read_total += len(chunk)
            buf = carry + chunk if carry else chunk
            if first and len(buf) >= 3:
                first = False
                if buf.startswith(codecs.BOM_UTF8):
                    buf = buf[3:]
            if chunk:
                cut = buf.rfind(b"\n") + 1
                block, carry = buf[:cut], buf[cut:]
            else:
                block, carry = (buf + b"\n" if buf and not buf.endswith(b"\n") else buf), b""
            if block:
                pipeline.submit(block)
            if progress is not None:
                progress(read_total, packer.rows, packer.statements, sink.bytes_written)
            if not chunk:
                return read_total


def _restore(marked: bytes) -> bytes:
    """The output form of a ``fast`` blob: row marks to ``,``."""
    return marked.replace(ROW_SEP, b",")


def _as_is(value: object, _column: int, _where: Location | None) -> object:
    """The default exact conversion: the parsed JSON value itself."""
    return value


def worker_renderer(
    layout: tuple[list[str], list[str], list[bool]],
) -> Callable[[bytes], tuple[bytes, int, int] | None]:
    """``_Blocks.fast`` for a worker process of the parallel mode: (columns, types, nullable)."""
    columns, types, nullable = layout
    return _Blocks(Path(), columns, types, _as_is, nullable).fast
