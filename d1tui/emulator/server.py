"""HTTP plumbing: a threading server, body reading, faults, and the signed-URL upload endpoint."""

from __future__ import annotations

import hashlib
import json
import socket
import sys
import time
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from d1tui.emulator.api import (
    API_PREFIX,
    ApiError,
    Backend,
    Reply,
    check_auth,
    dispatch,
    fail,
    import_op,
    not_importing_reply,
    parse_body,
    route,
)
from d1tui.emulator.faults import Fault
from d1tui.emulator.uploads import MAX_OBJECT, S3Error, UploadDroppedError

MAX_API_BODY = 64 << 20
SMALL_BODY = 64 << 10
"""A refused request's body up to this size is read (and dropped) to keep the connection."""
UPLOAD_PREFIX = "/upload/"
DOWNLOAD_PREFIX = "/download/"


class EmulatorHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer carrying the emulator's backend."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512  # the listen backlog: hundreds of clients may connect at once

    def __init__(self, address: tuple[str, int], backend: Backend) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)
        self.backend = backend

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-answer (e.g. an aborted upload) is normal: stay quiet."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _RefusalError(Exception):
    """Answer now and close the connection (the body may be unread)."""

    def __init__(self, reply: Reply, *, xml: bytes | None = None) -> None:
        super().__init__(reply.status)
        self.reply = reply
        self.xml = xml


def fault_reply(fault: Fault) -> Reply:
    """The error envelope for a 'status' fault (429 carries Retry-After)."""
    status = fault.status or 500
    if status == 429:
        code, message = 971, "Please wait and consider throttling your request speed"
    elif status >= 500:
        code, message = 10001, "Internal server error"
    else:
        code, message = 7400, "Bad request"
    reply = fail(status, fault.code or code, fault.message or message)
    if status == 429:
        reply.headers["Retry-After"] = (
            f"{fault.retry_after if fault.retry_after is not None else 1:g}"
        )
    return reply


