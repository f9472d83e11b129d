"""Worker processes of the parallel conversion: real processes, real pipes, a shared ring."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from d1tui.convert.fast.csv_block import last_record_end, worker_renderer
from d1tui.convert.fast.csv_convert import convert_csv
from d1tui.convert.fast.pack import FastPathUnsupportedError, HashingSink
from d1tui.convert.fast.pool import SLOT_SIZE, spawn_pool, start_pool

TYPES = ["INTEGER", "TEXT", "REAL", "TEXT"]
LAYOUT = (TYPES, [0, 1, 2, 3], 4, b",", b'"', [True] * 4)
CSV_SETUP = ("d1tui.convert.fast.csv_block", "worker_renderer", (LAYOUT,))
ROOT = Path(__file__).resolve().parents[2]


def _blocks(rows: int, size: int) -> list[bytes]:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerows(
        [i, f'name "{i}", ünï\n{i}', f"{i}.25" if i % 7 else "", "" if i % 5 else "x"]
        for i in range(rows)
    )
    data = buf.getvalue().encode()
    blocks = []
    while data:
        cut = last_record_end(data[:size], b'"') if len(data) > size else len(data)
        blocks.append(data[:cut])
        data = data[cut:]
    return blocks


def test_workers_render_every_block_as_this_process_does():
    blocks = _blocks(3_000, 4 << 10)
    local = worker_renderer(LAYOUT)
    pool = start_pool(2, CSV_SETUP)
    assert pool is not None
    try:
        pids = {p.pid for p in pool.procs}
        assert len(pids) == 2 and os.getpid() not in pids
        got = []
        for i in range(0, len(blocks), pool.slots):  # fill every slot, then read in order
            batch = blocks[i : i + pool.slots]
            for slot, block in enumerate(batch):
                pool.send(slot % 2, slot, block)
            got += [pool.receive(slot % 2) for slot in range(len(batch))]
    finally:
        pool.close()
    assert len(got) == len(blocks) > 2 * pool.slots
    assert got == [local(b) for b in blocks]
    assert all(g is not None and g[1] > 0 for g in got)


def test_declined_and_unsupported_blocks_come_back_as_such():
    pool = start_pool(1, CSV_SETUP)
    assert pool is not None
    try:
        pool.send(0, 0, b'1,"a\x00b",2.5,x\n')  # a NUL: the fast path declines the block
        assert pool.receive(0) is None
        pool.send(0, 1, b'1,"a,2.5,x\n')  # an unbalanced quote: the whole file goes exact
        with pytest.raises(FastPathUnsupportedError, match="unbalanced quotes"):
            pool.receive(0)
        pool.send(0, 2, b"7,b,0.5,y\n")  # the worker is still serving
        assert pool.receive(0) == (b"(7,'b',(5.0/10),'y')", 1, 1)
    finally:
        pool.close()


def test_a_failing_renderer_reports_its_traceback():
    pool = start_pool(1, ("operator", "itemgetter", (10**9,)))  # render(block) → IndexError
    assert pool is not None
    try:
        pool.send(0, 0, b"abc")
        with pytest.raises(RuntimeError, match="IndexError"):
            pool.receive(0)
    finally:
        pool.close()


def test_a_worker_that_dies_is_reported_not_waited_for():
    pool = start_pool(2, CSV_SETUP)
    assert pool is not None
    try:
        pool.procs[1].kill()
        pool.procs[1].wait()
        with pytest.raises(FastPathUnsupportedError, match="worker stopped"):
            pool.send(1, 0, b"1,a,2.5,x\n")
            pool.receive(1)
    finally:
        pool.close()


def test_closing_the_pool_leaves_no_process_or_descriptor_behind():
    before = set(os.listdir("/proc/self/fd"))
    pool = start_pool(2, CSV_SETUP)
    assert pool is not None
    procs = list(pool.procs)
    pool.close()
    assert all(p.poll() is not None for p in procs)
    assert set(os.listdir("/proc/self/fd")) <= before


def test_no_workers_where_none_are_asked_for():
    assert start_pool(0, CSV_SETUP) is None


def _write_csv(path: Path, rows: list[list[object]]) -> None:
    buf = io.StringIO()
    csv.writer(buf).writerows([["id", "name", "score", "note"], *rows])
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")


def _convert(path: Path, workers: int) -> bytes:
    out = io.BytesIO()
    convert_csv(
        path,
        out.write,
        table="t",
        columns=["id", "name", "score", "note"],
        column_types=TYPES,
        coerce=lambda text, j, _w: None if text == "" else (int, str, float, str)[j](text),
        block_size=64 << 10,
        workers=workers,
    )
    return out.getvalue()


def test_a_record_longer_than_a_slot_is_rendered_here_in_its_place(tmp_path):
    path = tmp_path / "long.csv"
    rows: list[list[object]] = [[i, f"n{i}", i / 4, "x"] for i in range(5_000)]
    rows[2_500][3] = "y" * (SLOT_SIZE + 1000)  # one record does not fit a slot of the ring
    _write_csv(path, rows)
    assert _convert(path, 2) == _convert(path, 0)


def test_a_script_without_a_main_guard_converts_in_parallel(tmp_path):
    """Workers do not re-import the caller's main module (a ``multiprocessing`` spawn would)."""
    path = tmp_path / "f.csv"
    _write_csv(path, [[i, f"n{i}", i / 4, ""] for i in range(20_000)])
    script = f"""
import io
from pathlib import Path
from d1tui.convert.fast import pool as blockpool
from d1tui.convert.fast.csv_convert import convert_csv
started = []
real = blockpool.WorkerPool.__init__
def spy(self, *a):
    real(self, *a)
    started.append(len(self.procs))
blockpool.WorkerPool.__init__ = spy
out = io.BytesIO()
stats = convert_csv(Path({str(path)!r}), out.write, table="t", columns=["a", "b", "c", "d"],
    column_types=["INTEGER", "TEXT", "REAL", "TEXT"], block_size=64 << 10, workers=2,
    coerce=lambda t, j, w: None if t == "" else (int, str, float, str)[j](t))
print(stats.rows, started)
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-"],
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["20000", "[2]"]


def test_ctrl_c_is_left_to_the_parent():
    """Ctrl+C reaches every process of the group; a worker ignores it, the parent cancels."""
    pool = start_pool(1, CSV_SETUP)
    assert pool is not None
    try:
        pool.send(0, 0, b"1,a,2.5,x\n")
        assert pool.receive(0) is not None  # started and serving
        os.kill(pool.procs[0].pid, signal.SIGINT)
        pool.send(0, 1, b"2,b,0.5,y\n")
        assert pool.receive(0) == (b"(2,'b',(5.0/10),'y')", 1, 1)
        assert pool.procs[0].poll() is None
    finally:
        pool.close()


def test_a_csv_py_in_the_current_directory_does_not_reach_the_workers(tmp_path, monkeypatch):
    """Workers run with -P: the directory d1tui is run from is not searched first."""
    (tmp_path / "csv.py").write_text("raise ImportError('a csv.py of the user')\n")
    monkeypatch.chdir(tmp_path)
    pool = start_pool(1, CSV_SETUP)
    assert pool is not None
    try:
        pool.send(0, 0, b"1,a,2.5,x\n")
        assert pool.receive(0) == (b"(1,'a',(25.0/10),'x')", 1, 1)
    finally:
        pool.close()


def test_workers_that_die_before_their_setup_are_closed_and_reported():
    pool = spawn_pool(1)
    assert pool is not None
    pool.procs[0].kill()
    pool.procs[0].wait()
    with pytest.raises(FastPathUnsupportedError, match="worker stopped"):
        start_pool(1, CSV_SETUP, pool)
    assert pool.procs == [] and pool.ring.closed


def test_a_converter_failing_while_it_sets_up_leaves_no_writer_thread(tmp_path):
    """Its workers died before their setup: the error comes back, and nothing keeps running."""
    path = tmp_path / "f.csv"
    _write_csv(path, [[i, f"n{i}", i / 4, "x"] for i in range(100)])
    pool = spawn_pool(1)
    assert pool is not None
    pool.procs[0].kill()
    pool.procs[0].wait()
    with pytest.raises(FastPathUnsupportedError, match="worker stopped"):
        convert_csv(
            path,
            io.BytesIO().write,
            table="t",
            columns=["id", "name", "score", "note"],
            column_types=TYPES,
            coerce=lambda text, j, _w: None if text == "" else (int, str, float, str)[j](text),
            spawned=pool,
        )
    assert not [t for t in threading.enumerate() if t.name == "d1tui-sql-writer"]


def test_a_sink_hashes_what_it_writes_and_nothing_when_given_nothing():
    out = io.BytesIO()
    used = HashingSink(out.write)
    used.put(b"abc")
    assert used.close() == hashlib.md5(b"abc").hexdigest() and out.getvalue() == b"abc"
    assert HashingSink(out.write).close() == hashlib.md5(b"").hexdigest()
