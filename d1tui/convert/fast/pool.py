"""Render blocks here or in worker processes, and pack them into statements in file order.

The parallel mode of the block-wise converters: this process reads and cuts the file into
blocks of whole records, worker processes (``blockworker``) render them, and this process
packs, hashes and writes the results in order. A block the fast path declines goes through
``exact`` here, in its place in the order.

Blocks reach the workers through a shared memory ring (one copy, no pickling) and results come
back over each worker's stdout; the only messages this process writes are 16-byte tasks, so it
never blocks on a worker that is itself waiting to hand back a result.
"""

from __future__ import annotations

import mmap
import os
import pickle
import select
import subprocess
import sys
import tempfile
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from d1tui.convert.fast.pack import (
    ConvertStats,
    FastPathUnsupportedError,
    HashingSink,
    StatementPacker,
)
from d1tui.convert.fast.worker import (
    DECLINED,
    FAILED,
    RENDERED,
    RESULT,
    SETUP,
    TASK,
    UNSUPPORTED,
)

PARALLEL_MIN_BYTES = 16 << 20  # below this, starting worker processes costs more than it saves
WORKER_TIMEOUT = 300.0  # seconds for one block (~0.5 MiB); far beyond any real wait

# Bytes read at a time; a block is that, cut back to whole records. Half-MiB blocks keep more of
# a block's objects in cache than 1 MiB did (~5-10 % less worker CPU, measured on 1M rows).
BLOCK_SIZE = 512 << 10
SLOT_SIZE = 2 * BLOCK_SIZE  # a longer block (a record of more than ~0.5 MiB) renders here
PIPE_SIZE = 1 << 20  # Linux's default pipe-max-size
IN_FLIGHT = 3  # blocks per worker: one rendering, two waiting (memory stays bounded)
ProgressFn = Callable[[int, int, int, int], None]  # bytes_read, rows, statements, bytes_written
# (marked blob, rows, line breaks in the block), or None: use the exact path
Rendered = tuple[bytes, int, int] | None
Exact = Callable[[bytes, StatementPacker, int], list[bytes]]
Setup = tuple[str, str, tuple[Any, ...]]  # module, factory, args: factory(*args) is the renderer


def worker_count(size: int, workers: int | None) -> int:
    """Workers to use: as asked, else up to 2 for files of ``PARALLEL_MIN_BYTES`` or more."""
    if workers is not None:
        return workers
    return min(2, os.cpu_count() or 1) if size >= PARALLEL_MIN_BYTES else 0


def spawn_pool(workers: int, preload: tuple[str, ...] = ()) -> WorkerPool | None:
    """``workers`` worker processes starting up (None for 0, or where they cannot run).

    Spawning early overlaps their start-up (~0.15 s, with the ``preload`` modules imported)
    with this process's own; ``start_pool`` then gives them their work.
    """
    if workers <= 0 or os.name != "posix" or not sys.executable:
        return None
    return WorkerPool(workers, preload)


def start_pool(workers: int, setup: Setup, spawned: WorkerPool | None = None) -> WorkerPool | None:
    """``spawned`` (else ``workers`` new worker processes) set up to render with ``setup``."""
    pool = spawned if spawned is not None else spawn_pool(workers)
    if pool is not None:
        try:
            pool.configure(setup)
        except BaseException:
            pool.close()
            raise
    return pool


def _widen_pipe(fd: int) -> None:
    """Let a worker's stdout hold a whole result (~0.75 MiB for 0.5 MiB of CSV), where allowed.

    With the default 64 KiB a worker waits, idle, until this process has read all of its last
    result; with room for one, it renders the next block meanwhile (measured: ~20 % less time).
    """
    try:
        import fcntl  # noqa: PLC0415 (POSIX only)

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)  # Linux only; capped by pipe-max-size
    except (ImportError, AttributeError, OSError):
        pass


def _ring_file() -> BinaryIO:
    """An unnamed file in memory (``memfd``), else an unlinked temporary file."""
    if hasattr(os, "memfd_create"):
        return os.fdopen(os.memfd_create("d1tui-blocks"), "w+b")  # pass_fds hands it over
    return tempfile.TemporaryFile()


