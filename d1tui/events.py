"""What the import engine reports, as small frozen dataclasses.

``importer.run_import`` yields these; the CLI prints them, the TUI's worker posts them as
messages, tests collect them. Progress events are batched by time, never one per row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from d1tui.errors import D1Error


class Stage(StrEnum):
    """The protocol stages, in order."""

    PREPARE = "prepare"
    HASH = "hash"
    INIT = "init"
    UPLOAD = "upload"
    INGEST = "ingest"
    POLL = "poll"
    VERIFY = "verify"


class DatabaseState(StrEnum):
    """What is known about the target database after a failed or cancelled import."""

    UNCHANGED = "unchanged"  # checked by query: as it was before
    ROLLED_BACK = "rolled back"  # the server says so; not (yet) checked
    NOT_STARTED = "not started"  # failed before anything reached the server's database
    CHANGED = "changed"  # checked by query: rows differ from before
    UNKNOWN = "unknown"  # could not be checked


@dataclass(frozen=True)
class StageStarted:
    """A stage began."""

    stage: Stage
    detail: str = ""


@dataclass(frozen=True)
class StageFinished:
    """A stage ended well; ``seconds`` is its wall time."""

    stage: Stage
    seconds: float
    detail: str = ""


@dataclass(frozen=True)
class StageSkipped:
    """A stage was not needed (e.g. upload when the file was already uploaded)."""

    stage: Stage
    reason: str


@dataclass(frozen=True)
class PrepareProgress:
    """Conversion progress: input consumed and SQL produced so far."""

    bytes_read: int
    total_bytes: int | None
    rows: int
    statements: int
    bytes_written: int
    can_replace: bool = True


@dataclass(frozen=True)
class ColumnsSkipped:
    """Columns of the file that the existing table lacks: their values are not imported.

    Every front end shows it (CLI text and ``--json``, the TUI preview); a script with ``--yes``
    is refused unless it said ``--skip-unknown``.
    """

    table: str
    columns: tuple[str, ...]

    @property
    def message(self) -> str:
        """The warning in words."""
        return f"not in table {self.table!r}, skipped: {', '.join(self.columns)}"


@dataclass(frozen=True)
class HashProgress:
    """Bytes hashed so far of a file that was not hashed while it was written."""

    done: int
    total: int
    can_replace: bool = True


@dataclass(frozen=True)
class UploadProgress:
    """Bytes sent to the signed upload URL; ``seconds`` since the upload began."""

    sent: int
    total: int
    seconds: float
    can_replace: bool = True

    @property
    def rate(self) -> float:
        """Bytes per second so far."""
        return self.sent / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Retrying:
    """A call failed in a way worth retrying; the engine waits ``delay`` seconds."""

    stage: Stage
    attempt: int
    delay: float
    reason: str


@dataclass(frozen=True)
class PollResult:
    """One answer of the import service (ingest, poll, or init when already uploaded).

    ``queries_done`` is the last ``Processed N queries.`` seen so far; ``queries_total`` is the
    statement count of the file.
    """

    number: int
    status: str
    messages: tuple[str, ...]
    at_bookmark: str | None
    queries_done: int | None
    queries_total: int | None
    http_status: int
    timestamp: float  # wall clock (time.time())
    error: str | None = None


@dataclass(frozen=True)
class TableCount:
    """``COUNT(*)`` of a table before and after the import, against the rows sent."""

    table: str
    before: int | None
    after: int | None
    expected: int | None

    @property
    def ok(self) -> bool | None:
        """True when after − before equals the rows sent; None when it cannot be told."""
        if self.before is None or self.after is None or self.expected is None:
            return None
        return self.after - self.before == self.expected


@dataclass(frozen=True)
class ImportSucceeded:
    """The import completed; figures from the service, counts from VERIFY."""

    num_queries: int
    duration_ms: float
    rows_read: int
    rows_written: int
    size_after: int | None
    final_bookmark: str | None
    at_bookmark: str | None
    served_by: str | None = None
    served_by_region: str | None = None
    counts: tuple[TableCount, ...] = field(default_factory=tuple)
    seconds: float = 0.0
    outcome_resolved_by_query: bool = False
    # A cancel was asked for, but D1 had already committed the import: the rows are in (the
    # counts say so) and ``at_bookmark`` undoes it. Front ends say "could not cancel".
    cancel_came_too_late: bool = False


@dataclass(frozen=True)
class EarlierImport:
    """An earlier import of this file into these tables never recorded its outcome.

    ``verdict`` is what the row counts say about it now: ``"committed"`` (its rows are in),
    ``"not committed"`` (the tables are as before it: it was rolled back or never ran) or
    ``"unclear"`` (the tables changed otherwise, or the file's row counts are unknown).
    ``forced`` is True when the import goes ahead anyway (``--force``).
    """

    verdict: str
    started_at: str  # ISO 8601, UTC
    source: str
    database: str
    counts: tuple[TableCount, ...] = field(default_factory=tuple)
    at_bookmark: str | None = None
    forced: bool = False


@dataclass(frozen=True)
class ImportFailed:
    """The import did not complete; ``database`` says what state the database is in."""

    stage: Stage
    error: D1Error
    database: DatabaseState
    at_bookmark: str | None = None
    counts: tuple[TableCount, ...] = field(default_factory=tuple)
    seconds: float = 0.0


ImportEvent = (
    StageStarted
    | StageFinished
    | StageSkipped
    | PrepareProgress
    | HashProgress
    | UploadProgress
    | Retrying
    | PollResult
    | EarlierImport
    | ImportSucceeded
    | ImportFailed
)
