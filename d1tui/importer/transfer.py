"""The UPLOAD and INGEST stages: hand the file to D1 and start the import, robustly.

The upload restarts from scratch once after a dropped connection. Ingest is never repeated
blindly: after an ambiguous failure (no answer, 5xx) or a 429 (after the pause it asks for)
the row counts tell whether the import
already ran; if not, ``init`` with the same etag re-attaches (a polling answer: go on
polling) or asks for the file again (an upload URL: ingest once more).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from d1tui.api.models import ImportAnswer
from d1tui.errors import (
    D1Error,
    ImportBusyError,
    ImportCancelledError,
    ImportFailedError,
    NetworkError,
    RateLimitedError,
    ServerError,
    UploadError,
)
from d1tui.events import (
    DatabaseState,
    Retrying,
    Stage,
    StageFinished,
    StageStarted,
    UploadProgress,
)
from d1tui.importer.outcome import all_match, succeeded_from, table_counts, unchanged

if TYPE_CHECKING:
    from d1tui.importer.engine import Engine

_RESTART_PAUSE = 0.5
_BUSY_PAUSE = 1.0


class _Throttle:
    """Turns byte callbacks into ``UploadProgress`` events, at most one per interval."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.start = time.monotonic()
        self.last_at = float("-inf")
        self.last_sent = -1

    def __call__(self, sent: int, total: int) -> None:
        now = time.monotonic()
        if sent >= total or now - self.last_at >= self.engine.options.progress_interval:
            self.last_at, self.last_sent = now, sent
            self.engine.emit(UploadProgress(sent, total, now - self.start))


def upload(engine: Engine, url: str) -> bool:
    """PUT the file to ``url``; True when stored intact, else ``ImportFailed`` was emitted."""
    engine.stage = Stage.UPLOAD
    prepared = engine.prepared
    engine.emit(StageStarted(Stage.UPLOAD, f"{prepared.size:,} bytes"))
    for attempt in (1, 2):
        throttle = _Throttle(engine)
        try:
            engine.client.upload(
                url,
                prepared.path,
                prepared.md5,
                on_progress=throttle,
                should_cancel=engine.stopped,
            )
        except ImportCancelledError as exc:
            exc.hint = "the upload stopped before D1 started importing; nothing changed"
            engine.settle(Stage.UPLOAD, exc, DatabaseState.NOT_STARTED, announce=False)
            return False
        except (NetworkError, UploadError) as exc:
            transient = isinstance(exc, NetworkError) or (exc.http_status or 0) >= 500
            if attempt == 1 and transient and not engine.stopped():
                reason = f"{exc}; uploading again from the start"
                engine.emit(Retrying(Stage.UPLOAD, 1, _RESTART_PAUSE, reason))
                engine.pause(_RESTART_PAUSE)
                continue
            engine.settle(Stage.UPLOAD, exc, DatabaseState.NOT_STARTED, announce=False)
            return False
        except D1Error as exc:
            engine.settle(Stage.UPLOAD, exc, DatabaseState.NOT_STARTED, announce=False)
            return False
        if throttle.last_sent != prepared.size:
            engine.emit(
                UploadProgress(prepared.size, prepared.size, time.monotonic() - throttle.start)
            )
        seconds = time.monotonic() - throttle.start
        engine.emit(StageFinished(Stage.UPLOAD, seconds, "stored; ETag matches md5"))
        return True
    return False


def ingest(engine: Engine, filename: str) -> ImportAnswer | None:
    """Start the import; the first answer, or None when ``ImportFailed`` was emitted."""
    engine.stage = Stage.INGEST
    start = time.monotonic()
    engine.emit(StageStarted(Stage.INGEST))
    if engine.stopped():
        error = ImportCancelledError("cancelled after the upload, before D1 started importing")
        error.hint = "nothing changed"
        engine.settle(Stage.INGEST, error, DatabaseState.NOT_STARTED, announce=False)
        return None
    last_error: D1Error | None = None
    for attempt in (1, 2):
        try:
            answer = engine.client.import_ingest(engine.db, engine.prepared.md5, filename)
        except (NetworkError, ServerError, RateLimitedError) as exc:
            last_error = exc
            # A 429 started nothing, but D1 asked for a pause: honour it, then re-attach too.
            wait = 0.0
            if isinstance(exc, RateLimitedError):
                wait = engine.client.retry.delay(attempt, exc.retry_after)
            reason = f"{exc}; asking D1 (init, same md5) whether the import started"
            engine.emit(Retrying(Stage.INGEST, attempt, wait, reason))
            engine.pause(wait)
            again = _reattach(engine)
            if again is None:
                return None
            if again.upload_url is not None:
                filename = again.filename or filename
                continue
            engine.emit(StageFinished(Stage.INGEST, time.monotonic() - start, "re-attached"))
            return again
        except D1Error as exc:
            engine.settle(Stage.INGEST, exc, DatabaseState.NOT_STARTED, announce=False)
            return None
        engine.emit(StageFinished(Stage.INGEST, time.monotonic() - start, "D1 started the import"))
        return answer
    assert last_error is not None
    engine.settle(Stage.INGEST, last_error, DatabaseState.UNKNOWN, announce=True)
    return None


def _reattach(engine: Engine) -> ImportAnswer | None:
    """After an ambiguous ingest: learn whether the import ran, then ``init`` (same etag).

    Counting first keeps a finished import from running twice (``init`` of an uploaded file
    starts it again). While D1 refuses queries or says it is busy, the import runs: wait for it
    to finish, or for D1 to roll it back (no polls), bounded by ``busy_wait``.
    """
    give_up = time.monotonic() + engine.options.busy_wait
    tries = 0
    while True:
        waiting = ""
        try:
            if engine.verifier.before is not None:
                counts = table_counts(
                    engine.verifier.before, engine.verifier.count_once(), engine.prepared.rows
                )
                if all_match(counts):
                    engine.emit(StageFinished(Stage.INGEST, 0.0, "the import had run"))
                    engine.emit(
                        succeeded_from(
                            None,
                            at_bookmark=None,
                            queries_done=None,
                            seconds=engine.elapsed(),
                            counts=counts,
                            resolved_by_query=True,
                        )
                    )
                    return None
                if not unchanged(counts):
                    error = ImportFailedError("the ingest answer was lost and the tables changed")
                    engine.settle(Stage.INGEST, error, DatabaseState.UNKNOWN, announce=True)
                    return None
            answer = engine.client.import_init(engine.db, engine.prepared.md5)
            if not answer.busy:
                return answer
            waiting = answer.error_text or "busy"
        except ImportBusyError as exc:
            waiting = exc.detail
        except D1Error as exc:
            engine.settle(Stage.INGEST, exc, DatabaseState.UNKNOWN, announce=True)
            return None
        tries += 1
        if time.monotonic() >= give_up or engine.stopped():
            busy = ImportBusyError(waiting)
            engine.settle(Stage.INGEST, busy, DatabaseState.UNKNOWN, announce=True)
            return None
        reason = "D1 is importing (probably this file); waiting for it to finish or roll back"
        engine.emit(Retrying(Stage.INGEST, tries, _BUSY_PAUSE, reason))
        engine.pause(_BUSY_PAUSE)
