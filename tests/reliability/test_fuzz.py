"""Fuzzing (bounded): the emulator's HTTP surface and every reader, with hypothesis.

* The emulator gets arbitrary methods, paths, headers and bodies over a raw socket. It must
  answer each one (never a 500, never a traceback), with the D1 error envelope on API paths,
  and its server thread must outlive the lot.
* ``detect``, ``preview_file`` and ``prepare_file`` get random and half-valid bytes under every
  name and forced format: only typed ``D1Error``s (in practice ``BadInputError``) may escape.

CI replays a fixed set (derandomized); ``D1TUI_FUZZ_EXPLORE=20`` explores 20x as many, fresh.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import sqlite3
import string
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_client_helpers import make_client, start_emulator

from d1tui.convert.detect import Format, ReadOptions, detect
from d1tui.convert.prepare import Target, prepare_file
from d1tui.convert.preview import preview_file
from d1tui.emulator import Emulator
from d1tui.errors import D1Error

HTTP_EXAMPLES = 100
READER_EXAMPLES = 250
# CI replays the same examples every run; D1TUI_FUZZ_EXPLORE=N draws N times as many, fresh.
EXPLORE = int(os.environ.get("D1TUI_FUZZ_EXPLORE", "0"))
FUZZ = settings(
    max_examples=HTTP_EXAMPLES * max(1, EXPLORE),
    derandomize=not EXPLORE,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ENVELOPE_KEYS = {"success", "errors", "messages", "result"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """One emulator for all HTTP examples, with a database and an upload in flight."""
    emu = start_emulator(tmp_path_factory.mktemp("fuzz"), no_poll_timeout=1.0)
    emu.create_database("demo")
    yield emu
    emu.stop()


_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="?#"),
    max_size=20,
)


def _segments(account: str) -> st.SearchStrategy[str]:
    words = [
        "accounts", account, "d1", "database", "demo", "query", "raw", "import", "export",
        "user", "tokens", "verify", "..", "%2e%2e", "%00", "%ff", "%", "", "x" * 300,
    ]  # fmt: skip
    return st.lists(st.sampled_from(words) | _TEXT, max_size=7).map("/".join)


def _json_values() -> st.SearchStrategy[object]:
    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
    return st.recursive(
        scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner)
    )


def _bodies() -> st.SearchStrategy[bytes]:
    api_like = st.fixed_dictionaries(
        {},
        optional={
            "sql": st.sampled_from(["SELECT 1", "SELECT * FROM nope", "PRAGMA table_list"])
            | st.text(max_size=40),
            "params": st.lists(_json_values(), max_size=3) | _json_values(),
            "action": st.sampled_from(["init", "ingest", "poll", "bogus"]) | _json_values(),
            "etag": st.sampled_from(["0" * 32, "ab" * 16]) | _json_values(),
            "filename": st.text(max_size=60) | _json_values(),
            "current_bookmark": st.text(max_size=60) | _json_values(),
            "name": st.text(max_size=40) | _json_values(),
            "output_format": _json_values(),
        },
    )
    return (
        st.binary(max_size=600)
        | _json_values().map(lambda v: json.dumps(v).encode())
        | api_like.map(lambda v: json.dumps(v).encode())
    )


def _header_value() -> st.SearchStrategy[str]:
    return st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=40)


def exchange(port: int, raw: bytes) -> tuple[bytes, bool]:
    """Send one raw request and read the answer until the server closes the connection.

    Also says whether the server took the whole request: one it refuses early (a bad
    Content-Length) may close with our body unread, and TCP may then reset the connection.
    """
    chunks = []
    complete = True
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        try:
            sock.sendall(raw)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            complete = False
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            complete = False
    return b"".join(chunks), complete


@FUZZ
@given(data=st.data())
def test_the_emulator_answers_any_request_with_an_envelope_and_never_a_500(
    server: Emulator, data: st.DataObject
) -> None:
    method = data.draw(
        st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "BREW"])
        | st.text(alphabet=string.ascii_uppercase, min_size=1, max_size=8)
    )
    prefix = data.draw(st.sampled_from(["/client/v4/", "/", "/upload/", "/client/v4/accounts/"]))
    path = prefix + data.draw(_segments(server.account_id))
    if data.draw(st.booleans()):
        path += "?" + data.draw(_TEXT)
    headers = {"Host": "127.0.0.1", "Connection": "close"}
    auth = data.draw(
        st.sampled_from([None, f"Bearer {server.token}", "Bearer wrong", "", server.token])
    )
    if auth is not None:
        headers["Authorization"] = auth
    extra = data.draw(
        st.dictionaries(
            st.sampled_from(["Content-Type", "Transfer-Encoding", "Expect", "X-Amz-Date", "Range"]),
            _header_value(),
            max_size=2,
        )
    )
    headers.update(extra)
    body = data.draw(_bodies())
    length = data.draw(st.sampled_from([str(len(body)), None, "abc", "-1", "٣"]))
    if length is not None:
        headers["Content-Length"] = length
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    answer, complete = exchange(
        server.port, head.encode("utf-8", "surrogateescape") + b"\r\n" + body
    )
    if not answer:
        assert not complete, "no answer to a request the server read in full"
        return
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1."), answer[:200]
    status = int(status_line.split()[1])
    assert status != 500, answer[:500]
    assert b"Traceback" not in answer
    _headers, _, payload = rest.partition(b"\r\n\r\n")
    api = path.startswith("/client/v4") and not path.startswith("/upload/")
    if api and method != "HEAD" and payload and b"application/json" in _headers:
        envelope = json.loads(payload)
        assert set(envelope) >= ENVELOPE_KEYS
        assert isinstance(envelope["errors"], list)
        if status >= 400:
            assert envelope["success"] is False and envelope["errors"][0]["message"]


def test_the_server_thread_survived_the_fuzzing_and_still_serves(server: Emulator) -> None:
    assert server._thread is not None and server._thread.is_alive()
    with make_client(server) as client:
        assert "demo" in [d.name for d in client.list_databases()]
        assert client.query("demo", "SELECT 1 AS one")[0].results == [{"one": 1}]


# ---- readers ------------------------------------------------------------------------------

_counter = itertools.count()
NAMES = [".csv", ".tsv", ".json", ".ndjson", ".jsonl", ".sql", ".sqlite", ".txt", ""]
FORMATS = [None, *Format]


def _sqlite_bytes() -> bytes:
    """A small real SQLite file (fuzzed by flipping bytes)."""
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, t TEXT, b BLOB)")
    con.executemany(
        "INSERT INTO a VALUES (?, ?, ?)", [(i, f"t{i}", b"\x00\x01") for i in range(40)]
    )
    con.execute("CREATE INDEX a_t ON a(t)")
    con.execute("CREATE VIEW v AS SELECT t FROM a")
    con.commit()
    data = con.serialize()
    con.close()
    return bytes(data)


SQLITE = _sqlite_bytes()


def _half_valid() -> st.SearchStrategy[bytes]:
    cell = st.text(alphabet='ab,;"\t\r\n\\\x00é1.-', max_size=8)
    csv_like = st.lists(st.lists(cell, max_size=5), max_size=6).map(
        lambda rows: "\n".join(",".join(r) for r in rows).encode()
    )
    json_like = _json_values().map(lambda v: json.dumps(v).encode())
    ndjson_like = st.lists(_json_values(), max_size=5).map(
        lambda vs: b"\n".join(json.dumps(v).encode() for v in vs)
    )
    words = ["CREATE TABLE", "INSERT INTO", "VALUES", "(", ")", ";", "'", '"', "--", "/*",
             "*/", "BEGIN", "COMMIT", "PRAGMA", "t", "1", ",", "\n", "_cf_KV", "ATTACH",
             "x'00'"]  # fmt: skip
    sql_like = st.lists(st.sampled_from(words), max_size=25).map(lambda w: " ".join(w).encode())
    flips = st.lists(
        st.tuples(st.integers(0, len(SQLITE) - 1), st.integers(0, 255)), min_size=1, max_size=8
    )

    def corrupt(changes: list[tuple[int, int]]) -> bytes:
        data = bytearray(SQLITE)
        for at, value in changes:
            data[at] = value
        return bytes(data)

    sqlite_like = flips.map(corrupt) | st.integers(0, len(SQLITE)).map(lambda n: SQLITE[:n])
    boms = st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00"])
    return st.one_of(
        st.binary(max_size=2000),
        st.tuples(boms, csv_like | json_like | ndjson_like | sql_like).map(b"".join),
        sqlite_like,
    )


@settings(FUZZ, max_examples=READER_EXAMPLES * max(1, EXPLORE))
@given(data=_half_valid(), suffix=st.sampled_from(NAMES), fmt=st.sampled_from(FORMATS))
def test_readers_raise_only_typed_errors_on_random_bytes(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, suffix: str, fmt: Format | None
) -> None:
    folder = tmp_path_factory.getbasetemp() / "fuzz-readers"
    folder.mkdir(exist_ok=True)
    path = folder / f"in{next(_counter)}{suffix}"
    path.write_bytes(data)
    out = folder / "out"
    out.mkdir(exist_ok=True)
    options = ReadOptions(format=fmt)
    target = Target("t", True)
    try:
        try:
            detect(path, options)
            preview_file(path, options, target, limit=5)
        except D1Error:
            pass
        try:
            items = list(prepare_file(path, options, target, out_dir=out))
        except D1Error as error:
            assert str(error) and error.exit_code in (3, 5)
        else:
            prepared = items[-1]
            assert prepared.size == prepared.path.stat().st_size  # type: ignore[union-attr]
            prepared.path.unlink()  # type: ignore[union-attr]
        assert list(out.iterdir()) == []  # nothing half-written is left behind
    finally:
        path.unlink()
