"""Read the Cloudflare v4 envelope and turn failures into typed errors.

The body is parsed as JSON whatever the HTTP status (202 is a normal answer). ``success:
false`` becomes the ``D1Error`` subclass its ``errors[].code`` and the HTTP status point to.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from d1tui.api.httpclient import httpx
from d1tui.api.models import BUSY_TEXT
from d1tui.api.retry import parse_retry_after
from d1tui.errors import (
    AccountError,
    AuthError,
    BadResponseError,
    D1Error,
    ImportBusyError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    SQLError,
)

_SQLITE_CODE = re.compile(r":\s*(SQLITE_[A-Z_]+)\s*$")
AUTH_CODES = frozenset({1000, 10000})
ACCOUNT_CODE = 7403
NOT_FOUND_CODE = 7404
SQL_CODE = 7500
RATE_LIMIT_CODE = 971


def sqlite_code(message: str) -> str | None:
    """The trailing ``: SQLITE_XXX`` of a D1 SQL error message, if any."""
    match = _SQLITE_CODE.search(message)
    return match.group(1) if match else None


def _flatten(errors: object) -> list[tuple[int | None, str]]:
    """``(code, message)`` pairs of ``errors[]`` entries and their ``error_chain``."""
    out: list[tuple[int | None, str]] = []
    if not isinstance(errors, list):
        return out
    for entry in errors:
        if isinstance(entry, dict):
            code = entry.get("code")
            message = entry.get("message")
            out.append((code if isinstance(code, int) else None, str(message or "")))
            out += _flatten(entry.get("error_chain"))
        elif entry is not None:
            out.append((None, str(entry)))
    return out


def _message_texts(messages: object) -> list[str]:
    """Texts of ``messages[]`` (strings or ``{code, message}`` objects)."""
    if not isinstance(messages, list):
        return []
    out = []
    for m in messages:
        text = m.get("message") if isinstance(m, dict) else m
        if text:
            out.append(str(text))
    return out


def error_for(
    status: int,
    body: dict[str, Any] | None,
    headers: httpx.Headers,
    *,
    now: Callable[[], float] | None = None,
) -> D1Error:
    """The typed error for a failed answer (``body`` is None when it was not JSON)."""
    pairs = _flatten(body.get("errors")) if body else []
    if body and not pairs and (body.get("error") or body.get("code")):
        code = body.get("code")
        pairs = [(code if isinstance(code, int) else None, str(body.get("error") or ""))]
    codes = tuple(c for c, _ in pairs if c is not None)
    texts = [t for _, t in pairs if t]
    server_messages = tuple(texts + (_message_texts(body.get("messages")) if body else []))
    detail = "; ".join(texts) or f"HTTP {status}"
    kw: dict[str, Any] = {"codes": codes, "server_messages": server_messages, "http_status": status}
    code_set = set(codes)
    if any(BUSY_TEXT in t for t in texts):
        return ImportBusyError(detail, **kw)
    if ACCOUNT_CODE in code_set:
        return AccountError(detail, **kw)
    if code_set & AUTH_CODES or status in (401, 403):
        return AuthError(detail, **kw)
    if NOT_FOUND_CODE in code_set or status == 404:
        return NotFoundError(detail, **kw)
    if SQL_CODE in code_set:
        return SQLError(detail, sqlite_code=sqlite_code(texts[0]) if texts else None, **kw)
    if RATE_LIMIT_CODE in code_set or status == 429:
        wait = parse_retry_after(headers) if now is None else parse_retry_after(headers, now)
        return RateLimitedError(detail, retry_after=wait, **kw)
    if status >= 500:
        return ServerError(detail, **kw)
    if body is None:
        return BadResponseError(f"Received a malformed response from the API (HTTP {status})", **kw)
    return D1Error(detail, **kw)


def read_envelope(response: httpx.Response) -> dict[str, Any]:
    """The envelope of a successful answer; raises the typed error of a failed one."""
    status = response.status_code
    if status in (204, 205) and not response.content.strip():
        return {"success": True, "errors": [], "messages": [], "result": {}}
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise error_for(status, None, response.headers)
    success = body.get("success")
    if success is True and status < 400:
        return body
    if success is False:
        raise error_for(status, body, response.headers)
    # No envelope, or a 4xx/5xx claiming success: not an answer to trust.
    raise error_for(status, None, response.headers)


def network_error(exc: Exception) -> tuple[NetworkError, bool]:
    """A ``NetworkError`` for a transport failure, and whether the request may have been sent."""
    not_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    words: dict[type[Exception], str] = {
        httpx.ConnectError: "could not connect",
        httpx.ConnectTimeout: "connecting timed out",
        httpx.ReadTimeout: "no answer in time (read timeout)",
        httpx.WriteTimeout: "sending timed out (write timeout)",
        httpx.RemoteProtocolError: "the connection was closed before an answer",
        httpx.ReadError: "the connection broke while reading the answer",
        httpx.WriteError: "the connection broke while sending",
    }
    what = words.get(type(exc), type(exc).__name__)
    detail = f"{what}: {exc}" if str(exc) else what
    return NetworkError(detail), not not_sent
