"""Import jobs: init / ingest / poll, one all-or-nothing SQLite transaction per job, in a thread."""

from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from d1tui.emulator.execution import (
    QUERY_TIME_LIMIT,
    commit,
    execute_one,
    last_row_id,
    meta_block,
    size_of,
)
from d1tui.emulator.splitter import iter_chunks, iter_statements
from d1tui.emulator.sqlrules import Authorizer, SqlError, connect
from d1tui.emulator.store import DatabaseRecord, Store, StoreError
from d1tui.emulator.uploads import Uploads, object_name

NOT_IMPORTING = "Not currently importing anything."
BUSY = (
    "Currently processing a long-running import. "
    "Cannot start another import until that completes or times out."
)
FAILURE_SHAPES = ("status_error+errors", "inner", "status_error", "status_errors")
_ETAG = re.compile(r"[0-9a-fA-F]{32}")
_PROGRESS_EVERY = 0.25  # seconds between "Processed N queries." lines when not stepping

Answer = tuple[int, dict[str, Any]]


@dataclass
class ImportSettings:
    """Timing and answer-shape knobs (read at use time, so tests may change them live)."""

    hold_seconds: float = 1.0
    no_poll_timeout: float = 15.0
    statements_per_step: int | None = None
    step_seconds: float = 0.0
    failure_shape: str = "status_error+errors"
    query_time_limit: float = QUERY_TIME_LIMIT  # seconds a /query or /raw request may run


class _StopImportError(Exception):
    """The job must end now (no poll in time, or the emulator is stopping)."""


def inner_failure(text: str) -> dict[str, Any]:
    """The bare failure payload (inner `success:false`)."""
    return {"success": False, "error": text}


def check_etag(etag: object) -> str:
    """A 32-hex md5 (normalised to lower case) or a 400 refusal."""
    if not isinstance(etag, str) or not _ETAG.fullmatch(etag):
        raise StoreError(400, 7400, "etag must be the file's md5 as 32 hexadecimal characters.")
    return etag.lower()


