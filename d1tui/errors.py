"""Typed errors: each carries a human title, the server's codes and messages, and a hint.

The CLI maps them to exit codes (``exit_code``); the TUI shows ``title``, ``detail`` and ``hint``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

from d1tui.humanize import safe_text


class ExitCode(IntEnum):
    """Process exit codes of ``d1tui`` commands (documented in ``--help``)."""

    OK = 0
    UNEXPECTED = 1
    USAGE = 2
    BAD_INPUT = 3
    AUTH = 4
    API = 5
    IMPORT_FAILED = 6
    CANCELLED = 7


class D1Error(Exception):
    """Base of every error d1tui reports to a person.

    Args:
        detail: what happened, in words (the server's message where there is one).
        codes: Cloudflare error codes from the response envelope.
        server_messages: every ``errors[].message`` / ``messages[]`` text of the response.
        http_status: the HTTP status, when an HTTP answer was received.
        hint: what to do about it; the class default is used when omitted.
    """

    title = "D1 request failed"
    default_hint = ""
    exit_code = ExitCode.API
    retryable = False

    def __init__(
        self,
        detail: str,
        *,
        codes: tuple[int, ...] = (),
        server_messages: tuple[str, ...] = (),
        http_status: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.codes = tuple(codes)
        self.server_messages = tuple(server_messages)
        self.http_status = http_status
        self.hint = self.default_hint if hint is None else hint

    def __str__(self) -> str:
        codes = "".join(f" [code: {c}]" for c in self.codes)
        return safe_text(f"{self.title}: {self.detail}{codes}")

    def describe(self) -> str:
        """Title, detail, codes and hint as lines for a terminal (control characters escaped)."""
        lines = [str(self)]
        lines += [f"  {safe_text(m)}" for m in self.server_messages if m and m != self.detail]
        if self.hint:
            lines.append(f"  hint: {safe_text(self.hint)}")
        return "\n".join(lines)


class AuthError(D1Error):
    """The token is wrong, revoked, expired or lacks a permission (10000, HTTP 401/403)."""

    title = "Authentication failed"
    default_hint = (
        "the API token is wrong, expired or revoked; create one with Account › D1 › Edit "
        "at dash.cloudflare.com/profile/api-tokens"
    )
    exit_code = ExitCode.AUTH


class AccountError(AuthError):
    """The account id is not valid for this token (7403)."""

    title = "Account not authorized"
    default_hint = "check the account id (32 hex characters) and that the token belongs to it"


class NotFoundError(D1Error):
    """The database (or another resource) does not exist (7404, HTTP 404)."""

    title = "Not found"
    default_hint = "check the database id or name; `d1tui config` shows what is in use"


class SQLError(D1Error):
    """SQLite rejected a statement (7500); ``sqlite_code`` is e.g. ``SQLITE_CONSTRAINT``."""

    title = "SQL error"
    default_hint = "fix the statement the message points to; nothing was changed"

    def __init__(self, detail: str, *, sqlite_code: str | None = None, **kw: Any) -> None:
        super().__init__(detail, **kw)
        self.sqlite_code = sqlite_code


class RateLimitedError(D1Error):
    """Too many requests (971, HTTP 429); ``retry_after`` seconds when the server said."""

    title = "Rate limited"
    default_hint = "Cloudflare allows 1,200 API requests per 5 minutes; wait and try again"
    retryable = True

    def __init__(self, detail: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(detail, **kw)
        self.retry_after = retry_after


class ServerError(D1Error):
    """The API answered 5xx."""

    title = "Cloudflare API error"
    default_hint = "a temporary server problem; try again in a minute"
    retryable = True


class NetworkError(D1Error):
    """No answer: connection refused, reset, timed out, TLS failure."""

    title = "Network error"
    default_hint = "check the connection (and any proxy), then try again"
    retryable = True


class BadResponseError(D1Error):
    """The answer was not the JSON envelope the API promises."""

    title = "Malformed response from the API"
    default_hint = "the endpoint may not be the Cloudflare API; check CLOUDFLARE_API_BASE_URL"


class ImportBusyError(D1Error):
    """Another import is running on this database."""

    title = "Database busy"
    default_hint = (
        "another import is running on this database; wait for it to finish (or for it to "
        "time out after 15 s without polls) and try again"
    )
    retryable = True


class ImportFailedError(D1Error):
    """The import service reported a failure (any of the three payload shapes)."""

    title = "Import failed"
    default_hint = (
        "the import was rolled back: your database is as it was before; fix the cause and retry"
    )
    exit_code = ExitCode.IMPORT_FAILED

    def __init__(self, detail: str, *, at_bookmark: str | None = None, **kw: Any) -> None:
        super().__init__(detail, **kw)
        self.at_bookmark = at_bookmark


class ImportCancelledError(D1Error):
    """The user cancelled the import."""

    title = "Import cancelled"
    default_hint = "D1 rolls an import back when it is not polled for 15 s"
    exit_code = ExitCode.CANCELLED


class ImportTimeoutError(D1Error):
    """The overall deadline passed before the import reached a final state."""

    title = "Import timed out"
    default_hint = "the import may still finish on the server; check the row counts before retrying"
    exit_code = ExitCode.IMPORT_FAILED


class EarlierImportError(D1Error):
    """An earlier, interrupted import of the same file into the same tables may have committed.

    Raised (as the failure of a new run, before anything is sent) so that running an import
    again after the client was killed never adds its rows twice without being asked to.
    """

    title = "Already imported"
    default_hint = "nothing was sent this time; run with --force to import the file again"
    exit_code = ExitCode.IMPORT_FAILED


class UploadError(D1Error):
    """The PUT to the signed upload URL did not store the file intact."""

    title = "Upload failed"
    default_hint = "nothing was imported; run the import again"


class VerificationError(D1Error):
    """The import reported success but the row counts do not add up."""

    title = "Verification failed"
    default_hint = "compare the table with the source; Time Travel can restore the bookmark shown"
    exit_code = ExitCode.IMPORT_FAILED


@dataclass(frozen=True)
class Location:
    """Where in an input file a problem is: 1-based line and column, 0-based byte offset."""

    path: Path
    line: int | None = None
    column: int | None = None
    byte_offset: int | None = None
    row: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        parts = [str(self.path)]
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column}")
        if self.field is not None:
            parts.append(f"field {self.field!r}")
        if self.byte_offset is not None:
            parts.append(f"byte {self.byte_offset}")
        return ", ".join(parts)


# The CLI's flag for each reading option a hint can name; other front ends name their own control.
OPTION_FLAGS = {
    "encoding": "--encoding",
    "delimiter": "--delimiter",
    "quotechar": "--quotechar",
    "no_headers": "--no-headers",
    "types": "--type COL=TYPE",
    "pk": "--pk",
    "tables": "--tables",
}


class BadInputError(D1Error):
    """The input cannot be imported as it is; ``where`` names file, line and column.

    A hint may name a reading option as ``{option}`` with ``option=`` its key in
    ``OPTION_FLAGS``: ``hint`` names the CLI flag, ``hint_naming`` another front end's control.
    """

    title = "Bad input"
    default_hint = "fix the file at the place named; nothing was sent"
    value_hint = "nothing was sent; change the value named and try again"
    exit_code = ExitCode.BAD_INPUT

    def __init__(
        self,
        detail: str,
        *,
        where: Location | None = None,
        option: str | None = None,
        hint: str | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(detail, hint=hint, **kw)
        self.where = where
        self.option = option
        self._hint = hint  # None: the default, chosen when read (``where`` may be set later)

    @property
    def hint(self) -> str:
        """What to do, naming a reading option by its CLI flag."""
        return self.hint_naming(OPTION_FLAGS)

    @hint.setter
    def hint(self, value: str) -> None:
        self._hint = value

    def hint_naming(self, controls: dict[str, str]) -> str:
        """The hint with its reading option named as ``controls`` names it."""
        template = self._hint
        if template is None:
            # An error about no place in a file (a locale, a table name) has no file to fix.
            template = self.default_hint if self.where is not None else self.value_hint
        if self.option is None:
            return template
        return template.replace("{option}", controls.get(self.option, self.option))

    def __str__(self) -> str:
        place = f"{self.where}: " if self.where else ""
        return safe_text(f"{self.title}: {place}{self.detail}")
