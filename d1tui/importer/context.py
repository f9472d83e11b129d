"""``ImportRun``: everything one import knows and the few things every stage does with it.

The stages (``stages.py``), the recovery paths (``recovery.py``) and the counting
(``counts.py``) are functions of an ``ImportRun``; none of them imports another's internals.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Final

from d1tui.api.client import D1Client
from d1tui.api.models import ImportAnswer
from d1tui.api.retry import RetryNotice, RetryPolicy
from d1tui.errors import BadResponseError, D1Error
from d1tui.events import (
    DatabaseState,
    ImportEvent,
    ImportFailed,
    ImportSucceeded,
    PollResult,
    Retrying,
    Stage,
    TableCount,
)
from d1tui.importer.options import ImportOptions
from d1tui.importer.prepared import PreparedImport
from d1tui.importer.records import ImportRecord

# The one pause between two asks while D1 says an import holds the database.
BUSY_PAUSE: Final = 0.25


class StoppedError(Exception):
    """The consumer went away: end quietly."""


@dataclass
class ImportRun:
    """One import: its inputs, what it has learnt so far, and how it reports.

    Args:
        client: the API client.
        database: the target database id.
        prepared: the file to import.
        options: the tunables.
        cancel: set by the user to stop the import.
        abandoned: set when the consumer went away (no one reads the events any more).
        sink: where events go (a queue's ``put``).
        database_name: the database's name, for messages (its id when not given).
    """

    client: D1Client
    database: str
    prepared: PreparedImport
    options: ImportOptions
    cancel: threading.Event
    abandoned: threading.Event
    sink: Callable[[ImportEvent], None]
    database_name: str = ""
    stage: Stage = Stage.HASH
    started: float = field(default_factory=time.monotonic)
    bookmark: str | None = None
    queries_done: int | None = None
    answers: int = 0
    heard_at: float = field(default_factory=time.monotonic)  # when D1 last answered
    before: dict[str, int] | None = None
    record: ImportRecord | None = None
    poll_policy: RetryPolicy = field(init=False)

    def __post_init__(self) -> None:
        # Polls retry fast and briefly: a gap of 15 s makes D1 cancel the import.
        gap = self.options.max_poll_gap
        self.poll_policy = RetryPolicy(
            max_attempts=10,
            base=0.25,
            cap=max(0.1, gap / 2),
            max_retry_after=max(0.1, gap / 2),
            budget=gap,
        )
        self.database_name = self.database_name or self.database

    # -- reporting ----------------------------------------------------------------------------

    def emit(self, event: ImportEvent) -> None:
        """Hand one event to the consumer (or stop, when it has gone)."""
        if self.abandoned.is_set():
            raise StoppedError
        self.sink(event)

    def on_retry(self, notice: RetryNotice) -> None:
        """The client repeats a call: say so."""
        self.emit(Retrying(self.stage, notice.attempt, notice.delay, notice.reason))

    def succeed(self, event: ImportSucceeded) -> None:
        """Emit the final ``ImportSucceeded`` (and note the outcome in the record)."""
        if self.cancel.is_set() and not event.cancel_came_too_late:
            event = _too_late(event)
        self._finish("succeeded", None)
        self.emit(event)

    def fail(
        self,
        stage: Stage,
        error: D1Error,
        state: DatabaseState,
        counts: tuple[TableCount, ...] = (),
    ) -> None:
        """Emit the final ``ImportFailed`` (and note a known outcome in the record)."""
        if state is not DatabaseState.UNKNOWN:
            self._finish("failed", state)
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

    def _finish(self, outcome: str, state: DatabaseState | None) -> None:
        if self.record is not None:
            self.record.finish(outcome, None if state is None else state.value)

    # -- waiting ------------------------------------------------------------------------------

    def stopped(self) -> bool:
        """The user cancelled or the consumer went away."""
        return self.cancel.is_set() or self.abandoned.is_set()

    def pause(self, seconds: float) -> None:
        """The one wait of an import: sleep, but end at once when the consumer goes away."""
        if self.abandoned.wait(max(0.0, seconds)):
            raise StoppedError

    def elapsed(self) -> float:
        """Seconds since the import began."""
        return time.monotonic() - self.started

    # -- the import service ---------------------------------------------------------------------

    def heard(self, answer: ImportAnswer) -> None:
        """Emit one ``PollResult`` for one answer of the import service."""
        self.answers += 1
        self.heard_at = time.monotonic()
        if answer.queries_processed is not None:
            self.queries_done = answer.queries_processed
        if answer.at_bookmark is not None:
            if self.bookmark is None and self.record is not None:
                self.record.note_bookmark(answer.at_bookmark)
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
        return self.client.import_poll(self.database, self.bookmark, retry=self.poll_policy)


def _too_late(event: ImportSucceeded) -> ImportSucceeded:
    return replace(event, cancel_came_too_late=True)