class ImportJob:
    """One import: the worker thread's progress and the answer owed to the next poll."""

    def __init__(
        self,
        store: Store,
        record: DatabaseRecord,
        source: Path,
        settings: ImportSettings,
        on_end: Callable[[bool], None] = lambda ok: None,
    ):
        self.store = store
        self.record = record
        self.source = source
        self.on_end = on_end
        self.settings = settings
        self.at_bookmark = store.bookmark(record.uuid)
        self.cond = threading.Condition()
        self.messages: list[str] = []
        self.state = "active"  # → "complete" | "error"
        self.error = ""
        self.final: dict[str, Any] = {}
        self.delivered = False
        self.stopping = threading.Event()
        self.last_poll = time.monotonic()
        self._holding = 0  # answers being held right now (a poll in progress keeps it alive)
        self.processed = 0
        self._logged = -1
        self._cancel_text = ""
        self.thread = threading.Thread(
            target=self._run, name=f"d1-import-{record.uuid}", daemon=True
        )

    # ---- worker side -------------------------------------------------------------------
    def _log(self, line: str) -> None:
        with self.cond:
            self.messages.append(line)

    def _log_progress(self) -> None:
        if self.processed != self._logged:
            self._logged = self.processed
            self._log(f"Processed {self.processed} queries.")

    def _must_stop(self) -> bool:
        if self.stopping.is_set():
            self._cancel_text = self._cancel_text or "D1 DB reset because its code was updated."
            return True
        timeout = self.settings.no_poll_timeout
        if self._holding == 0 and time.monotonic() - self.last_poll > timeout:
            self._cancel_text = f"Cancelled due to no poll() received in {round(timeout * 1000)}ms."
            return True
        return False

    def _check(self) -> None:
        if self._must_stop():
            raise _StopImportError

    def _pause(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self._check()
            time.sleep(min(left, 0.02))

    def _run(self) -> None:
        uuid = self.record.uuid
        outcome: tuple[str, str | dict[str, Any]]
        try:
            with self.store.db_lock(uuid):
                conn, auth = connect(self.store.file_of(uuid))
                try:
                    conn.set_progress_handler(self._must_stop, 1000)
                    outcome = ("complete", self._execute(conn, auth))
                finally:
                    with contextlib.suppress(sqlite3.Error):
                        if conn.in_transaction:
                            conn.execute("ROLLBACK")
                    conn.close()
        except SqlError as exc:
            outcome = ("error", self._cancel_text or exc.text)
        except _StopImportError:
            outcome = ("error", self._cancel_text)
        except Exception as exc:  # never leave the database locked
            outcome = ("error", f"D1_ERROR: internal error: {type(exc).__name__}: {exc}")
        # Settle the upload, then free the database, before anyone can learn the outcome.
        with contextlib.suppress(Exception):  # cleaning up never changes the outcome
            self.on_end(outcome[0] == "complete")
        self.store.importing.discard(uuid)
        with self.cond:
            self.state = outcome[0]
            if isinstance(outcome[1], dict):
                self.final = outcome[1]
            else:
                self.error = outcome[1]
            self.cond.notify_all()

    def _execute(self, conn: sqlite3.Connection, auth: Authorizer) -> dict[str, Any]:
        """Run the file in one transaction and commit it; return the `result` block."""
        totals = {"duration": 0.0, "read": 0, "written": 0}
        changed = False
        conn.execute("BEGIN")
        self._log("Starting import...")
        last_note = time.monotonic()
        with open(self.source, "rb") as fh:
            for statement in iter_statements(iter_chunks(fh)):
                self._check()
                out = execute_one(conn, auth, statement, keep_rows=False)
                self.processed += 1
                totals["duration"] += out.duration_ms
                totals["read"] += max(out.rows_seen, out.changes)
                totals["written"] += out.changes
                changed = changed or out.changed_db
                step = self.settings.statements_per_step
                if step and self.processed % step == 0:
                    self._log_progress()
                    self._pause(self.settings.step_seconds)
                elif time.monotonic() - last_note > _PROGRESS_EVERY:
                    self._log_progress()
                    last_note = time.monotonic()
        self._check()
        # Everything the answer needs is gathered before COMMIT: once the rows are in, no
        # later failure (say, the index cannot be written) may report the import as failed.
        meta = meta_block(
            region=self.record.region,
            duration_ms=totals["duration"],
            changes=int(totals["written"]),
            last_id=last_row_id(conn),
            changed_db=changed,
            size_after=size_of(conn),
            rows_read=int(totals["read"]),
            rows_written=int(totals["written"]),
        )
        commit(conn)
        self._log_progress()
        final_bookmark = self.store.bump(self.record.uuid)
        return {"final_bookmark": final_bookmark, "num_queries": self.processed, "meta": meta}

    # ---- answer side -------------------------------------------------------------------
    def touch(self) -> None:
        """A poll arrived: reset the no-poll countdown."""
        self.last_poll = time.monotonic()

    def hold(self) -> None:
        """Wait up to hold_seconds for the job to finish."""
        with self.cond:
            self._holding += 1
            try:
                self.cond.wait_for(
                    lambda: self.state != "active", timeout=self.settings.hold_seconds
                )
            finally:
                self._holding -= 1

    def answer(self) -> Answer:
        """The polling response owed now (the final one is handed out only once)."""
        with self.cond:
            if self.delivered:
                return 200, inner_failure(NOT_IMPORTING)
            messages, self.messages = self.messages, []
            base: dict[str, Any] = {
                "success": True,
                "type": "import",
                "status": self.state,
                "at_bookmark": self.at_bookmark,
                "messages": messages,
            }
            if self.state == "active":
                return 202, base
            self.delivered = True
            if self.state == "complete":
                return 200, {**base, "result": self.final}
            return 200, self._failure(base)

    def _failure(self, base: dict[str, Any]) -> dict[str, Any]:
        shape = self.settings.failure_shape
        if shape == "inner":
            return inner_failure(self.error)
        if shape == "status_error":
            return {**base, "error": self.error}
        if shape == "status_errors":
            return {**base, "errors": [self.error]}
        return {**base, "error": self.error, "errors": [self.error]}


class Imports:
    """The import service of one emulator: at most one job per database."""

    def __init__(self, store: Store, uploads: Uploads, settings: ImportSettings) -> None:
        self.store = store
        self.uploads = uploads
        self.settings = settings
        self._lock = threading.Lock()
        self._jobs: dict[str, ImportJob] = {}

    def _start(self, record: DatabaseRecord, filename: str) -> ImportJob | None:
        with self._lock:
            if record.uuid in self.store.importing:
                return None
            self.store.importing.add(record.uuid)
            self.uploads.started(filename)
            job = ImportJob(
                self.store,
                record,
                self.uploads.path_of(filename),
                self.settings,
                on_end=lambda ok: self.uploads.finished(filename, ok=ok),
            )
            self._jobs[record.uuid] = job
        job.thread.start()
        return job

    def _held_answer(self, job: ImportJob) -> Answer:
        job.touch()
        job.hold()
        job.touch()
        return job.answer()

    def init(self, record: DatabaseRecord, etag_value: object) -> Answer:
        """Hand out an upload URL, or start at once if this file is already uploaded."""
        etag = check_etag(etag_value)
        if record.uuid in self.store.importing:
            return 200, inner_failure(BUSY)
        filename = object_name(record.uuid, etag)
        if self.uploads.stored_md5(filename) == etag:
            job = self._start(record, filename)
            return self._held_answer(job) if job else (200, inner_failure(BUSY))
        return 200, {"filename": filename, "upload_url": self.uploads.signed_url(filename)}

    def ingest(self, record: DatabaseRecord, etag_value: object, filename: object) -> Answer:
        """Start importing an uploaded file whose md5 matches the etag."""
        etag = check_etag(etag_value)
        if not isinstance(filename, str):
            raise StoreError(400, 7400, "filename (from the init answer) is required.")
        if record.uuid in self.store.importing:
            return 200, inner_failure(BUSY)
        if filename != object_name(record.uuid, etag) or self.uploads.stored_md5(filename) != etag:
            return 200, inner_failure(f"Input file {filename} missing or invalid")
        job = self._start(record, filename)
        return self._held_answer(job) if job else (200, inner_failure(BUSY))

    def _job_for(self, record: DatabaseRecord, bookmark: object) -> ImportJob | None:
        if not isinstance(bookmark, str):
            raise StoreError(400, 7400, "current_bookmark (from the ingest answer) is required.")
        with self._lock:
            job = self._jobs.get(record.uuid)
        if job is None or job.delivered or job.at_bookmark != bookmark:
            return None
        return job

    def poll(self, record: DatabaseRecord, bookmark: object) -> Answer:
        """Report progress of the running import (or its final outcome, once)."""
        job = self._job_for(record, bookmark)
        if job is None:
            return 200, inner_failure(NOT_IMPORTING)
        answer = self._held_answer(job)
        with self._lock:
            if job.delivered and self._jobs.get(record.uuid) is job:
                del self._jobs[record.uuid]
        return answer

    def touch(self, record: DatabaseRecord, bookmark: object) -> None:
        """Count a poll without answering it (a spurious-answer fault)."""
        job = self._job_for(record, bookmark)
        if job is not None:
            job.touch()

    def stop(self, timeout: float = 10.0) -> None:
        """Cancel every running job (rolled back) and wait for the threads."""
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            job.stopping.set()
        for job in jobs:
            if job.thread.is_alive():
                job.thread.join(timeout)
