"""Import events as text: wrangler-style lines, a live line on a terminal, or JSON lines."""

from __future__ import annotations

import dataclasses
import enum
import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any, Protocol, TextIO

from d1tui.errors import BadInputError, D1Error
from d1tui.events import (
    ColumnsSkipped,
    DatabaseState,
    EarlierImport,
    HashProgress,
    ImportFailed,
    ImportSucceeded,
    PollResult,
    PrepareProgress,
    Retrying,
    Stage,
    StageFinished,
    StageSkipped,
    StageStarted,
    TableCount,
    UploadProgress,
)
from d1tui.humanize import fit, human_bytes, plural, safe_text

WARNING = (
    "⚠️ This process may take some time, during which your D1 database will be unavailable to "
    "serve queries."
)
NOTE = (
    "Note: if the import fails to complete, D1 rolls it back; the row counts are checked "
    "afterwards, and a rerun of this file checks them again before it sends anything."
)
STATE_TEXT = {
    DatabaseState.UNCHANGED: "Your database is unchanged (checked by query).",
    DatabaseState.ROLLED_BACK: "The import was rolled back by D1; your database is as it was.",
    DatabaseState.NOT_STARTED: "Nothing reached your database.",
    DatabaseState.CHANGED: "Your database CHANGED: its row counts differ from before.",
    DatabaseState.UNKNOWN: "The state of your database could not be checked.",
}


class Stream(Protocol):
    """Where renderers write: a text stream, or a ``GuardedStream`` around one."""

    def write(self, text: str, /) -> int:
        """Write text."""
        ...

    def flush(self) -> None:
        """Flush it."""
        ...

    def fileno(self) -> int:
        """The file descriptor behind it (for the terminal's width)."""
        ...


class GuardedStream:
    """A text stream whose reader may go away (``| head -1``) without stopping the run.

    The first ``BrokenPipeError`` (or other ``OSError``) points the stream's file descriptor
    at ``os.devnull``, as Python's documentation advises for SIGPIPE, and sets ``lost``; what
    follows is dropped, so the import goes on and the exit code stays the import's own.
    """

    def __init__(self, inner: TextIO) -> None:
        self.inner = inner
        self.lost = False

    def write(self, text: str) -> int:
        """Write ``text`` (nothing once the reader has gone)."""
        if not self.lost:
            try:
                return self.inner.write(text)
            except OSError:
                self._lose()
        return len(text)

    def flush(self) -> None:
        """Flush (nothing once the reader has gone)."""
        if not self.lost:
            try:
                self.inner.flush()
            except OSError:
                self._lose()

    def fileno(self) -> int:
        """The real file's descriptor."""
        return self.inner.fileno()

    def isatty(self) -> bool:
        """Whether the stream is a terminal."""
        try:
            return not self.lost and self.inner.isatty()
        except (OSError, ValueError):
            return False

    def _lose(self) -> None:
        self.lost = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:  # the interpreter's flush at exit then writes what is buffered to devnull
                os.dup2(devnull, self.inner.fileno())
            finally:
                os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass  # not a real file (a test's buffer): dropping the text is enough


def error_dict(err: D1Error) -> dict[str, Any]:
    """An error as JSON: title, detail, codes, hint (and where, for bad input)."""
    out: dict[str, Any] = {
        "type": type(err).__name__,
        "title": err.title,
        "detail": err.detail,
        "codes": list(err.codes),
        "hint": err.hint,
        "messages": list(err.server_messages),
        "exit_code": int(err.exit_code),
    }
    if isinstance(err, BadInputError) and err.where is not None:
        out["where"] = str(err.where)
    return out