class WorkerPool:
    """Worker processes rendering blocks written to a shared ring, answering in task order."""

    def __init__(self, workers: int, preload: tuple[str, ...] = ()) -> None:
        self.workers = workers
        self.slots = workers * IN_FLIGHT
        self._file = _ring_file()
        self.size = self.slots * SLOT_SIZE
        os.ftruncate(self._file.fileno(), self.size)
        self.ring = mmap.mmap(self._file.fileno(), self.size)
        # A worker imports what this process does (this d1tui first): it gets this sys.path, so
        # it can skip site and its .pth files (-S), which take 50 ms on some machines, and must
        # not put the current directory first (-P: a csv.py there would shadow the real one).
        root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, *filter(None, sys.path)]))
        self.procs: list[subprocess.Popen[bytes]] = []
        try:
            for _ in range(workers):
                proc = subprocess.Popen(
                    [sys.executable, "-S", "-P", "-m", "d1tui.convert.fast.worker", *preload],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    bufsize=0,
                    env=env,
                    pass_fds=(self._file.fileno(),),
                )
                self.procs.append(proc)
                assert proc.stdout is not None
                _widen_pipe(proc.stdout.fileno())
        except BaseException:
            self.close()
            raise

    def configure(self, setup: Setup) -> None:
        """Tell every worker what to render with (once, before the first ``send``)."""
        message = pickle.dumps((*setup, self._file.fileno(), self.size))
        for worker, proc in enumerate(self.procs):
            assert proc.stdin is not None
            try:
                proc.stdin.write(SETUP.pack(len(message)) + message)
            except BrokenPipeError as exc:
                raise FastPathUnsupportedError(self._gone(worker)) from exc

    def send(self, worker: int, slot: int, block: bytes) -> None:
        """Copy ``block`` into ``slot`` and hand it to ``worker``."""
        offset = slot * SLOT_SIZE
        self.ring[offset : offset + len(block)] = block
        stdin = self.procs[worker].stdin
        assert stdin is not None
        try:
            stdin.write(TASK.pack(offset, len(block)))
        except BrokenPipeError as exc:
            raise FastPathUnsupportedError(self._gone(worker)) from exc

    def receive(self, worker: int) -> Rendered:
        """The next result of ``worker`` (its tasks are answered in order)."""
        status, rows, lines, length = RESULT.unpack(self._read(worker, RESULT.size))
        payload = self._read(worker, length) if length else b""
        if status == RENDERED:
            return payload, rows, lines
        if status == DECLINED:
            return None
        if status == UNSUPPORTED:
            raise FastPathUnsupportedError(payload.decode())
        assert status == FAILED
        raise RuntimeError(f"a conversion worker failed:\n{payload.decode()}")

    def _read(self, worker: int, n: int) -> bytes:
        stdout = self.procs[worker].stdout
        assert stdout is not None
        buf = bytearray(n)
        view, got = memoryview(buf), 0
        poller = select.poll()  # not select.select: it fails on descriptors of 1024 and up
        poller.register(stdout.fileno(), select.POLLIN)
        while got < n:
            if not poller.poll(WORKER_TIMEOUT * 1000):
                raise FastPathUnsupportedError("a conversion worker did not answer")
            k = os.readv(stdout.fileno(), [view[got:]])
            if not k:
                raise FastPathUnsupportedError(self._gone(worker))
            got += k
        return bytes(buf)

    def _gone(self, worker: int) -> str:
        """Why ``worker`` stopped: its exit code and the last line it wrote to stderr."""
        proc = self.procs[worker]
        try:
            _, err = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            err = b""
        last = err.decode(errors="replace").strip().splitlines()[-1:] or [""]
        return f"a conversion worker stopped (exit code {proc.returncode}) {last[0]}".strip()

    def close(self) -> None:
        """Stop the workers and free the ring (again: nothing)."""
        for proc in self.procs:
            proc.kill()
            proc.wait()
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
        self.procs = []
        if not self.ring.closed:
            self.ring.close()
        self._file.close()


class Pipeline:
    """Renders blocks (here or in a pool) and packs them in file order."""

    def __init__(
        self,
        *,
        local: Callable[[bytes], Rendered],
        exact: Exact,
        restore: Callable[[bytes], bytes],
        packer: StatementPacker,
        sink: HashingSink,
        pool: WorkerPool | None,
    ) -> None:
        self.local, self.exact, self.restore = local, exact, restore
        self.packer, self.sink, self.pool = packer, sink, pool
        self.free = deque(range(pool.slots)) if pool is not None else deque()
        self.pending: deque[tuple[int, int, bytes]] = deque()  # worker, slot, block
        self.sent = 0
        self.line = 0  # line breaks before the next block to finish (for the exact path)

    def submit(self, block: bytes) -> None:
        """Convert ``block`` (whole records, the next in the file) here or remotely."""
        if self.pool is None or len(block) > SLOT_SIZE:
            self.drain()  # results stay in file order
            self._finish(self.local(block), block)
            return
        if not self.free:
            self._pop()
        slot = self.free.popleft()
        worker = self.sent % self.pool.workers
        self.pool.send(worker, slot, block)
        self.pending.append((worker, slot, block))
        self.sent += 1

    def drain(self) -> None:
        """Wait for every submitted block."""
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
            self.pool.close()

    def _pop(self) -> None:
        assert self.pool is not None
        worker, slot, block = self.pending.popleft()
        got = self.pool.receive(worker)
        self.free.append(slot)
        self._finish(got, block)

    def _finish(self, got: Rendered, block: bytes) -> None:
        if got is not None:
            marked, rows, lines = got
            statements = self.packer.add_blob(marked, self.restore(marked), rows)
            if statements is not None:
                self.sink.put(b"".join(statements))
                self.line += lines
                return
        self.sink.put(b"".join(self.exact(block, self.packer, self.line)))
        self.line += block.count(b"\n")
