"""The import, top to bottom: HASH → INIT → UPLOAD → INGEST → POLL → VERIFY.

``run_stages`` is the whole protocol; each stage is a function of the ``ImportRun`` that either
returns what the next stage needs or emits the outcome and returns None. Recovery paths (lost
ingest answers, "not importing", cancels, an unreachable API) are in ``recovery.py``; counting
and the VERIFY stage in ``counts.py``; the rerun check in ``rerun.py``.
"""

from __future__ import annotations

import time
from typing import Final

from d1tui.api.models import ImportAnswer
from d1tui.errors import (
    D1Error,
    ImportBusyError,
    ImportCancelledError,
    ImportFailedError,
    ImportTimeoutError,
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
    StageSkipped,
    StageStarted,
    UploadProgress,
)
from d1tui.importer import recovery
from d1tui.importer.context import ImportRun, StoppedError
from d1tui.importer.counts import count_once, settle, verify
from d1tui.importer.prepared import oversize_error
from d1tui.importer.records import Records
from d1tui.importer.rerun import check_earlier
from d1tui.settings.paths import import_records_dir

# After a dropped upload connection, the pause before uploading again from the start.
RESTART_PAUSE: Final = 0.5


def run_stages(run: ImportRun) -> None:
    """Run the whole import; ends with ImportSucceeded or ImportFailed (unless abandoned)."""
    try:
        with run.client.retry_listener(run.on_retry):
            answer = init(run)
            if answer is not None:
                poll(run, answer)
    except StoppedError:
        return


# -- HASH and INIT ---------------------------------------------------------------------------


def init(run: ImportRun) -> ImportAnswer | None:
    """HASH (done while preparing), the rerun check, the record, then ``init``.

    Returns the first answer of the running import (after UPLOAD and INGEST when D1 asked for
    the file), or None when the outcome was emitted.
    """
    md5 = run.prepared.md5
    run.emit(StageStarted(Stage.HASH))
    run.emit(StageFinished(Stage.HASH, 0.0, f"md5 {md5[:16]}…"))
    if (too_big := oversize_error(run.prepared)) is not None:
        run.fail(Stage.INIT, too_big, DatabaseState.NOT_STARTED)
        return None
    run.stage = Stage.INIT
    start = time.monotonic()
    run.emit(StageStarted(Stage.INIT, "asking D1 whether it has this file"))
    if run.stopped():
        cancelled = ImportCancelledError(
            "cancelled before anything was sent", hint="nothing changed"
        )
        run.fail(Stage.INIT, cancelled, DatabaseState.NOT_STARTED)
        return None
    records = Records(run.options.records_dir or import_records_dir())
    earlier = records.find(run.client.account_id, run.database, run.prepared)
    if earlier is not None and not check_earlier(run, earlier):
        return None
    try:
        if run.prepared.rows:
            run.before = count_once(run)
        # init may start the import at once (a file D1 has): write down what happens first.
        run.record = records.start(
            account=run.client.account_id,
            database=run.database,
            database_name=run.database_name,
            prepared=run.prepared,
            before=run.before,
        )
        answer = run.client.import_init(run.database, md5)
    except D1Error as exc:
        run.fail(Stage.INIT, exc, DatabaseState.NOT_STARTED)
        return None
    except OSError as exc:
        unwritable = D1Error(
            f"cannot write the import's record under {records.folder}: {exc.strerror or exc}",
            hint="nothing was sent; free some disk space or set D1TUI_STATE_DIR",
        )
        run.fail(Stage.INIT, unwritable, DatabaseState.NOT_STARTED)
        return None
    if answer.busy:
        busy = ImportBusyError(answer.error_text or "busy", http_status=answer.http_status)
        run.fail(Stage.INIT, busy, DatabaseState.NOT_STARTED)
        return None
    if answer.upload_url is not None:
        run.emit(StageFinished(Stage.INIT, time.monotonic() - start, "upload needed"))
        if not upload(run, answer.upload_url):
            return None
        return ingest(run, answer.filename or "")
    if answer.failed and answer.status is None and not answer.not_importing:
        # A bare failure: either init was refused or the already-uploaded file failed at
        # once. The inner shape cannot tell them apart; the counts tell the state.
        text = answer.error_text or "D1 refused to start the import"
        refused = ImportFailedError(text, http_status=answer.http_status)
        settle(run, Stage.INIT, refused, DatabaseState.UNKNOWN, announce=True)
        return None
    run.emit(StageFinished(Stage.INIT, time.monotonic() - start, "already uploaded"))
    run.emit(StageSkipped(Stage.UPLOAD, "D1 already has a file with this md5"))
    run.emit(StageSkipped(Stage.INGEST, "D1 started the import when asked about the file"))
    return answer


# -- UPLOAD ----------------------------------------------------------------------------------


class _Throttle:
    """Turns byte callbacks into ``UploadProgress`` events, at most one per interval."""

    def __init__(self, run: ImportRun) -> None:
        self.run = run
        self.start = time.monotonic()
        self.last_at = float("-inf")
        self.last_sent = -1

    def __call__(self, sent: int, total: int) -> None:
        now = time.monotonic()
        if sent >= total or now - self.last_at >= self.run.options.progress_interval:
            self.last_at, self.last_sent = now, sent
            self.run.emit(UploadProgress(sent, total, now - self.start))