def jsonable(value: Any) -> Any:
    """Event field values as JSON-friendly data."""
    if isinstance(value, D1Error):
        return error_dict(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return event_fields(value)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def event_fields(event: Any) -> dict[str, Any]:
    """A dataclass's fields (and a few useful properties) as a JSON-friendly dict."""
    out = {f.name: jsonable(getattr(event, f.name)) for f in dataclasses.fields(event)}
    if isinstance(event, UploadProgress):
        out["rate"] = event.rate
    if isinstance(event, TableCount):
        out["ok"] = event.ok
    if isinstance(event, ColumnsSkipped):
        out["message"] = event.message
    return out


def type_name(event: Any) -> str:
    """``StageStarted`` → ``stage_started``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(event).__name__).lower()


def restore_command(database_name: str, bookmark: str) -> str:
    """The command that undoes an import with Time Travel."""
    return f"wrangler d1 time-travel restore {database_name} --bookmark={bookmark}"


def count_line(count: TableCount, *, judged: bool = True) -> str:
    """``"t": 0 → 1,000 rows (expected +1,000) ✔``; ``judged=False`` gives only the counts."""
    before = "?" if count.before is None else f"{count.before:,}"
    after = "?" if count.after is None else f"{count.after:,}"
    if not judged:
        return f'"{count.table}": {before} → {after} rows'
    expected = "" if count.expected is None else f" (expected +{count.expected:,})"
    mark = {True: "✔", False: "✘", None: ""}[count.ok]
    return f'"{count.table}": {before} → {after} rows{expected} {mark}'.rstrip()


# json escapes C0 controls itself; DEL and C1 (a terminal may read 0x9b as CSI) it leaves raw.
_C1_OR_DEL = re.compile("[\x7f-\x9f]")


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


class JsonRenderer:
    """One JSON object per line on stdout; a final ``{"result": …}``; nothing else there."""

    def __init__(self, out: Stream) -> None:
        self.out = out

    def emit(self, obj: dict[str, Any]) -> None:
        """Write one JSON line and flush it (a reader may be waiting)."""
        self.out.write(_C1_OR_DEL.sub(_json_escape, json.dumps(obj, ensure_ascii=False)) + "\n")
        self.out.flush()

    def info(self, kind: str, message: str, **fields: Any) -> None:
        """A fact about the run (database, file) as an event line."""
        self.emit({"type": kind, **{k: jsonable(v) for k, v in fields.items()}})

    def event(self, event: Any) -> None:
        """An engine event as ``{"type": …, fields…}``."""
        self.emit({"type": type_name(event), **event_fields(event)})

    def error(self, err: D1Error, state: DatabaseState | None = None) -> None:
        """A failure outside the engine (pre-flight, settings) as an ``error`` line."""
        self.emit({"type": "error", "error": error_dict(err)})

    def result(self, payload: dict[str, Any]) -> None:
        """The final object."""
        self.emit({"result": jsonable(payload)})

    def close(self) -> None:
        """Nothing to clear."""


def _columns(stream: Stream) -> int:
    """The width of the terminal behind ``stream`` (``COLUMNS`` first, 80 when unknown)."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return shutil.get_terminal_size((80, 24)).columns


class TextRenderer:
    """wrangler-style lines on ``out``, errors on ``err``, a live line when ``live``."""

    def __init__(self, out: Stream, err: Stream, *, live: bool, database_name: str = "") -> None:
        self.out, self.err, self.live = out, err, live
        self.database_name = database_name
        self.file_name = ""
        self.file_size = 0
        self.queries_total: int | None = None
        self.timings: list[tuple[str, float]] = []
        self._bar_shown = False
        self._last_bar = 0.0

    # -- plumbing ------------------------------------------------------------------------------
    def line(self, text: str, *, stream: Stream | None = None) -> None:
        """Print a line (control characters in it shown escaped), clearing the live line first."""
        self._clear_bar()
        stream = stream or self.out
        stream.write("\n".join(safe_text(part) for part in text.split("\n")) + "\n")
        stream.flush()

    def _clear_bar(self) -> None:
        if self._bar_shown:
            self.err.write("\r\033[K")
            self.err.flush()
            self._bar_shown = False

    def bar(self, label: str, done: float, total: float | None, tail: str) -> None:
        """Redraw the live line, at most ~10 times a second."""
        if not self.live:
            return
        now = time.monotonic()
        finished = total is not None and done >= total
        if now - self._last_bar < 0.1 and not finished:
            return
        self._last_bar = now
        width = 24
        if total:
            frac = min(max(done / total, 0.0), 1.0)
            fill = int(frac * width)
            gauge = f"▕{'█' * fill}{'░' * (width - fill)}▏ {frac * 100:3.0f}%"
        else:
            gauge = "…"
        # A line longer than the terminal wraps, and "\r" then clears only its last row.
        columns = _columns(self.err)
        self.err.write("\r" + fit(safe_text(f"{label} {gauge} {tail}"), columns - 1) + "\033[K")
        self.err.flush()
        self._bar_shown = True

    # -- renderer protocol ---------------------------------------------------------------------
    def info(self, kind: str, message: str, **fields: Any) -> None:
        """A fact about the run, printed as it is."""
        self.line(message)

    def event(self, event: Any) -> None:
        """Print what one engine event means."""
        if isinstance(event, PrepareProgress):
            tail = f"{human_bytes(event.bytes_read)} read · {plural(event.rows, 'row')}"
            self.bar("Preparing", event.bytes_read, event.total_bytes, tail)
        elif isinstance(event, HashProgress):
            self.bar("Hashing", event.done, event.total, human_bytes(event.done))
        elif isinstance(event, UploadProgress):
            tail = f"{human_bytes(event.sent)}/{human_bytes(event.total)} · "
            tail += f"{human_bytes(event.rate)}/s"
            self.bar("Uploading", event.sent, event.total, tail)
        elif isinstance(event, ColumnsSkipped):
            self.line(f"⚠ {event.message}", stream=self.err)
        elif isinstance(event, StageStarted):
            if event.stage is Stage.UPLOAD:
                self.line(f"🌀 Uploading {self.file_name} ({human_bytes(self.file_size)} of SQL)")
        elif isinstance(event, StageFinished):
            self.timings.append((event.stage.value, event.seconds))
            if event.stage is Stage.UPLOAD:
                rate = self.file_size / event.seconds if event.seconds > 0 else 0
                self.line(f"🌀 Uploading complete. ({event.seconds:.2f} s, {human_bytes(rate)}/s)")
        elif isinstance(event, StageSkipped):
            if event.stage is Stage.UPLOAD:
                self.line("🌀 File already uploaded. Processing.")
            else:
                self.line(f"   {event.stage.value} skipped: {event.reason}")
        elif isinstance(event, Retrying) and "retrying (" in event.reason:
            self.line(f"⏳ {event.stage.value}: {event.reason}")  # it says how long already
        elif isinstance(event, EarlierImport):
            self.earlier(event)
        elif isinstance(event, Retrying):
            self.line(
                f"⏳ {event.stage.value}: {event.reason}; retrying in {event.delay:.1f} s "
                f"(attempt {event.attempt})"
            )
        elif isinstance(event, PollResult):
            for message in event.messages:
                self.line(f"🌀 {message}")
            if event.queries_done is not None:
                total = event.queries_total or self.queries_total
                tail = f"{event.queries_done:,}/{total:,} queries" if total else ""
                self.bar("Importing", event.queries_done, total, tail)
        elif isinstance(event, ImportSucceeded):
            self.succeeded(event)
        elif isinstance(event, ImportFailed):
            self.failed(event)

    def earlier(self, event: EarlierImport) -> None:
        """An earlier import of this file never said how it ended: what the counts say."""
        said = f"An earlier import of {event.source} into {event.database} (started "
        said += event.started_at.replace("T", " ").replace("Z", " UTC") + ")"
        if event.verdict == "not committed":
            self.line(f"   {said} did not commit: importing.")
        elif event.forced:
            how = "committed" if event.verdict == "committed" else "may have committed"
            self.line(f"⚠ {said} {how}; importing again as --force asks.")
            for count in event.counts:
                self.line("   " + count_line(count, judged=False))

    def succeeded(self, event: ImportSucceeded) -> None:
        """The summary: queries, duration, rows, size, verified counts, bookmarks, undo."""
        if event.cancel_came_too_late:
            self.line("⚠ Could not cancel: the import completed before it could be stopped.")
        self.line(
            f"🚣 Executed {plural(event.num_queries, 'query', 'queries')} "
            f"in {event.duration_ms:.2f}ms "
            f"({plural(event.rows_read, 'row')} read, {plural(event.rows_written, 'row')} written)"
        )
        if event.size_after is not None:
            self.line(f"   Database size: {human_bytes(event.size_after)}")
        for count in event.counts:
            self.line("   " + count_line(count))
        if self.timings:
            stages = " · ".join(f"{name} {secs:.2f} s" for name, secs in self.timings)
            self.line(f"   Took {event.seconds:.2f} s: {stages}")
        if event.final_bookmark:
            self.line(f"   Database is currently at bookmark {event.final_bookmark}.")
        if event.at_bookmark:
            self.line("   To undo this import:")
            self.line("     " + restore_command(self.database_name, event.at_bookmark))

    def failed(self, event: ImportFailed) -> None:
        """The error's description and what state the database is in, on stderr."""
        self.error(event.error)
        self.line("  " + STATE_TEXT[event.database], stream=self.err)
        for count in event.counts:
            self.line("  " + count_line(count, judged=False), stream=self.err)
        if event.database in (DatabaseState.CHANGED, DatabaseState.UNKNOWN) and event.at_bookmark:
            self.line("  To return to the state before the import:", stream=self.err)
            restore = restore_command(self.database_name, event.at_bookmark)
            self.line("    " + restore, stream=self.err)

    def error(self, err: D1Error, state: DatabaseState | None = None) -> None:
        """``✘ <title>: <detail>`` with codes, server messages and the hint, on stderr."""
        self.line("✘ " + err.describe(), stream=self.err)
        if state is not None:
            self.line("  " + STATE_TEXT[state], stream=self.err)

    def result(self, payload: dict[str, Any]) -> None:
        """Text mode prints the summary from the events; nothing more."""

    def close(self) -> None:
        """Leave the terminal on a clean line."""
        self._clear_bar()


Renderer = JsonRenderer | TextRenderer
