"""Render blocks here or in worker processes, and pack them into statements in file order.

The parallel mode of the block-wise converters: this process reads and cuts the file into
blocks of whole records, spawned workers render them (``render`` in the worker, set up by
``init``), and this process packs, hashes and writes the results in order. A block the fast
path declines goes through ``exact`` here, in its place in the order.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable
from multiprocessing.pool import AsyncResult, Pool
from typing import Any

from d1tui.data.blockpack import (
    ConvertStats,
    FastPathUnsupportedError,
    HashingSink,
    StatementPacker,
)

PARALLEL_MIN_BYTES = 16 << 20  # below this, starting worker processes costs more than it saves
WORKER_TIMEOUT = 300.0  # seconds for one block (~1 MiB); far beyond any real wait

# Bytes read at a time; a block is that, cut back to whole records. Half-MiB blocks keep more of
# a block's objects in cache than 1 MiB did (~5-10 % less worker CPU, measured on 1M rows); a
# worker gets BATCH of them per task so the pool's per-task cost stays that of ~1 MiB.
BLOCK_SIZE = 512 << 10
BATCH = 2
ProgressFn = Callable[[int, int, int, int], None]  # bytes_read, rows, statements, bytes_written
Rendered = tuple[bytes, int] | None  # (marked blob, rows), or None: use the exact path
Exact = Callable[[bytes, StatementPacker, int], list[bytes]]


def worker_count(size: int, workers: int | None) -> int:
    """Workers to use: as asked, else up to 2 for files of ``PARALLEL_MIN_BYTES`` or more."""
    if workers is not None:
        return workers
    return min(2, os.cpu_count() or 1) if size >= PARALLEL_MIN_BYTES else 0


def start_pool(workers: int, init: Callable[..., None], args: tuple[Any, ...]) -> Pool | None:
    """A pool of spawned workers (never forked: the caller runs threads), or None for 0."""
    if workers <= 0:
        return None
    return multiprocessing.get_context("spawn").Pool(workers, initializer=init, initargs=args)


class Pipeline:
    """Renders blocks (here or in a pool) and packs them in file order."""

    def __init__(
        self,
        *,
        local: Callable[[bytes], Rendered],
        remote: Callable[[bytes], Rendered],
        exact: Exact,
        restore: bytes,
        packer: StatementPacker,
        sink: HashingSink,
        pool: Pool | None,
    ) -> None:
        self.local, self.remote, self.exact = local, remote, exact
        self.restore, self.packer, self.sink, self.pool = restore, packer, sink, pool
        # batches in flight: one rendering and one queued per worker (memory stays bounded)
        self.window = pool._processes + 2 if pool is not None else 0  # type: ignore[attr-defined]
        self.pending: deque[tuple[AsyncResult[list[Rendered]], list[tuple[bytes, int]]]] = deque()
        self.batch: list[tuple[bytes, int]] = []

    def submit(self, block: bytes, line: int) -> None:
        """Convert ``block`` (whose first record starts after ``line`` lines) here or remotely."""
        if self.pool is None:
            self._finish(self.local(block), block, line)
            return
        self.batch.append((block, line))
        if len(self.batch) >= BATCH:
            self._send()
        while len(self.pending) >= self.window:
            self._pop()

    def _send(self) -> None:
        assert self.pool is not None
        blocks = [block for block, _ in self.batch]
        self.pending.append((self.pool.apply_async(render_all, (self.remote, blocks)), self.batch))
        self.batch = []

    def drain(self) -> None:
        """Wait for every submitted block."""
        if self.batch:
            self._send()
        while self.pending:
            self._pop()

    def run(self, feed: Callable[[], int]) -> ConvertStats:
        """Call ``feed`` (submits every block, returns the bytes read), then finish the output.

        On any error the writer thread is stopped without raising; the workers always are.
        """
        try:
            read_total = feed()
            self.drain()
            for stmt in self.packer.close():
                self.sink.put(stmt)
            md5 = self.sink.close()
        except BaseException:
            self.sink.abort()
            raise
        finally:
            self.close()
        packer = self.packer
        return ConvertStats(
            packer.rows, packer.statements, self.sink.bytes_written, md5, read_total
        )

    def close(self) -> None:
        """Stop the workers, if any."""
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()

    def _pop(self) -> None:
        result, batch = self.pending.popleft()
        try:
            got = result.get(WORKER_TIMEOUT)
        except multiprocessing.TimeoutError as exc:  # a worker died or hangs: start over
            raise FastPathUnsupportedError("a worker process did not answer") from exc
        for rendered, (block, line) in zip(got, batch, strict=True):
            self._finish(rendered, block, line)

    def _finish(self, got: Rendered, block: bytes, line: int) -> None:
        if got is not None:
            marked, rows = got
            statements = self.packer.add_blob(marked, marked.translate(self.restore), rows)
            if statements is not None:
                self.sink.put(b"".join(statements))
                return
        self.sink.put(b"".join(self.exact(block, self.packer, line)))


def render_all(render: Callable[[bytes], Rendered], blocks: list[bytes]) -> list[Rendered]:
    """Render a batch of blocks in a worker process."""
    return [render(block) for block in blocks]
