"""The ``.sql`` file being written (hashed as it goes) and conversion work run in a thread."""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any, TypeVar

from d1tui.errors import ImportCancelledError
from d1tui.events import PrepareProgress

PROGRESS_SECONDS = 0.1
T = TypeVar("T")
Progress = Callable[[PrepareProgress], None]


class SqlFile:
    """The ``.sql`` file being written, hashed as it goes; deleted unless finished."""

    def __init__(self, stem: str, out_dir: Path | None, out_path: Path | None) -> None:
        if out_path is not None:
            self.path = out_path
            self.file = out_path.open("wb")
            self.temporary = False
        else:
            fd, name = tempfile.mkstemp(prefix=f"{stem}-", suffix=".sql", dir=out_dir)
            self.path = Path(name)
            self.file = os.fdopen(fd, "wb")
            self.temporary = True
        self.md5: Any = hashlib.md5()
        self.size = 0
        self.statements = 0

    def write(self, data: bytes) -> None:
        """Append bytes (hashed and counted)."""
        self.file.write(data)
        self.md5.update(data)
        self.size += len(data)

    def statement(self, sql: str) -> None:
        """Append one whole statement and its line break."""
        self.write(sql.encode("utf-8") + b"\n")
        self.statements += 1

    def reset(self) -> None:
        """Empty the file to start the conversion again."""
        self.file.seek(0)
        self.file.truncate()
        self.md5 = hashlib.md5()
        self.size = self.statements = 0

    def discard(self) -> None:
        """Close and delete the file (after an error or a cancel)."""
        self.file.close()
        self.path.unlink(missing_ok=True)


def run_in_thread(
    work: Callable[[Progress, threading.Event], T], cancel: threading.Event | None
) -> Generator[PrepareProgress, None, T]:
    """Run ``work`` in a thread, yielding its latest progress at most every 0.1 s."""
    stop = threading.Event()
    latest: list[PrepareProgress | None] = [None]
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            outcome["value"] = work(_setter(latest), stop)
        except BaseException as exc:  # handed to the consumer below
            outcome["error"] = exc
        finally:
            done.set()

    def cancelled() -> bool:
        return cancel is not None and cancel.is_set()

    if cancelled():
        stop.set()
    thread = threading.Thread(target=run, name="d1tui-prepare", daemon=True)
    thread.start()
    shown: PrepareProgress | None = None
    try:
        while not done.wait(PROGRESS_SECONDS):
            if cancelled():
                stop.set()
            if latest[0] is not None and latest[0] is not shown:
                shown = latest[0]
                yield shown
    finally:
        stop.set()  # a consumer that stops early stops the work too
        thread.join()
    error = outcome.get("error")
    if isinstance(error, InterruptedError | ImportCancelledError) or cancelled():
        raise ImportCancelledError("cancelled while preparing the SQL file") from None
    if error is not None:
        raise error
    if latest[0] is not None and latest[0] is not shown:
        yield latest[0]  # the final figures
    value: T = outcome["value"]
    return value


def _setter(slot: list[PrepareProgress | None]) -> Progress:
    def put(p: PrepareProgress) -> None:
        slot[0] = p

    return put
