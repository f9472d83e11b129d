"""What the client puts on the wire, seen by a small recording HTTP server on 127.0.0.1.

The emulator does not report request headers, so these few cases use a server of their own:
real sockets and real HTTP, answering the shapes the emulator never produces.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from d1tui import __version__
from d1tui.api.client import D1Client
from d1tui.api.retry import RetryPolicy
from d1tui.api.upload import NOT_UPLOADED
from d1tui.errors import BadResponseError, ServerError, UploadError
from d1tui.settings.secret import Secret

TOKEN = "header-test-token-0123456789"


class Recording(ThreadingHTTPServer):
    """Remembers every request's method, path, headers and body size."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.seen: list[tuple[str, str, dict[str, str], int]] = []


class Handler(BaseHTTPRequestHandler):
    server: Recording

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return

    def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.server.seen.append(("GET", self.path, dict(self.headers), 0))
        if self.path.endswith("/html"):
            return self._reply(502, b"<html>Bad gateway</html>", {"Content-Type": "text/html"})
        if self.path.endswith("/plain"):
            return self._reply(200, b"hello", {"Content-Type": "text/plain"})
        body = {
            "success": True,
            "errors": [],
            "messages": [],
            "result": {"id": "x", "status": "active"},
        }
        self._reply(200, json.dumps(body).encode(), {"Content-Type": "application/json"})

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(length)
        self.server.seen.append(("PUT", self.path, dict(self.headers), len(data)))
        if self.path.startswith("/redirect"):
            return self._reply(307, b"", {"Location": "/elsewhere"})
        self._reply(200, b"", {"ETag": f'"{hashlib.md5(data).hexdigest()}"'})


@pytest.fixture
def server() -> Iterator[Recording]:
    srv = Recording()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def base(server: Recording) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_api_requests_carry_bearer_token_and_user_agent(server: Recording) -> None:
    with D1Client("acct", Secret(TOKEN), base_url=base(server) + "/client/v4") as client:
        assert client.verify_token().active
    method, path, headers, _ = server.seen[0]
    assert (method, path) == ("GET", "/client/v4/accounts/acct/tokens/verify")
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["User-Agent"] == f"d1tui/{__version__}"


def test_upload_is_a_plain_put_with_content_length_and_no_credentials(
    server: Recording, tmp_path: Path
) -> None:
    path = tmp_path / "f.sql"
    data = b"INSERT INTO t VALUES (1);\n" * 30_000  # several chunks
    path.write_bytes(data)
    with D1Client("acct", Secret(TOKEN), base_url=base(server)) as client:
        client.upload(
            base(server) + "/upload/f.sql?X-Amz-Signature=abc", path, hashlib.md5(data).hexdigest()
        )
    method, _, headers, received = server.seen[0]
    lower = {k.lower(): v for k, v in headers.items()}
    assert method == "PUT" and received == len(data)
    assert lower["content-length"] == str(len(data))
    assert "transfer-encoding" not in lower
    assert "authorization" not in lower and "content-type" not in lower
    assert TOKEN not in json.dumps(headers)


def test_upload_does_not_follow_redirects(server: Recording, tmp_path: Path) -> None:
    path = tmp_path / "f.sql"
    path.write_bytes(b"SELECT 1;\n")
    client = D1Client("acct", Secret(TOKEN), base_url=base(server))
    with client, pytest.raises(UploadError) as caught:
        client.upload(base(server) + "/redirect", path, hashlib.md5(b"SELECT 1;\n").hexdigest())
    assert caught.value.http_status == 307 and caught.value.detail.startswith(NOT_UPLOADED)
    assert len(server.seen) == 1


def test_answers_that_are_not_the_envelope(server: Recording) -> None:
    once = RetryPolicy(max_attempts=1)
    with D1Client("acct", Secret(TOKEN), base_url=base(server), retry=once) as client:
        with pytest.raises(ServerError) as caught:
            client.get_database("html")
        assert caught.value.http_status == 502
        with pytest.raises(BadResponseError, match="malformed"):
            client.get_database("plain")