def upload(run: ImportRun, url: str) -> bool:
    """PUT the file to ``url`` (again from the start once after a dropped connection).

    True when stored intact; otherwise ``ImportFailed`` was emitted (nothing reached the
    database).
    """
    run.stage = Stage.UPLOAD
    prepared = run.prepared
    run.emit(StageStarted(Stage.UPLOAD, f"{prepared.size:,} bytes"))
    for attempt in (1, 2):
        throttle = _Throttle(run)
        try:
            run.client.upload(
                url, prepared.path, prepared.md5, on_progress=throttle, should_cancel=run.stopped
            )
        except ImportCancelledError as exc:
            exc.hint = "the upload stopped before D1 started importing; nothing changed"
            settle(run, Stage.UPLOAD, exc, DatabaseState.NOT_STARTED, announce=False)
            return False
        except (NetworkError, UploadError) as exc:
            transient = isinstance(exc, NetworkError) or (exc.http_status or 0) >= 500
            if attempt == 1 and transient and not run.stopped():
                reason = f"{exc}; uploading again from the start"
                run.emit(Retrying(Stage.UPLOAD, 1, RESTART_PAUSE, reason))
                run.pause(RESTART_PAUSE)
                continue
            settle(run, Stage.UPLOAD, exc, DatabaseState.NOT_STARTED, announce=False)
            return False
        except D1Error as exc:
            settle(run, Stage.UPLOAD, exc, DatabaseState.NOT_STARTED, announce=False)
            return False
        if throttle.last_sent != prepared.size:
            seconds = time.monotonic() - throttle.start
            run.emit(UploadProgress(prepared.size, prepared.size, seconds))
        seconds = time.monotonic() - throttle.start
        run.emit(StageFinished(Stage.UPLOAD, seconds, "stored; ETag matches md5"))
        return True
    return False


# -- INGEST ----------------------------------------------------------------------------------


def ingest(run: ImportRun, filename: str) -> ImportAnswer | None:
    """Start the import; its first answer, or None when ``ImportFailed`` was emitted.

    Never repeated blindly: after an ambiguous failure (no answer, 5xx) or a 429 (after the
    pause it asks for) ``recovery.reattach`` learns whether the import started or ran.
    """
    run.stage = Stage.INGEST
    start = time.monotonic()
    run.emit(StageStarted(Stage.INGEST))
    if run.stopped():
        error = ImportCancelledError("cancelled after the upload, before D1 started importing")
        error.hint = "nothing changed"
        settle(run, Stage.INGEST, error, DatabaseState.NOT_STARTED, announce=False)
        return None
    last_error: D1Error | None = None
    for attempt in (1, 2):
        try:
            answer = run.client.import_ingest(run.database, run.prepared.md5, filename)
        except (NetworkError, ServerError, RateLimitedError) as exc:
            last_error = exc
            # A 429 started nothing, but D1 asked for a pause: honour it, then re-attach too.
            wait = 0.0
            if isinstance(exc, RateLimitedError):
                wait = run.client.retry.delay(attempt, exc.retry_after)
            reason = f"{exc}; asking D1 (init, same md5) whether the import started"
            run.emit(Retrying(Stage.INGEST, attempt, wait, reason))
            run.pause(wait)
            again = recovery.reattach(run)
            if again is None:
                return None
            if again.upload_url is not None:
                filename = again.filename or filename
                continue
            run.emit(StageFinished(Stage.INGEST, time.monotonic() - start, "re-attached"))
            return again
        except D1Error as exc:
            settle(run, Stage.INGEST, exc, DatabaseState.NOT_STARTED, announce=False)
            return None
        run.emit(StageFinished(Stage.INGEST, time.monotonic() - start, "D1 started the import"))
        return answer
    assert last_error is not None
    settle(run, Stage.INGEST, last_error, DatabaseState.UNKNOWN, announce=True)
    return None


# -- POLL, then VERIFY -----------------------------------------------------------------------


def poll(run: ImportRun, answer: ImportAnswer) -> None:
    """Poll promptly until the import ends; then VERIFY (or find out how it ended)."""
    run.stage = Stage.POLL
    start = time.monotonic()
    asked = float("-inf")  # the first answer was held by D1 already: poll at once
    run.emit(StageStarted(Stage.POLL))
    while True:
        run.heard(answer)
        if answer.complete:
            run.emit(StageFinished(Stage.POLL, time.monotonic() - start, "complete"))
            return verify(run, answer)
        if answer.not_importing:
            following = recovery.resolve_unknown(run)
            if following is None:
                return None
            answer = following
            continue
        if answer.failed:
            error = ImportFailedError(
                answer.error_text or "the import failed",
                at_bookmark=run.bookmark,
                server_messages=answer.messages,
                http_status=answer.http_status,
            )
            return settle(run, Stage.POLL, error, DatabaseState.ROLLED_BACK, announce=True)
        if run.stopped():
            return recovery.stop_polling(run, ImportCancelledError("cancelled while importing"))
        if run.elapsed() > run.options.deadline:
            limit = f"{run.options.deadline:,.0f} s"
            return recovery.stop_polling(run, ImportTimeoutError(f"not done within {limit}"))
        # D1 holds each answer ~1 s; a floor only matters when answers come back at once.
        wait = run.options.poll_floor - (time.monotonic() - asked)
        if wait > 0 and run.cancel.wait(wait):
            return recovery.stop_polling(run, ImportCancelledError("cancelled while importing"))
        asked = time.monotonic()
        try:
            answer = run.ask()
        except D1Error as exc:
            following = recovery.ride_out(run, exc)
            if following is None:
                return None
            answer = following
