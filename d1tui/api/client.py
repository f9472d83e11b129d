"""The Cloudflare v4 API client for D1: envelope, typed errors, retries, import actions, upload.

The token is wrapped in ``Secret`` and revealed only where the ``Authorization`` header of one
request is built; it is never part of the client's repr, its errors or its retry notices.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import h11

from d1tui import __version__
from d1tui.api import tables as table_queries
from d1tui.api.envelope import network_error, read_envelope
from d1tui.api.httpclient import httpx
from d1tui.api.models import (
    ColumnInfo,
    DatabaseInfo,
    ImportAnswer,
    QueryResult,
    RawResult,
    TableInfo,
    TokenStatus,
    database_from,
    int_or_none,
    str_or_none,
)
from d1tui.api.retry import CallKind, RetryNotice, RetryPolicy, should_retry
from d1tui.api.upload import UPLOAD_TIMEOUT, put_file
from d1tui.errors import AuthError, BadResponseError, D1Error, NotFoundError
from d1tui.settings.secret import Secret

DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"
USER_AGENT = f"d1tui/{__version__}"
_PER_PAGE = 100
DEFAULT_RETRY = RetryPolicy()
_MAX_PAGES = 1000

RetryListener = Callable[[RetryNotice], None]


def _seg(value: str) -> str:
    """One URL path segment, escaped."""
    return quote(value, safe="")


def _statements(result: object) -> list[dict[str, Any]]:
    """The per-statement entries of a ``/query`` or ``/raw`` answer."""
    if not isinstance(result, list) or not all(isinstance(r, dict) for r in result):
        raise BadResponseError("expected a list of statement results from the query endpoint")
    return result


def _dict(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


class D1Client:
    """A small synchronous client for the D1 endpoints d1tui uses.

    Args:
        account_id: the Cloudflare account id (32 hex characters).
        token: the API token.
        base_url: the API root (the emulator's ``base_url`` in tests).
        transport: an httpx transport (tests, proxies); also used for the upload.
        timeout: seconds per API request.
        retry: the retry policy of repeatable calls (rules in ``retry.py``).
        sleep: how to wait between retries.
        on_retry: told about every retry before its wait.
    """

    def __init__(
        self,
        account_id: str,
        token: Secret,
        *,
        base_url: str = DEFAULT_BASE_URL,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 60.0,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: RetryListener | None = None,
    ) -> None:
        self.account_id = account_id
        self._token = token
        self.base_url = base_url.rstrip("/")
        self.retry = retry
        self.on_retry = on_retry
        self._sleep = sleep
        self._transport = transport
        self._local = threading.local()
        self._http = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )
        self._upload_http: httpx.Client | None = None
        self.page_size = _PER_PAGE

    def __repr__(self) -> str:
        return f"D1Client(account_id={self.account_id!r}, base_url={self.base_url!r})"

    def close(self) -> None:
        """Close the connections."""
        self._http.close()
        if self._upload_http is not None and self._transport is None:
            self._upload_http.close()

    def __enter__(self) -> D1Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def retry_listener(self, listener: RetryListener) -> Iterator[None]:
        """Also tell ``listener`` about retries of calls made by this thread inside the block."""
        previous = getattr(self._local, "listener", None)
        self._local.listener = listener
        try:
            yield
        finally:
            self._local.listener = previous

    # -- plumbing -----------------------------------------------------------------------

    def _notify(self, notice: RetryNotice) -> None:
        listener: RetryListener | None = getattr(self._local, "listener", None)
        if listener is not None:
            listener(notice)
        if self.on_retry is not None:
            self.on_retry(notice)

    def _request(
        self,
        method: str,
        path: str,
        *,
        op: str,
        kind: CallKind,
        json: object = None,
        params: dict[str, str | int] | None = None,
        policy: RetryPolicy | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Send one API call (repeating it per ``kind``); the HTTP status and the envelope."""
        policy = policy or self.retry
        attempt = 0
        waited = 0.0
        while True:
            attempt += 1
            sent = True
            try:
                # The only place the token leaves the Secret.
                auth = {"Authorization": f"Bearer {self._token.reveal()}"}
                response = self._http.request(method, path, json=json, params=params, headers=auth)
                return response.status_code, read_envelope(response)
            except D1Error as exc:
                error: D1Error = exc
            except (httpx.TransportError, h11.LocalProtocolError) as exc:
                error, sent = network_error(exc)
            retry_after = getattr(error, "retry_after", None)
            delay = policy.delay(attempt, retry_after)
            over_budget = policy.budget is not None and waited + delay > policy.budget
            if (
                attempt >= policy.max_attempts
                or over_budget
                or not should_retry(kind, error, request_sent=sent)
            ):
                raise error from None
            self._notify(RetryNotice(op, attempt, delay, error))
            self._sleep(delay)
            waited += delay

    def _account(self, rest: str = "") -> str:
        return f"/accounts/{_seg(self.account_id)}{rest}"

    def _db(self, database_id: str, rest: str = "") -> str:
        return self._account(f"/d1/database/{_seg(database_id)}{rest}")

    # -- account and databases ----------------------------------------------------------

    def verify_token(self) -> TokenStatus:
        """The token's status: the account endpoint first, then ``/user/tokens/verify``."""
        try:
            _, env = self._request(
                "GET", self._account("/tokens/verify"), op="verify", kind=CallKind.SAFE
            )
        except (AuthError, NotFoundError) as first:
            try:
                _, env = self._request(
                    "GET", "/user/tokens/verify", op="verify", kind=CallKind.SAFE
                )
            except (AuthError, NotFoundError):
                raise first from None
        result = _dict(env.get("result"))
        messages = env.get("messages")
        message = None
        if isinstance(messages, list) and messages:
            first_message = messages[0]
            message = str(
                first_message.get("message") if isinstance(first_message, dict) else first_message
            )
        return TokenStatus(
            id=str(result.get("id") or ""),
            status=str(result.get("status") or "unknown"),
            expires_on=str_or_none(result.get("expires_on")),
            not_before=str_or_none(result.get("not_before")),
            message=message,
        )

    def list_databases(self, name: str | None = None) -> list[DatabaseInfo]:
        """Every database of the account (all pages), optionally those matching ``name``."""
        found: list[DatabaseInfo] = []
        for page in range(1, _MAX_PAGES + 1):
            params: dict[str, str | int] = {"page": page, "per_page": self.page_size}
            if name:
                params["name"] = name
            _, env = self._request(
                "GET", self._account("/d1/database"), op="list", kind=CallKind.SAFE, params=params
            )
            items = env.get("result")
            if not isinstance(items, list):
                raise BadResponseError("expected a list of databases")
            found += [database_from(item) for item in items]
            total = int_or_none(_dict(env.get("result_info")).get("total_count"))
            if len(items) < self.page_size or (total is not None and len(found) >= total):
                break
        return found

    def get_database(self, id_or_name: str) -> DatabaseInfo:
        """One database, by uuid or by name."""
        _, env = self._request("GET", self._db(id_or_name), op="get", kind=CallKind.SAFE)
        return database_from(env.get("result"))

    def create_database(self, name: str) -> DatabaseInfo:
        """Create a database (not repeated after an ambiguous failure)."""
        _, env = self._request(
            "POST",
            self._account("/d1/database"),
            op="create",
            kind=CallKind.UNSAFE,
            json={"name": name},
        )
        return database_from(env.get("result"))

    def delete_database(self, database_id: str) -> None:
        """Delete a database."""
        self._request("DELETE", self._db(database_id), op="delete", kind=CallKind.UNSAFE)

    # -- SQL ------------------------------------------------------------------------------

    def _sql(
        self, endpoint: str, database_id: str, sql: str, params: Sequence[object], read_only: bool
    ) -> list[dict[str, Any]]:
        body: dict[str, object] = {"sql": sql}
        if params:
            body["params"] = list(params)
        _, env = self._request(
            "POST",
            self._db(database_id, f"/{endpoint}"),
            op=endpoint,
            kind=CallKind.SAFE if read_only else CallKind.UNSAFE,
            json=body,
        )
        return _statements(env.get("result"))

    def query(
        self,
        database_id: str,
        sql: str,
        params: Sequence[object] = (),
        *,
        read_only: bool = False,
    ) -> list[QueryResult]:
        """Run SQL; one result (rows as dicts) per statement.

        ``read_only=True`` promises the SQL writes nothing, so any failure may be retried.
        """
        out = []
        for item in self._sql("query", database_id, sql, params, read_only):
            rows = item.get("results")
            out.append(
                QueryResult(
                    results=[r for r in rows if isinstance(r, dict)]
                    if isinstance(rows, list)
                    else [],
                    meta=_dict(item.get("meta")),
                    success=item.get("success") is not False,
                )
            )
        return out

    def raw(
        self,
        database_id: str,
        sql: str,
        params: Sequence[object] = (),
        *,
        read_only: bool = False,
    ) -> list[RawResult]:
        """Run SQL; one result (column names, rows as lists) per statement."""
        out = []
        for item in self._sql("raw", database_id, sql, params, read_only):
            results = _dict(item.get("results"))
            columns = results.get("columns")
            rows = results.get("rows")
            out.append(
                RawResult(
                    columns=[str(c) for c in columns] if isinstance(columns, list) else [],
                    rows=[list(r) for r in rows if isinstance(r, list)]
                    if isinstance(rows, list)
                    else [],
                    meta=_dict(item.get("meta")),
                )
            )
        return out

    def list_tables(self, database_id: str) -> list[TableInfo]:
        """User tables with columns and row counts (``_cf_*``, ``sqlite_*``, ``d1_*`` hidden)."""
        return table_queries.list_tables(lambda sql: self.query(database_id, sql, read_only=True))

    def count_rows(self, database_id: str, tables: Sequence[str]) -> dict[str, int]:
        """``COUNT(*)`` of each table (0 for a table that does not exist) in two requests."""
        return table_queries.count_rows(
            lambda sql: self.query(database_id, sql, read_only=True), tables
        )

    # -- import ---------------------------------------------------------------------------

    def _import(
        self, database_id: str, body: dict[str, str], op: str, kind: CallKind, **kw: Any
    ) -> ImportAnswer:
        status, env = self._request(
            "POST", self._db(database_id, "/import"), op=op, kind=kind, json=body, **kw
        )
        result = env.get("result")
        if not isinstance(result, dict):
            raise BadResponseError(f"the import {op} answer held no result object")
        return ImportAnswer(http_status=status, result=result)

    def import_init(self, database_id: str, etag: str) -> ImportAnswer:
        """Announce a file by its md5: an upload URL, or (already uploaded) the import's state."""
        return self._import(database_id, {"action": "init", "etag": etag}, "init", CallKind.SAFE)

    def import_ingest(self, database_id: str, etag: str, filename: str) -> ImportAnswer:
        """Start importing the uploaded file. Never repeated: re-``init`` to re-attach instead."""
        body = {"action": "ingest", "etag": etag, "filename": filename}
        return self._import(database_id, body, "ingest", CallKind.NEVER)

    def import_poll(
        self, database_id: str, bookmark: str, *, retry: RetryPolicy | None = None
    ) -> ImportAnswer:
        """The state of the running import; ``retry`` overrides the policy (short waits)."""
        body = {"action": "poll", "current_bookmark": bookmark}
        return self._import(database_id, body, "poll", CallKind.SAFE, policy=retry)

    def upload(
        self,
        url: str,
        path: Path,
        md5: str,
        *,
        on_progress: Callable[[int, int], None] | None = None,
        should_cancel: Callable[[], bool] | None = None,
    ) -> None:
        """PUT the file to the signed URL (no credentials); check status 200 and ETag == md5."""
        if self._upload_http is None:
            self._upload_http = httpx.Client(
                transport=self._transport,
                timeout=UPLOAD_TIMEOUT,
                follow_redirects=False,
                headers={"User-Agent": USER_AGENT},
            )
        put_file(
            self._upload_http,
            url,
            path,
            md5,
            on_progress=on_progress,
            should_cancel=should_cancel,
        )


__all__ = [
    "DEFAULT_BASE_URL",
    "ColumnInfo",
    "D1Client",
    "DatabaseInfo",
    "ImportAnswer",
    "QueryResult",
    "RawResult",
    "RetryNotice",
    "RetryPolicy",
    "TableInfo",
    "TokenStatus",
]
