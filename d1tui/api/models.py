"""What the D1 API answers, as frozen dataclasses (tolerant of the shapes seen in the wild)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from d1tui.errors import BadResponseError

NOT_IMPORTING = "Not currently importing anything."
BUSY_TEXT = "Currently processing a long-running import"
_PROCESSED = re.compile(r"Processed (\d+) queries")


@dataclass(frozen=True)
class TokenStatus:
    """An API token as ``tokens/verify`` describes it."""

    id: str
    status: str
    expires_on: str | None = None
    not_before: str | None = None
    message: str | None = None

    @property
    def active(self) -> bool:
        """True when the token may be used now."""
        return self.status == "active"


@dataclass(frozen=True)
class DatabaseInfo:
    """One D1 database."""

    uuid: str
    name: str
    created_at: str | None = None
    version: str | None = None
    num_tables: int | None = None
    file_size: int | None = None


def str_or_none(value: object) -> str | None:
    """The value when it is a string."""
    return value if isinstance(value, str) else None


def int_or_none(value: object) -> int | None:
    """The value as an int when it is a number."""
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def database_from(item: object) -> DatabaseInfo:
    """A ``DatabaseInfo`` from one entry of a database answer."""
    if not isinstance(item, dict) or not isinstance(item.get("uuid"), str):
        raise BadResponseError(f"expected a database with a uuid, got {item!r}")
    return DatabaseInfo(
        uuid=item["uuid"],
        name=str(item.get("name") or ""),
        created_at=str_or_none(item.get("created_at")),
        version=str_or_none(item.get("version")),
        num_tables=int_or_none(item.get("num_tables")),
        file_size=int_or_none(item.get("file_size")),
    )


@dataclass(frozen=True)
class QueryResult:
    """The answer to one statement of ``/query``: rows as dicts."""

    results: list[dict[str, object]]
    meta: dict[str, object]
    success: bool


@dataclass(frozen=True)
class RawResult:
    """The answer to one statement of ``/raw``: column names and rows as lists."""

    columns: list[str]
    rows: list[list[object]]
    meta: dict[str, object]


@dataclass(frozen=True)
class ColumnInfo:
    """One column, from ``PRAGMA table_info``."""

    name: str
    type: str
    notnull: bool
    pk: int
    default: str | None


@dataclass(frozen=True)
class TableInfo:
    """A user table with its columns and row count (None when it could not be counted)."""

    name: str
    columns: tuple[ColumnInfo, ...]
    rows: int | None


def _text(value: object) -> str:
    """A message that may be a plain string or an ``{code, message}`` object."""
    if isinstance(value, dict):
        message = value.get("message")
        return str(message) if message is not None else str(value)
    return str(value)


@dataclass(frozen=True)
class ImportAnswer:
    """One answer of the import endpoint (init, ingest or poll).

    The envelope said ``success: true``; ``result`` may still report failure in any of three
    shapes: ``{success: false, error}``, ``{status: "error", error}``,
    ``{status: "error", errors: [...]}``.
    """

    http_status: int
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def upload_url(self) -> str | None:
        """The signed URL to PUT the file to (init, upload needed)."""
        value = self.result.get("upload_url")
        return value if isinstance(value, str) and value else None

    @property
    def filename(self) -> str | None:
        """The name D1 gave the file (init, upload needed)."""
        value = self.result.get("filename")
        return value if isinstance(value, str) and value else None

    @property
    def status(self) -> str | None:
        """``active``, ``complete`` or ``error`` (None on inner failures and init answers)."""
        value = self.result.get("status")
        return value if isinstance(value, str) else None

    @property
    def at_bookmark(self) -> str | None:
        """The bookmark to poll with."""
        value = self.result.get("at_bookmark")
        return value if isinstance(value, str) and value else None

    @property
    def messages(self) -> tuple[str, ...]:
        """Log lines since the previous answer."""
        value = self.result.get("messages")
        if not isinstance(value, list):
            return ()
        return tuple(_text(m) for m in value)

    @property
    def inner_success(self) -> bool | None:
        """The ``success`` flag nested in ``result`` (None when absent)."""
        value = self.result.get("success")
        return value if isinstance(value, bool) else None

    @property
    def error_text(self) -> str | None:
        """The failure text, from ``error`` or ``errors[]``."""
        error = self.result.get("error")
        if isinstance(error, str) and error:
            return error
        if error is not None and not isinstance(error, str):
            return _text(error)
        errors = self.result.get("errors")
        if isinstance(errors, list) and errors:
            return "\n".join(_text(e) for e in errors)
        return None

    @property
    def final(self) -> dict[str, Any]:
        """``result.result`` of a complete answer: num_queries, final_bookmark, meta."""
        value = self.result.get("result")
        return value if isinstance(value, dict) else {}

    @property
    def failed(self) -> bool:
        """The service reports a failure (any of the three shapes)."""
        return self.inner_success is False or self.status == "error"

    @property
    def complete(self) -> bool:
        """The import finished well."""
        return self.status == "complete" and not self.failed

    @property
    def not_importing(self) -> bool:
        """``Not currently importing anything.``: the outcome is unknown."""
        return self.failed and (self.error_text or "").strip() == NOT_IMPORTING

    @property
    def busy(self) -> bool:
        """Another import holds the database."""
        return self.failed and BUSY_TEXT in (self.error_text or "")

    @property
    def queries_processed(self) -> int | None:
        """The last ``Processed N queries.`` count in this answer (cumulative)."""
        found = [int(m.group(1)) for line in self.messages for m in _PROCESSED.finditer(line)]
        return max(found) if found else None
