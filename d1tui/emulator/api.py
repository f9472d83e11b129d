"""The v4 API under /client/v4: routing, auth, the envelope, and each D1 operation."""

from __future__ import annotations

import hmac
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from d1tui.emulator.execution import run_request
from d1tui.emulator.exports import export_name, run_export
from d1tui.emulator.faults import Faults
from d1tui.emulator.imports import NOT_IMPORTING, Imports, ImportSettings, inner_failure
from d1tui.emulator.sqlrules import BUSY_IMPORTING, SqlError, connect
from d1tui.emulator.store import DatabaseRecord, Store, StoreError
from d1tui.emulator.uploads import Uploads

API_PREFIX = "/client/v4"
_MAX_PER_PAGE = 10_000
_MAX_REMEMBERED = 100_000


@dataclass
class Backend:
    """Everything a request may touch, shared by the HTTP handler threads."""

    store: Store
    imports: Imports
    uploads: Uploads
    settings: ImportSettings
    token: str = field(repr=False)
    account_id: str
    token_id: str
    token_status: str = "active"
    faults: Faults = field(default_factory=Faults)
    requests: list[tuple[str, str, str]] = field(default_factory=list)
    requests_lock: threading.Lock = field(default_factory=threading.Lock)

    def record_request(self, method: str, op: str, path: str) -> None:
        """Remember a request for tests to inspect."""
        with self.requests_lock:
            self.requests.append((method, op, path))
            if len(self.requests) > _MAX_REMEMBERED:  # a long-running `serve` must not grow
                del self.requests[: _MAX_REMEMBERED // 2]


@dataclass
class Reply:
    """An HTTP answer: status, JSON-able body, extra headers; `drop` closes without answering."""

    status: int
    body: object = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False


class ApiError(Exception):
    """A refusal rendered as a failure envelope."""

    def __init__(self, status: int, code: int, message: str, result: object = None) -> None:
        super().__init__(message)
        self.reply = fail(status, code, message, result=result)


def envelope(
    result: object,
    *,
    success: bool = True,
    errors: list[dict[str, Any]] | None = None,
    messages: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The v4 envelope every endpoint answers with."""
    return {
        "success": success,
        "errors": errors or [],
        "messages": messages or [],
        "result": result,
    }


def fail(status: int, code: int, message: str, *, result: object = None) -> Reply:
    """A failure envelope with one error."""
    body = envelope(result, success=False, errors=[{"code": code, "message": message}])
    return Reply(status, body)


@dataclass(frozen=True)
class Route:
    """A matched API path: the operation name, its account, database, and handler."""

    op: str
    account: str | None
    database: str | None
    handler: Callable[[Backend, Route, Mapping[str, list[str]], dict[str, Any]], Reply]
    needs_body: bool = False


def route(method: str, path: str) -> Route:
    """Match a path under /client/v4 (ApiError 404/405 if nothing fits)."""
    parts = [unquote(p) for p in path[len(API_PREFIX) :].strip("/").split("/")]
    table: dict[str, tuple[str, Any, bool]] = {}
    account = database = None
    if parts == ["user", "tokens", "verify"]:
        table = {"GET": ("verify", _verify, False)}
    elif len(parts) >= 2 and parts[0] == "accounts":
        account, rest = parts[1], parts[2:]
        if rest == ["tokens", "verify"]:
            table = {"GET": ("verify", _verify, False)}
        elif rest == ["d1", "database"]:
            table = {"GET": ("list", _list, False), "POST": ("create", _create, True)}
        elif len(rest) == 3 and rest[:2] == ["d1", "database"]:
            database = rest[2]
            table = {"GET": ("get", _get, False), "DELETE": ("delete", _delete, False)}
        elif len(rest) == 4 and rest[:2] == ["d1", "database"] and rest[3] in _POSTS:
            database = rest[2]
            table = {"POST": (rest[3], _POSTS[rest[3]], True)}
    if not table:
        raise ApiError(404, 7000, "No route for that URI")
    if method not in table:
        raise ApiError(405, 7001, f"Method {method} not allowed for this URI")
    op, handler, needs_body = table[method]
    return Route(op, account, database, handler, needs_body)


def parse_body(raw: bytes) -> dict[str, Any]:
    """A JSON object from a request body (ApiError 400/7400 otherwise)."""
    if not raw.strip():
        raise ApiError(400, 7400, "The request body must be a JSON object; it was empty.")
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, 7400, f"Malformed JSON in request body: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError(400, 7400, "The request body must be a JSON object.")
    return body


def import_op(body: Mapping[str, Any]) -> str:
    """init / ingest / poll from an import body (`import` when the action is unusable)."""
    action = body.get("action")
    return action if action in ("init", "ingest", "poll") else "import"


def check_auth(backend: Backend, route_: Route, authorization: str | None) -> None:
    """Bearer token, token status and account id, worded as the real API words them."""
    scheme, _, token = (authorization or "").partition(" ")
    presented = token.strip() if scheme.lower() == "bearer" else ""
    valid = bool(presented) and hmac.compare_digest(
        presented.encode("utf-8", "replace"), backend.token.encode("utf-8", "replace")
    )
    if route_.op == "verify":
        if not valid:
            raise ApiError(401, 1000, "Invalid API Token")
    elif authorization is None:
        raise ApiError(401, 10000, "Authentication error")
    elif not valid or backend.token_status != "active":
        raise ApiError(403, 10000, "Authentication error")
    if route_.account is not None and route_.account != backend.account_id:
        raise ApiError(
            403, 7403, "The given account is not valid or is not authorized to access this service"
        )


def _store_call(fn: Callable[[], Reply]) -> Reply:
    try:
        return fn()
    except StoreError as exc:
        return fail(exc.status, exc.code, exc.message)


# ---- operations --------------------------------------------------------------------------
Query = Mapping[str, list[str]]


def _verify(backend: Backend, _r: Route, _q: Query, _b: dict[str, Any]) -> Reply:
    status = backend.token_status
    result: dict[str, Any] = {"id": backend.token_id, "status": status}
    if status == "expired":
        result["expires_on"] = "2020-01-01T00:00:00Z"
    messages = []
    if status == "active":
        messages = [{"code": 10000, "message": "This API Token is valid and active", "type": None}]
    return Reply(200, envelope(result, messages=messages))


def _int_arg(query: Query, name: str, default: int, maximum: int) -> int:
    values = query.get(name)
    if not values:
        return default
    try:
        number = int(values[0])
    except ValueError:
        raise ApiError(400, 7400, f"{name} must be a positive integer.") from None
    if not 1 <= number <= maximum:
        raise ApiError(400, 7400, f"{name} must be between 1 and {maximum}.")
    return number


def _list(backend: Backend, _r: Route, query: Query, _b: dict[str, Any]) -> Reply:
    page = _int_arg(query, "page", 1, 1 << 31)
    per_page = _int_arg(query, "per_page", 100, _MAX_PER_PAGE)
    needle = (query.get("name") or [""])[0].lower()
    matches = [r for r in backend.store.all() if needle in r.name.lower()]
    chunk = matches[(page - 1) * per_page : page * per_page]
    result = [backend.store.describe(r, details=False) for r in chunk]
    body = envelope(result)
    body["result_info"] = {
        "page": page,
        "per_page": per_page,
        "count": len(result),
        "total_count": len(matches),
    }
    return Reply(200, body)


def _record(backend: Backend, route_: Route) -> DatabaseRecord:
    return backend.store.find(route_.database or "")


def _get(backend: Backend, route_: Route, query: Query, _b: dict[str, Any]) -> Reply:
    record = _record(backend, route_)
    info = backend.store.describe(record, details=True)
    wanted = {f.strip() for value in query.get("fields", []) for f in value.split(",") if f.strip()}
    if wanted:  # wrangler asks for ?fields=uuid,name
        info = {key: value for key, value in info.items() if key in wanted}
    return Reply(200, envelope(info))


def _create(backend: Backend, _r: Route, _q: Query, body: dict[str, Any]) -> Reply:
    record = backend.store.create(body.get("name"), body.get("primary_location_hint"))
    return Reply(200, envelope(backend.store.describe(record, details=False)))


def _delete(backend: Backend, route_: Route, _q: Query, _b: dict[str, Any]) -> Reply:
    record = backend.store.delete(route_.database or "")
    backend.uploads.remove_for(record.uuid)
    return Reply(200, envelope(None))


def _params(value: object) -> list[object]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ApiError(400, 7400, "params must be a list.")
    out: list[object] = []
    for item in value:
        if isinstance(item, bool):
            out.append(int(item))
        elif item is None or isinstance(item, str | int | float):
            out.append(item)
        else:
            raise ApiError(400, 7400, "params may hold only strings, numbers, booleans and null.")
    return out


def _batch(body: dict[str, Any]) -> list[tuple[str, list[object]]]:
    items = body.get("batch")
    if items is None:
        items = [body]
    if not isinstance(items, list) or not items:
        raise ApiError(400, 7400, "batch must be a non-empty list of {sql, params} objects.")
    batch = []
    for item in items:
        sql = item.get("sql") if isinstance(item, dict) else None
        if not isinstance(sql, str):
            raise ApiError(400, 7400, "sql (a string) is required.")
        batch.append((sql, _params(item.get("params"))))
    return batch


def _run_sql(backend: Backend, route_: Route, body: dict[str, Any], *, raw: bool) -> Reply:
    record = _record(backend, route_)
    batch = _batch(body)
    store = backend.store
    if record.uuid in store.importing:
        return fail(400, 7500, BUSY_IMPORTING, result=[])
    with store.db_lock(record.uuid):
        if record.uuid in store.importing:
            return fail(400, 7500, BUSY_IMPORTING, result=[])
        store.find(record.uuid)  # deleted meanwhile? then 404, not a fresh orphan file
        conn, auth = connect(store.file_of(record.uuid))
        try:
            results, changed = run_request(
                conn,
                auth,
                batch,
                raw=raw,
                region=record.region,
                time_limit=backend.settings.query_time_limit,
            )
        except SqlError as exc:
            return fail(400, 7500, exc.text, result=[])
        finally:
            conn.close()
    if changed:
        store.bump(record.uuid)
    return Reply(200, envelope(results))


def _query(backend: Backend, route_: Route, _q: Query, body: dict[str, Any]) -> Reply:
    return _run_sql(backend, route_, body, raw=False)


def _raw(backend: Backend, route_: Route, _q: Query, body: dict[str, Any]) -> Reply:
    return _run_sql(backend, route_, body, raw=True)


def _import(backend: Backend, route_: Route, _q: Query, body: dict[str, Any]) -> Reply:
    record = _record(backend, route_)
    action = body.get("action")
    imports = backend.imports
    if action == "init":
        status, result = imports.init(record, body.get("etag"))
    elif action == "ingest":
        status, result = imports.ingest(record, body.get("etag"), body.get("filename"))
    elif action == "poll":
        status, result = imports.poll(record, body.get("current_bookmark"))
    else:
        raise ApiError(400, 7400, f"Unknown import action {action!r}; use init, ingest or poll.")
    return Reply(status, envelope(result))


def not_importing_reply(backend: Backend, route_: Route, body: dict[str, Any]) -> Reply:
    """A spurious "Not currently importing anything." while the real work goes on."""
    record = _record(backend, route_)
    if body.get("action") == "ingest":
        _import(backend, route_, {}, body)
    else:
        backend.imports.touch(record, body.get("current_bookmark"))
    return Reply(200, envelope(inner_failure(NOT_IMPORTING)))


def _export(backend: Backend, route_: Route, _q: Query, body: dict[str, Any]) -> Reply:
    record = _record(backend, route_)
    if body.get("output_format", "polling") != "polling":
        raise ApiError(400, 7400, 'output_format must be "polling".')
    bookmark = backend.store.bookmark(record.uuid)
    name = export_name(record, bookmark)
    target = backend.uploads.export_path(name)
    run_export(backend.store, record, body.get("dump_options"), target)
    # Small local databases dump at once, so the first answer is already the final one.
    result = {
        "success": True,
        "type": "export",
        "at_bookmark": bookmark,
        "status": "complete",
        "messages": [
            f"Generating {name}",
            "Uploaded part 1",
            f"Finished uploading {name} in 1 parts.",
        ],
        "result": {"filename": name, "signed_url": backend.uploads.signed_url(name, method="GET")},
    }
    return Reply(200, envelope(result))


_POSTS = {"query": _query, "raw": _raw, "import": _import, "export": _export}


def dispatch(backend: Backend, route_: Route, query: Query, body: dict[str, Any]) -> Reply:
    """Run a matched, authorised operation; D1 refusals become failure envelopes."""
    return _store_call(lambda: route_.handler(backend, route_, query, body))