class Handler(BaseHTTPRequestHandler):
    """One connection's requests: API calls under /client/v4 and PUTs to /upload/."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server_version = "d1tui-emulator"
    sys_version = ""
    timeout = 30.0
    server: EmulatorHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests and the TUI own the terminal."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed requests the stdlib rejects still get a JSON envelope (not an HTML page)."""
        self.close_connection = True
        text = message or HTTPStatus(code).phrase
        reply = fail(code, 7400 if code < 500 else 10001, text)
        payload = b"" if self.command == "HEAD" else json.dumps(reply.body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Connection", "close")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        """Dispatch a GET."""
        self._handle("GET")

    def do_POST(self) -> None:
        """Dispatch a POST."""
        self._handle("POST")

    def do_PUT(self) -> None:
        """Dispatch a PUT."""
        self._handle("PUT")

    def do_DELETE(self) -> None:
        """Dispatch a DELETE."""
        self._handle("DELETE")

    def do_PATCH(self) -> None:
        """Dispatch a PATCH."""
        self._handle("PATCH")

    def do_OPTIONS(self) -> None:
        """Dispatch an OPTIONS (no route takes it: 405 or 404)."""
        self._handle("OPTIONS")

    def do_HEAD(self) -> None:
        """HEAD is not served: 405 with no body."""
        self.server.backend.record_request("HEAD", "unknown", urlsplit(self.path).path)
        self.close_connection = True
        self.send_response(405)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()

    # ---- top level ---------------------------------------------------------------------
    def _handle(self, method: str) -> None:
        backend = self.server.backend
        url = urlsplit(self.path)
        try:
            if url.path.startswith(UPLOAD_PREFIX):
                self._upload(backend, method, url.path, parse_qs(url.query))
            elif url.path.startswith(DOWNLOAD_PREFIX):
                self._download(backend, method, url.path, parse_qs(url.query))
            else:
                self._api(backend, method, url.path, parse_qs(url.query))
        except _RefusalError as refusal:
            self.close_connection = True
            if refusal.xml is not None:
                self._send(
                    refusal.reply.status, refusal.xml, "application/xml", {"Connection": "close"}
                )
            else:
                self._send_reply(refusal.reply, close=True)
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            self._send_reply(fail(500, 10001, "Internal server error"), close=True)

    def _api(self, backend: Backend, method: str, path: str, query: dict[str, list[str]]) -> None:
        # The route and the token are checked before the body is read: a refused request
        # with a large body is answered and its connection closed, the body left unread.
        try:
            if not (path == API_PREFIX or path.startswith(API_PREFIX + "/")):
                raise ApiError(404, 7000, "No route for that URI")
            matched = route(method, path)
        except ApiError as exc:
            backend.record_request(method, "unknown", path)
            self._refuse_before_body(exc.reply)
            return
        if (self._content_length(upload=False) or 0) > SMALL_BODY:
            try:
                check_auth(backend, matched, self.headers.get("Authorization"))
            except ApiError as exc:
                backend.record_request(method, matched.op, path)
                raise _RefusalError(exc.reply) from None
        raw = self._read_api_body(method)
        body: dict[str, Any] = {}
        op = matched.op
        if op == "import":
            try:
                body = parse_body(raw)
                op = import_op(body)
            except ApiError:
                pass
        backend.record_request(method, op, path)
        firing = backend.faults.take(op)
        if firing.delay:
            time.sleep(firing.delay)
        fault = firing.fault
        if fault is not None and fault.kind == "status":
            self._send_reply(fault_reply(fault))
            return
        try:
            check_auth(backend, matched, self.headers.get("Authorization"))  # checked anew
            if matched.needs_body:
                body = parse_body(raw)
            if fault is not None and fault.kind == "not_importing":
                reply = not_importing_reply(backend, matched, body)
            else:
                reply = dispatch(backend, matched, query, body)
        except ApiError as exc:
            reply = exc.reply
        if fault is not None and fault.kind == "drop":
            self.close_connection = True  # the work is done; the answer is lost
            return
        self._send_reply(reply)

    # ---- bodies ------------------------------------------------------------------------
    def _content_length(self, *, upload: bool) -> int | None:
        if self.headers.get("Transfer-Encoding"):
            if upload:
                raise _RefusalError(
                    Reply(501),
                    xml=_s3_xml(
                        "NotImplemented",
                        "A header you provided implies functionality that is not implemented",
                    ),
                )
            raise _RefusalError(
                fail(411, 7400, "Send the request body with a Content-Length header.")
            )
        value = self.headers.get("Content-Length")
        if value is None:
            return None
        if not (value.strip().isascii() and value.strip().isdigit()):
            if upload:
                raise _RefusalError(
                    Reply(400), xml=_s3_xml("InvalidArgument", "Bad Content-Length.")
                )
            raise _RefusalError(fail(400, 7400, "Invalid Content-Length header."))
        return int(value)

    def _refuse_before_body(self, reply: Reply) -> None:
        """Answer a request refused on its headers; a large body is not read (closed)."""
        length = self._content_length(upload=False) or 0
        if length > SMALL_BODY:
            raise _RefusalError(reply)
        self._read_api_body("")
        self._send_reply(reply)

    def _read_api_body(self, method: str) -> bytes:
        length = self._content_length(upload=False)
        if not length:
            return b""
        if length > MAX_API_BODY:
            raise _RefusalError(fail(413, 7400, "The request body is too large."))
        data = self.rfile.read(length)
        if len(data) != length:
            raise ConnectionError("short body")
        return data

    # ---- upload ------------------------------------------------------------------------
    def _upload(
        self, backend: Backend, method: str, path: str, query: dict[str, list[str]]
    ) -> None:
        backend.record_request(method, "upload", path)
        firing = backend.faults.take("upload")
        if firing.delay:
            time.sleep(firing.delay)
        fault = firing.fault
        if method != "PUT":
            raise _RefusalError(Reply(405), xml=_s3_xml("MethodNotAllowed", "Use PUT to upload."))
        if fault is not None and fault.kind == "status":
            status = fault.status or 500
            code = "SlowDown" if status in (429, 503) else "InternalError"
            raise _RefusalError(Reply(status), xml=_s3_xml(code, fault.message or "Please retry."))
        filename = path[len(UPLOAD_PREFIX) :]
        try:
            backend.uploads.check(filename, query)
        except S3Error as exc:
            raise _RefusalError(Reply(exc.status), xml=exc.xml()) from None
        length = self._content_length(upload=True)
        if length is None:
            raise _RefusalError(
                Reply(411),
                xml=_s3_xml(
                    "MissingContentLength", "You must provide the Content-Length HTTP header."
                ),
            )
        if length > MAX_OBJECT:
            raise _RefusalError(
                Reply(400),
                xml=_s3_xml(
                    "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"
                ),
            )
        db_uuid = filename.split(".", 1)[0]
        if db_uuid not in {r.uuid for r in backend.store.all()}:
            raise _RefusalError(
                Reply(404), xml=_s3_xml("NoSuchBucket", "The specified bucket does not exist.")
            )
        drop_after = None
        if fault is not None and fault.kind == "drop":
            drop_after = fault.after_bytes or 0
        try:
            md5 = backend.uploads.receive(self.rfile, length, filename, drop_after=drop_after)
        except UploadDroppedError:
            self.close_connection = True
            return
        except S3Error as exc:
            raise _RefusalError(Reply(exc.status), xml=exc.xml()) from None
        headers: dict[str, str] = {}
        if fault is not None and fault.kind == "wrong_etag":
            headers["ETag"] = f'"{hashlib.md5(md5.encode()).hexdigest()}"'
        elif fault is None or fault.kind != "no_etag":
            headers["ETag"] = f'"{md5}"'
        self._send(200, b"", None, headers)

    def _download(
        self, backend: Backend, method: str, path: str, query: dict[str, list[str]]
    ) -> None:
        backend.record_request(method, "download", path)
        firing = backend.faults.take("download")
        if firing.delay:
            time.sleep(firing.delay)
        if method != "GET":
            raise _RefusalError(Reply(405), xml=_s3_xml("MethodNotAllowed", "Use GET to download."))
        if firing.fault is not None and firing.fault.kind == "status":
            status = firing.fault.status or 500
            raise _RefusalError(Reply(status), xml=_s3_xml("InternalError", "Please retry."))
        filename = path[len(DOWNLOAD_PREFIX) :]
        try:
            backend.uploads.check(filename, query, method="GET")
            source = backend.uploads.export_path(filename)
            size = source.stat().st_size
        except S3Error as exc:
            raise _RefusalError(Reply(exc.status), xml=exc.xml()) from None
        except OSError:
            raise _RefusalError(
                Reply(404), xml=_s3_xml("NoSuchKey", "The specified key does not exist.")
            ) from None
        self._read_api_body(method)  # keep the connection usable; a GET has no body anyway
        self.send_response(200)
        self.send_header("Content-Type", "application/sql")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        with open(source, "rb") as fh:
            while chunk := fh.read(1 << 20):
                self.wfile.write(chunk)

    # ---- writing -----------------------------------------------------------------------
    def _send_reply(self, reply: Reply, *, close: bool = False) -> None:
        payload = json.dumps(reply.body, separators=(",", ":")).encode()
        headers = dict(reply.headers)
        if close:
            headers["Connection"] = "close"
        self._send(reply.status, payload, "application/json", headers)

    def _send(
        self, status: int, payload: bytes, content_type: str | None, headers: dict[str, str]
    ) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def _s3_xml(code: str, message: str) -> bytes:
    return S3Error(0, code, message).xml()
