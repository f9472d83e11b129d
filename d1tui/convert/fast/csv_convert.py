"""CSV → multi-row INSERTs a block at a time, byte-identical to the exact per-value path.

The fast path runs no Python code per row or value: each ~0.5 MiB block of complete records is
split once on the quote character (which locates quoted spans), delimiters and line breaks inside
quotes are swapped for sentinel bytes, fields are split once, columns are taken by slicing and
validated and rendered whole (``csvblock``, ``fastcols``), and the rows are packed into
statements with ``rfind`` (``blockpack``) while another thread hashes and writes. A block holding
anything the fast path does not model (a sentinel or NUL byte, a number that is not canonical, a
row too long for one statement) is converted by the exact path instead: ``csv`` parsing, the
caller's value conversion and ``sqlgen.render_row``. Quoting the fast path cannot follow (a stray
quote, a ragged row, a bare CR) raises ``FastPathUnsupportedError`` and the caller converts the
whole file with its exact reader, which also reports errors precisely.

Large files are rendered by worker processes (parallel mode): this process reads and cuts the
blocks, the workers render them, and this process packs, hashes and writes them in order.
"""

from __future__ import annotations

import codecs
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from d1tui.convert.fast.columns import renderers_for
from d1tui.convert.fast.csv_block import (
    Coerce,
    CsvBlock,
    last_record_end,
    record_end,
)
from d1tui.convert.fast.pack import (
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
from d1tui.convert.sql.inserts import STATEMENT_LIMIT
from d1tui.errors import BadInputError


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
    coerce: Coerce | None = None,
    hasher: object | None = None,
    limit: int = STATEMENT_LIMIT,
    block_size: int = BLOCK_SIZE,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    workers: int | None = None,
    spawned: WorkerPool | None = None,
) -> ConvertStats:
    """Convert a UTF-8 CSV file to INSERT statements written through ``write``.

    Args:
        columns / column_types: the target columns and their declared SQL types, in output order.
        select: for each output column the index of its CSV field (default: the same order).
        width: fields per CSV record (default: ``len(columns)``).
        coerce: the exact path's value conversion ``(text, output_column, where) -> value``.
        hasher: an md5 object to continue (e.g. after a ``CREATE TABLE`` written first).
        workers: rendering processes; ``None`` picks up to 2 for files over 16 MiB, 0 for none.
        spawned: worker processes already started (``blockpool.spawn_pool``) to use instead.
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
    nullable = [_probe(coerce, j, t) for j, t in enumerate(column_types)]
    conv = CsvBlock(
        path,
        renderers=renderers,
        select=sel,
        width=nfields,
        delimiter=delimiter.encode(),
        quotechar=quotechar.encode(),
        coerce=coerce,
        nullable=nullable,
    )
    sink = HashingSink(write, hasher)
    packer = StatementPacker(sink, table, columns, key_column=key_column, limit=limit)
    layout = (list(column_types), sel, nfields, conv.delim, conv.quote, conv.nullable)
    setup = ("d1tui.convert.fast.csv_block", "worker_renderer", (layout,))
    pool = start_pool(worker_count(path.stat().st_size, workers), setup, spawned)
    pipeline = Pipeline(
        local=conv.fast,
        exact=conv.exact,
        restore=conv.restore,
        packer=packer,
        sink=sink,
        pool=pool,
    )
    return pipeline.run(
        lambda: _feed(
            path,
            pipeline,
            conv.quote,
            has_header=has_header,
            block_size=block_size,
            progress=progress,
            cancel=cancel,
        )
    )


_PROBES: dict[str, tuple[tuple[str, object], ...]] = {
    "TEXT": (("x'1", "x'1"),),
    "INTEGER": (("12", 12), ("-7", -7)),
    "REAL": (("1.5", 1.5), ("2", 2.0), ("1e3", 1000.0)),
}


def _probe(coerce: Coerce, j: int, column_type: str) -> bool:
    """Check ``coerce`` converts column ``j`` as the renderers assume; True if empty is NULL.

    The renderers reproduce the exact path's conversion; a few probe values confirm it
    converts this column that way (else the fast path is refused rather than diverging).
    """
    for text, want in _PROBES[column_type.upper()]:
        try:
            got = coerce(text, j, None)
        except Exception as exc:
            raise FastPathUnsupportedError(f"column {j}: {text!r} is not converted") from exc
        if type(got) is not type(want) or got != want:
            raise FastPathUnsupportedError(f"column {j} converts {text!r} to {got!r}")
    try:
        return coerce("", j, None) is None
    except BadInputError:
        return False  # NOT NULL: blocks with an empty value go the exact way, which says so


def _feed(
    path: Path,
    pipeline: Pipeline,
    quote: bytes,
    *,
    has_header: bool,
    block_size: int,
    progress: ProgressFn | None,
    cancel: threading.Event | None,
) -> int:
    """Read, cut and submit every block; returns the bytes read."""
    packer, sink = pipeline.packer, pipeline.sink
    with path.open("rb") as f:
        buf = f.read(block_size)
        read_total = len(buf)
        if buf.startswith(codecs.BOM_UTF8):
            buf = buf[3:]
        if has_header:
            while (end := record_end(buf, quote)) < 0:
                chunk = f.read(block_size)
                if not chunk:
                    end = len(buf)
                    break
                read_total += len(chunk)
                buf += chunk
            if not buf[:end].strip(b"\r\n"):
                raise FastPathUnsupportedError("blank lines before the header")
            pipeline.line = buf.count(b"\n", 0, end)
            buf = buf[end:]
        carry = buf
        while True:
            if cancel is not None and cancel.is_set():
                raise InterruptedError("conversion cancelled")
            chunk = f.read(block_size)
            read_total += len(chunk)
            buf = carry + chunk if carry else chunk
            if chunk:
                cut = last_record_end(buf, quote)
                if cut < 0:
                    carry = buf
                    continue
            else:
                buf = buf.rstrip(b"\r\n") + b"\n" if buf.strip(b"\r\n") else b""
                cut = len(buf)
            block, carry = (buf, b"") if cut == len(buf) else (buf[:cut], buf[cut:])
            if block:
                pipeline.submit(block)
            if progress is not None:
                progress(read_total, packer.rows, packer.statements, sink.bytes_written)
            if not chunk:
                return read_total
