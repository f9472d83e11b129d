"""The import state machine: init → upload → ingest → poll → verify, reporting events.

It runs in a worker thread (see ``importer.run_import``) so that polls keep their pace however
slowly events are consumed. Failures end in ``ImportFailed`` saying what state the database is
in, checked with ``COUNT(*)`` whenever the file's row counts are known.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from d1tui.api.client import D1Client
from d1tui.api.models import ImportAnswer
from d1tui.api.retry import RetryNotice, RetryPolicy
from d1tui.errors import (
    BadResponseError,
    D1Error,
    ImportBusyError,
    ImportCancelledError,
    ImportFailedError,
    ImportTimeoutError,
)
from d1tui.events import (
    DatabaseState,
    ImportEvent,
    ImportFailed,
    PollResult,
    Retrying,
    Stage,
    StageFinished,
    StageSkipped,
    StageStarted,
    TableCount,
)
from d1tui.importer import endings, transfer
from d1tui.importer.options import ImportOptions
from d1tui.importer.outcome import describe_counts, state_after_failure, state_words
from d1tui.importer.prepared import PreparedImport, oversize_error
from d1tui.importer.verification import Verifier


class StoppedError(Exception):
    """The consumer went away: end quietly."""


class Engine:
    """One import; ``run`` emits its events through ``emit``."""

    def __init__(
        self,
        client: D1Client,
        database_id: str,
        prepared: PreparedImport,
        *,
        options: ImportOptions,
        cancel: threading.Event,
        emit: Callable[[ImportEvent], None],
        abandoned: threading.Event,
    ) -> None:
        self.client = client
        self.db = database_id
        self.prepared = prepared
        self.options = options
        self.cancel = cancel
        self._emit = emit
        self.abandoned = abandoned
        self.stage = Stage.HASH
        self.started = time.monotonic()
        self.bookmark: str | None = None
        self.queries_done: int | None = None
        self.answers = 0
        self.verifier = Verifier(client, database_id, prepared, options.busy_wait)
        # Polls retry fast and briefly: a gap of 15 s makes D1 cancel the import.
        self.poll_policy = RetryPolicy(
            max_attempts=10,
            base=0.25,
            cap=max(0.1, options.max_poll_gap / 2),
            max_retry_after=max(0.1, options.max_poll_gap / 2),
            budget=options.max_poll_gap,
        )

    # -- helpers used by the stage modules --------------------------------------------------

    def emit(self, event: ImportEvent) -> None:
        """Hand one event to the consumer (or stop, when it has gone)."""
        if self.abandoned.is_set():
            raise StoppedError
        self._emit(event)

    def stopped(self) -> bool:
        """The user cancelled or the consumer went away."""
        return self.cancel.is_set() or self.abandoned.is_set()

    def pause(self, seconds: float) -> None:
        """Sleep, but end at once when the consumer goes away."""
        if self.abandoned.wait(seconds):
            raise StoppedError

    def elapsed(self) -> float:
        """Seconds since the import began."""
        return time.monotonic() - self.started

    def fail(
        self,
        stage: Stage,
        error: D1Error,
        state: DatabaseState,
        counts: tuple[TableCount, ...] = (),
    ) -> None:
        """Emit the final ``ImportFailed``."""
        self.emit(
            ImportFailed(
                stage=stage,
                error=error,
                database=state,
                at_bookmark=self.bookmark,
                counts=counts,
                seconds=self.elapsed(),
            )
        )

    def settle(
        self, stage: Stage, error: D1Error, presumed: DatabaseState, *, announce: bool
    ) -> None:
        """End in ``ImportFailed`` after checking the database by count where possible."""
        counts: tuple[TableCount, ...] = ()
        if self.prepared.rows and self.verifier.before is not None:
            start = time.monotonic()
            if announce:
                self.emit(StageStarted(Stage.VERIFY, "checking the database is as it was"))
            counts = self.verifier.counts_after() or ()
            if announce and counts:
                words = state_words(state_after_failure(counts, presumed))
                self.emit(StageFinished(Stage.VERIFY, time.monotonic() - start, words))
        state = state_after_failure(counts, presumed)
        if state is DatabaseState.CHANGED:
            restore = (
                f" (Time Travel can restore bookmark {self.bookmark})" if self.bookmark else ""
            )
            error.hint = f"the database changed: {describe_counts(counts)}; check it{restore}"
        self.fail(stage, error, state, counts)

    def record(self, answer: ImportAnswer) -> None:
        """Emit one ``PollResult`` for one answer of the import service."""
        self.answers += 1
        if answer.queries_processed is not None:
            self.queries_done = answer.queries_processed
        if answer.at_bookmark is not None:
            self.bookmark = answer.at_bookmark
        self.emit(
            PollResult(
                number=self.answers,
                status=answer.status or ("error" if answer.failed else "unknown"),
                messages=answer.messages,
                at_bookmark=self.bookmark,
                queries_done=self.queries_done,
                queries_total=self.prepared.statements,
                http_status=answer.http_status,
                timestamp=time.time(),
                error=answer.error_text if answer.failed else None,
            )
        )

    def ask(self) -> ImportAnswer:
        """Poll once (with short, bounded retries)."""
        if self.bookmark is None:
            raise BadResponseError("an import answer without at_bookmark: cannot poll")
        return self.client.import_poll(self.db, self.bookmark, retry=self.poll_policy)

    def _on_retry(self, notice: RetryNotice) -> None:
        self.emit(Retrying(self.stage, notice.attempt, notice.delay, notice.reason))

    # -- the protocol -----------------------------------------------------------------------

    def run(self) -> None:
        """Run the whole import; ends with ImportSucceeded or ImportFailed (unless abandoned)."""
        try:
            with self.client.retry_listener(self._on_retry):
                self._run()
        except StoppedError:
            return

    def _run(self) -> None:
        md5 = self.prepared.md5
        self.emit(StageStarted(Stage.HASH))
        self.emit(StageFinished(Stage.HASH, 0.0, f"md5 {md5[:16]}…"))
        if (too_big := oversize_error(self.prepared)) is not None:
            return self.fail(Stage.INIT, too_big, DatabaseState.NOT_STARTED)
        self.stage = Stage.INIT
        start = time.monotonic()
        self.emit(StageStarted(Stage.INIT, "asking D1 whether it has this file"))
        if self.stopped():
            error = ImportCancelledError(
                "cancelled before anything was sent", hint="nothing changed"
            )
            return self.fail(Stage.INIT, error, DatabaseState.NOT_STARTED)
        try:
            self.verifier.count_before()
            answer = self.client.import_init(self.db, md5)
        except D1Error as exc:
            return self.fail(Stage.INIT, exc, DatabaseState.NOT_STARTED)
        if answer.busy:
            busy = ImportBusyError(answer.error_text or "busy", http_status=answer.http_status)
            return self.fail(Stage.INIT, busy, DatabaseState.NOT_STARTED)
        if answer.upload_url is not None:
            self.emit(StageFinished(Stage.INIT, time.monotonic() - start, "upload needed"))
            if not transfer.upload(self, answer.upload_url):
                return None
            ingested = transfer.ingest(self, answer.filename or "")
            if ingested is None:
                return None
            answer = ingested
        elif answer.failed and answer.status is None and not answer.not_importing:
            # A bare failure: either init was refused or the already-uploaded file failed at
            # once. The inner shape cannot tell them apart; the counts tell the state.
            text = answer.error_text or "D1 refused to start the import"
            refused = ImportFailedError(text, http_status=answer.http_status)
            return self.settle(Stage.INIT, refused, DatabaseState.UNKNOWN, announce=True)
        else:
            self.emit(StageFinished(Stage.INIT, time.monotonic() - start, "already uploaded"))
            self.emit(StageSkipped(Stage.UPLOAD, "D1 already has a file with this md5"))
            self.emit(StageSkipped(Stage.INGEST, "D1 started the import when asked about the file"))
        return self._poll(answer)

    def _poll(self, answer: ImportAnswer) -> None:
        """Poll promptly until the import ends; then verify or settle."""
        self.stage = Stage.POLL
        start = time.monotonic()
        asked = float("-inf")  # the first answer was held by D1 already: poll at once
        self.emit(StageStarted(Stage.POLL))
        while True:
            self.record(answer)
            if answer.complete:
                self.emit(StageFinished(Stage.POLL, time.monotonic() - start, "complete"))
                self.stage = Stage.VERIFY
                return self.verifier.verify(
                    self.emit,
                    answer,
                    at_bookmark=self.bookmark,
                    queries_done=self.queries_done,
                    started=self.started,
                    enabled=self.options.verify,
                )
            if answer.not_importing:
                following = endings.resolve_unknown(self)
                if following is None:
                    return None
                answer = following
                continue
            if answer.failed:
                error = ImportFailedError(
                    answer.error_text or "the import failed",
                    at_bookmark=self.bookmark,
                    server_messages=answer.messages,
                    http_status=answer.http_status,
                )
                return self.settle(Stage.POLL, error, DatabaseState.ROLLED_BACK, announce=True)
            if self.stopped():
                return endings.stop_polling(self, ImportCancelledError("cancelled while importing"))
            if self.elapsed() > self.options.deadline:
                limit = f"{self.options.deadline:,.0f} s"
                return endings.stop_polling(self, ImportTimeoutError(f"not done within {limit}"))
            # D1 holds each answer ~1 s; a floor only matters when answers come back at once.
            wait = self.options.poll_floor - (time.monotonic() - asked)
            if wait > 0 and self.cancel.wait(wait):
                return endings.stop_polling(self, ImportCancelledError("cancelled while importing"))
            asked = time.monotonic()
            try:
                answer = self.ask()
            except D1Error as exc:
                # Polls failed for several seconds: D1 may cancel the import; count to learn.
                return self.settle(Stage.POLL, exc, DatabaseState.UNKNOWN, announce=True)
