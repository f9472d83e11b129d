"""The v4 envelope: success, typed errors from codes and statuses, malformed answers."""

from __future__ import annotations

import json

import httpx
import pytest

from d1tui.api.envelope import error_for, network_error, read_envelope, sqlite_code
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


def response(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.Response(status, content=content, headers=headers or {})


def failure(code: int, message: str) -> dict[str, object]:
    return {
        "success": False,
        "errors": [{"code": code, "message": message}],
        "messages": [],
        "result": None,
    }


def test_success_envelope_is_returned_whatever_2xx_status() -> None:
    body = {"success": True, "errors": [], "messages": [], "result": {"status": "active"}}
    assert read_envelope(response(202, body))["result"] == {"status": "active"}
    assert read_envelope(response(200, body))["result"]["status"] == "active"


def test_empty_204_is_an_empty_success() -> None:
    assert read_envelope(httpx.Response(204))["success"] is True


@pytest.mark.parametrize(
    ("status", "code", "message", "kind"),
    [
        (403, 10000, "Authentication error", AuthError),
        (401, 1000, "Invalid API Token", AuthError),
        (400, 9999, "whatever", D1Error),
        (
            403,
            7403,
            "The given account is not valid or is not authorized to access this service",
            AccountError,
        ),
        (404, 7404, "The database abc could not be found", NotFoundError),
        (400, 7500, "no such table: x: SQLITE_ERROR", SQLError),
        (429, 971, "Please wait and consider throttling your request speed", RateLimitedError),
        (502, 10001, "Internal server error", ServerError),
        (400, 7500, "D1_ERROR: Currently processing a long-running import.", ImportBusyError),
    ],
)
def test_failure_codes_map_to_typed_errors(
    status: int, code: int, message: str, kind: type
) -> None:
    with pytest.raises(D1Error) as caught:
        read_envelope(response(status, failure(code, message)))
    error = caught.value
    assert type(error) is kind
    assert error.codes == (code,)
    assert error.http_status == status
    assert message in error.server_messages
    assert error.title and str(error).startswith(error.title)


def test_http_status_alone_decides_when_codes_are_unknown() -> None:
    for status, kind in [
        (401, AuthError),
        (403, AuthError),
        (404, NotFoundError),
        (429, RateLimitedError),
        (503, ServerError),
    ]:
        with pytest.raises(kind):
            read_envelope(response(status, failure(12345, "something")))


def test_sql_error_carries_the_sqlite_code_and_message() -> None:
    with pytest.raises(SQLError) as caught:
        read_envelope(
            response(400, failure(7500, "UNIQUE constraint failed: t.id: SQLITE_CONSTRAINT"))
        )
    assert caught.value.sqlite_code == "SQLITE_CONSTRAINT"
    assert caught.value.detail == "UNIQUE constraint failed: t.id: SQLITE_CONSTRAINT"
    assert sqlite_code("statement too long: SQLITE_TOOBIG") == "SQLITE_TOOBIG"
    assert sqlite_code("no code here") is None


def test_rate_limit_reads_retry_after_seconds_and_ms() -> None:
    with pytest.raises(RateLimitedError) as caught:
        read_envelope(response(429, failure(971, "slow down"), {"Retry-After": "7"}))
    assert caught.value.retry_after == 7.0
    with pytest.raises(RateLimitedError) as caught:
        read_envelope(response(429, failure(971, "slow down"), {"retry-after-ms": "1500"}))
    assert caught.value.retry_after == 1.5


def test_non_json_answers() -> None:
    with pytest.raises(BadResponseError, match="malformed"):
        read_envelope(response(200, b"<html>hello</html>"))
    with pytest.raises(ServerError):
        read_envelope(response(502, b"<html>Bad gateway</html>"))
    with pytest.raises(BadResponseError):
        read_envelope(response(200, [1, 2, 3]))
    with pytest.raises(BadResponseError):
        read_envelope(response(200, {"result": {}}))  # no success flag at all


def test_error_chain_and_messages_are_kept_and_top_level_error_is_a_fallback() -> None:
    body = {
        "success": False,
        "errors": [
            {
                "code": 7500,
                "message": "outer: SQLITE_ERROR",
                "error_chain": [{"code": 1, "message": "inner cause"}],
            }
        ],
        "messages": [{"code": 0, "message": "a note"}, "plain note"],
    }
    error = error_for(400, body, httpx.Headers())
    assert {"outer: SQLITE_ERROR", "inner cause", "a note", "plain note"} <= set(
        error.server_messages
    )
    fallback = error_for(
        400,
        {"success": False, "errors": [], "error": "top level words", "code": 7400},
        httpx.Headers(),
    )
    assert fallback.detail == "top level words" and fallback.codes == (7400,)


def test_network_errors_say_whether_the_request_was_sent() -> None:
    request = httpx.Request("GET", "http://127.0.0.1/")
    refused, sent = network_error(httpx.ConnectError("refused", request=request))
    assert isinstance(refused, NetworkError) and sent is False
    assert "could not connect" in refused.detail
    timeout, sent = network_error(httpx.ReadTimeout("timed out", request=request))
    assert sent is True and "read timeout" in timeout.detail
