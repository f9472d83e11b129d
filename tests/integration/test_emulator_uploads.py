"""The emulator's presigned-style upload URLs: S3-like refusals, streaming, md5 ETags."""

from __future__ import annotations

import hashlib
import socket
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from d1tui.emulator import Emulator

# One shared client for unauthenticated calls (uploads, wrong tokens); plain HTTP, no CA loading.
PLAIN = httpx.Client(timeout=10, verify=False)


@pytest.fixture
def emu(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(tmp_path / "emu", hold_seconds=0.05) as emulator:
        yield emulator


def init(emu: Emulator, db: str, data: bytes) -> dict[str, Any]:
    response = PLAIN.post(
        f"{emu.base_url}/accounts/{emu.account_id}/d1/database/{db}/import",
        json={"action": "init", "etag": hashlib.md5(data).hexdigest()},
        headers={"Authorization": f"Bearer {emu.token}"},
    )
    return dict(response.json()["result"])


def raw_request(url: str, head: bytes, body: bytes = b"", *, shut: bool = True) -> bytes:
    """Send bytes exactly as given (httpx would fix our deliberate mistakes) and read the answer."""
    parts = urlsplit(url)
    assert parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(head + body)
        if shut:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def target(url: str) -> bytes:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}".encode()


@pytest.fixture
def db(emu: Emulator) -> str:
    return str(emu.create_database("up")["uuid"])


def test_put_streams_to_disk_and_answers_with_the_md5_etag(emu: Emulator, db: str) -> None:
    data = b"INSERT INTO x VALUES (1);\n" * 50_000
    answer = init(emu, db, data)
    put = PLAIN.put(answer["upload_url"], content=data)
    assert put.status_code == 200 and put.content == b""
    assert put.headers["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    assert (emu.data_dir / "uploads" / answer["filename"]).read_bytes() == data
    assert "Authorization" not in str(put.request.headers)


def test_upload_url_shape(emu: Emulator, db: str) -> None:
    data = b"SELECT 1;"
    answer = init(emu, db, data)
    etag = hashlib.md5(data).hexdigest()
    assert answer["filename"] == f"{db}.{etag[:16]}.sql"
    url = urlsplit(answer["upload_url"])
    assert url.netloc == urlsplit(emu.base_url).netloc
    assert url.path == f"/upload/{answer['filename']}"
    for key in ("X-Amz-Expires=3600", "X-Amz-Date=", "X-Amz-Signature="):
        assert key in url.query


def test_chunked_and_lengthless_puts_are_refused(emu: Emulator, db: str) -> None:
    url = init(emu, db, b"x")["upload_url"]
    host = urlsplit(url).netloc.encode()
    chunked = raw_request(
        url,
        b"PUT " + target(url) + b" HTTP/1.1\r\nHost: " + host + b"\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n",
        b"1\r\nx\r\n0\r\n\r\n",
    )
    assert chunked.startswith(b"HTTP/1.1 501") and b"<Code>NotImplemented</Code>" in chunked
    lengthless = raw_request(
        url, b"PUT " + target(url) + b" HTTP/1.1\r\nHost: " + host + b"\r\n\r\n"
    )
    assert lengthless.startswith(b"HTTP/1.1 411") and b"MissingContentLength" in lengthless


def test_short_body_is_an_incomplete_upload(emu: Emulator, db: str) -> None:
    data = b"SELECT 1;" * 10
    answer = init(emu, db, data)
    url = answer["upload_url"]
    head = b"PUT " + target(url) + b" HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(data)
    reply = raw_request(url, head, data[:20])
    assert reply.startswith(b"HTTP/1.1 400") and b"<Code>IncompleteBody</Code>" in reply
    assert not (emu.data_dir / "uploads" / answer["filename"]).exists()
    assert "upload_url" in init(emu, db, data)  # nothing half-written counts as uploaded


def test_too_large_is_refused_before_reading(emu: Emulator, db: str) -> None:
    url = init(emu, db, b"x")["upload_url"]
    head = b"PUT " + target(url) + b" HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (5 << 30)
    reply = raw_request(url, head, shut=False)
    assert reply.startswith(b"HTTP/1.1 400") and b"<Code>EntityTooLarge</Code>" in reply


def test_expired_url_is_access_denied(tmp_path: Path) -> None:
    with Emulator(tmp_path, upload_url_ttl=0) as emu:
        db = str(emu.create_database("late")["uuid"])
        url = init(emu, db, b"SELECT 1;")["upload_url"]
        put = PLAIN.put(url, content=b"SELECT 1;")
    assert put.status_code == 403
    assert b"<Code>AccessDenied</Code><Message>Request has expired</Message>" in put.content


def test_tampered_signature_or_name_is_refused(emu: Emulator, db: str) -> None:
    url = init(emu, db, b"SELECT 1;")["upload_url"]
    forged = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
    put = PLAIN.put(forged, content=b"SELECT 1;")
    assert put.status_code == 403 and b"SignatureDoesNotMatch" in put.content
    other_name = url.replace(db, "0" * 8 + db[8:])
    assert PLAIN.put(other_name, content=b"SELECT 1;").status_code == 403
    unsigned = url.split("?")[0]
    assert PLAIN.put(unsigned, content=b"SELECT 1;").status_code == 403


@pytest.mark.parametrize(
    "path",
    [b"/upload/../index.json", b"/upload/..%2Findex.json", b"/upload/x.sql", b"/upload/"],
)
def test_traversal_and_unknown_names_are_refused(emu: Emulator, db: str, path: bytes) -> None:
    url = init(emu, db, b"SELECT 1;")["upload_url"]
    query = urlsplit(url).query.encode()
    reply = raw_request(
        url,
        b"PUT " + path + b"?" + query + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n",
        b"x",
    )
    assert reply.split(b" ")[1] in (b"400", b"404")
    assert b"<Error>" in reply
    assert (emu.data_dir / "index.json").read_bytes().startswith(b"{")


def test_upload_for_an_unknown_database_is_404(emu: Emulator, db: str) -> None:
    url = init(emu, db, b"SELECT 1;")["upload_url"]
    assert PLAIN.put(url, content=b"SELECT 1;").status_code == 200
    assert list((emu.data_dir / "uploads").glob(f"{db}.*"))
    emu.delete_database(db)
    assert not list((emu.data_dir / "uploads").glob(f"{db}.*"))
    put = PLAIN.put(url, content=b"SELECT 1;")
    assert put.status_code == 404 and b"NoSuchBucket" in put.content


def test_get_on_an_upload_url_is_405(emu: Emulator, db: str) -> None:
    url = init(emu, db, b"SELECT 1;")["upload_url"]
    assert PLAIN.get(url).status_code == 405


def test_a_client_gone_before_a_refusal_leaves_no_traceback(
    emu: Emulator, capfd: pytest.CaptureFixture[str]
) -> None:
    parts = urlsplit(emu.base_url)
    assert parts.port is not None
    head = b"PUT /upload/nosuch.sql?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n"
    for _ in range(5):
        with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
            # an abortive close (RST): the refusal the emulator then writes hits a dead socket
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.sendall(head + b"x" * 100_000)
    assert PLAIN.get(f"{emu.base_url}/user/tokens/verify").status_code == 401  # still serving
    assert "Traceback" not in capfd.readouterr().err
