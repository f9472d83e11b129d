"""A worker process of the parallel conversion: renders the blocks its parent hands over.

Started by ``blockpool.WorkerPool`` as ``python -m d1tui.convert.fast.worker``. Its stdin carries
one setup message (which renderer to build, and the shared ring of input blocks), then one
``(offset, length)`` task per block; its stdout carries one framed result per task, in order.
Nothing else is imported, so a worker starts in a fraction of the time a ``multiprocessing``
spawn takes (that re-imports the parent's main module), and the parent's main module needs no
``if __name__ == "__main__"`` guard.
"""

from __future__ import annotations

import contextlib
import importlib
import mmap
import pickle
import signal
import struct
import sys
import traceback
from typing import BinaryIO

from d1tui.convert.fast.pack import FastPathUnsupportedError

SETUP = struct.Struct("<I")  # length of the pickled setup message that follows
TASK = struct.Struct("<QQ")  # offset and length of a block in the ring
RESULT = struct.Struct("<BQQQ")  # status, rows, line breaks, length of the payload that follows
RENDERED, DECLINED, UNSUPPORTED, FAILED = range(4)


def _read(stream: BinaryIO, n: int) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise EOFError
    return data


def serve(stdin: BinaryIO, stdout: BinaryIO) -> None:
    """Answer tasks until stdin closes (see the module doc for the protocol)."""
    (size,) = SETUP.unpack(_read(stdin, SETUP.size))
    module, factory, args, ring_fd, ring_size = pickle.loads(_read(stdin, size))
    render = getattr(importlib.import_module(module), factory)(*args)
    with mmap.mmap(ring_fd, ring_size, access=mmap.ACCESS_READ) as ring:
        while header := stdin.read(TASK.size):
            offset, length = TASK.unpack(header)
            try:
                got = render(ring[offset : offset + length])
            except FastPathUnsupportedError as exc:
                status, rows, lines, payload = UNSUPPORTED, 0, 0, str(exc).encode()
            except Exception:
                status, rows, lines, payload = FAILED, 0, 0, traceback.format_exc().encode()
            else:
                if got is None:
                    status, rows, lines, payload = DECLINED, 0, 0, b""
                else:
                    status, (payload, rows, lines) = RENDERED, got
            stdout.write(RESULT.pack(status, rows, lines, len(payload)))
            stdout.write(payload)
            stdout.flush()


def main() -> None:
    """Entry point of ``python -m d1tui.convert.fast.worker [MODULE …]``."""
    # Ctrl+C reaches the whole process group: the parent cancels, then stops this worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for module in sys.argv[1:]:
        importlib.import_module(module)
    with contextlib.suppress(EOFError, BrokenPipeError):  # the parent went away
        serve(sys.stdin.buffer, sys.stdout.buffer)


if __name__ == "__main__":
    main()
