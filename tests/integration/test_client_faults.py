"""Injected faults over real HTTP: which calls are repeated, how long the client waits."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_client_helpers import make_client, start_emulator, write_sql

from d1tui.api.client import D1Client
from d1tui.api.retry import RetryNotice, RetryPolicy
from d1tui.api.upload import NO_ETAG, NOT_UPLOADED, WRONG_CONTENTS
from d1tui.emulator import Emulator
from d1tui.errors import (
    ImportCancelledError,
    NetworkError,
    RateLimitedError,
    ServerError,
    UploadError,
)
from d1tui.settings.secret import Secret


@pytest.fixture
def emu(tmp_path: Path) -> Iterator[Emulator]:
    emulator = start_emulator(tmp_path)
    emulator.create_database("demo")
    yield emulator
    emulator.stop()


class Recorder:
    """An injected sleep that records the waits (and waits a little for real)."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.notices: list[RetryNotice] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)

    def notice(self, notice: RetryNotice) -> None:
        self.notices.append(notice)


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture
def client(emu: Emulator, rec: Recorder) -> Iterator[D1Client]:
    with make_client(emu, sleep=rec.sleep, on_retry=rec.notice) as c:
        yield c


def ops(emu: Emulator, op: str) -> int:
    return [o for _, o, _ in emu.requests].count(op)


def test_429_honours_retry_after_then_succeeds(
    emu: Emulator, client: D1Client, rec: Recorder
) -> None:
    emu.faults.add("list", "status", status=429, retry_after=1.5)
    assert [d.name for d in client.list_databases()] == ["demo"]
    assert rec.waits == [1.5]
    assert rec.notices[0].operation == "list" and isinstance(rec.notices[0].error, RateLimitedError)
    assert ops(emu, "list") == 2


def test_retry_after_is_capped_and_attempts_are_bounded(emu: Emulator, rec: Recorder) -> None:
    emu.faults.add("query", "status", status=429, retry_after=3600, times=10)
    policy = RetryPolicy(max_attempts=3, max_retry_after=2.0)
    with (
        make_client(emu, sleep=rec.sleep, retry=policy) as client,
        pytest.raises(RateLimitedError) as caught,
    ):
        client.query("demo", "INSERT INTO nowhere VALUES (1)")
    assert caught.value.retry_after == 3600 and 971 in caught.value.codes
    assert rec.waits == [2.0, 2.0] and ops(emu, "query") == 3


def test_server_errors_are_retried_for_safe_calls_only(
    emu: Emulator, client: D1Client, rec: Recorder
) -> None:
    emu.faults.add("get", "status", status=503, times=2)
    assert client.get_database("demo").name == "demo"
    assert ops(emu, "get") == 3 and len(rec.waits) == 2
    assert rec.waits == sorted(rec.waits)  # backoff grows
    emu.faults.add("query", "status", status=500)
    with pytest.raises(ServerError):
        client.query("demo", "SELECT 1")
    assert ops(emu, "query") == 1
    emu.faults.add("query", "status", status=500)
    assert client.query("demo", "SELECT 1 AS one", read_only=True)[0].results == [{"one": 1}]
    assert ops(emu, "query") == 3


def test_a_dropped_answer_is_never_retried_for_a_write(emu: Emulator, client: D1Client) -> None:
    client.query("demo", "CREATE TABLE t (x)")
    emu.faults.add("query", "drop")
    with pytest.raises(NetworkError):
        client.query("demo", "INSERT INTO t VALUES (1)")
    # The statement ran once and only once.
    assert client.query("demo", "SELECT COUNT(*) AS n FROM t", read_only=True)[0].results == [
        {"n": 1}
    ]
    emu.faults.add("list", "drop")
    assert len(client.list_databases()) == 1  # safe: retried


def test_a_read_timeout_is_not_retried_for_writes_but_is_for_reads(
    emu: Emulator, rec: Recorder
) -> None:
    with make_client(emu, timeout=0.3, sleep=rec.sleep) as client:
        emu.faults.add("query", "latency", delay=0.6)
        with pytest.raises(NetworkError, match="read timeout"):
            client.query("demo", "SELECT 1")
        assert ops(emu, "query") == 1
        emu.faults.add("get", "latency", delay=0.6)
        assert client.get_database("demo").name == "demo"
        assert ops(emu, "get") == 2


def test_connection_refused_is_retried_even_for_writes(rec: Recorder) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/client/v4"
    policy = RetryPolicy(max_attempts=3, base=0.01, cap=0.02)
    client = D1Client("a" * 32, Secret("t"), base_url=url, retry=policy, sleep=rec.sleep)
    with client, pytest.raises(NetworkError, match="could not connect"):
        client.query("db", "INSERT INTO t VALUES (1)")
    assert len(rec.waits) == 2


def test_ingest_is_never_retried(emu: Emulator, client: D1Client, tmp_path: Path) -> None:
    prepared = write_sql(tmp_path / "a.sql")
    init = client.import_init("demo", prepared.md5)
    assert init.upload_url and init.filename
    client.upload(init.upload_url, prepared.path, prepared.md5)
    emu.faults.add("ingest", "status", status=503)
    with pytest.raises(ServerError):
        client.import_ingest("demo", prepared.md5, init.filename)
    assert ops(emu, "ingest") == 1


def test_init_and_poll_are_retried(
    emu: Emulator, client: D1Client, tmp_path: Path, rec: Recorder
) -> None:
    prepared = write_sql(tmp_path / "a.sql")
    emu.faults.add("init", "drop")
    emu.faults.add("poll", "status", status=502)
    init = client.import_init("demo", prepared.md5)
    assert init.upload_url and ops(emu, "init") == 2
    assert client.import_poll("demo", "00000000-00000000-00000000-0").not_importing
    assert ops(emu, "poll") == 2 and [n.operation for n in rec.notices] == ["init", "poll"]


@pytest.mark.parametrize(
    ("kind", "text"),
    [("wrong_etag", WRONG_CONTENTS), ("no_etag", NO_ETAG)],
)
def test_upload_etag_problems_have_distinct_messages(
    emu: Emulator, client: D1Client, tmp_path: Path, kind: str, text: str
) -> None:
    prepared = write_sql(tmp_path / "a.sql")
    url = client.import_init("demo", prepared.md5).upload_url
    assert url
    emu.faults.add("upload", kind)
    with pytest.raises(UploadError) as caught:
        client.upload(url, prepared.path, prepared.md5)
    assert caught.value.detail == text


def test_upload_refused_keeps_the_status_and_body(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    prepared = write_sql(tmp_path / "a.sql")
    url = client.import_init("demo", prepared.md5).upload_url
    assert url
    emu.faults.add("upload", "status", status=503, message="Reduce your request rate.")
    with pytest.raises(UploadError) as caught:
        client.upload(url, prepared.path, prepared.md5)
    assert caught.value.http_status == 503
    assert caught.value.detail.startswith(NOT_UPLOADED + "\nGot response: ")
    assert "Reduce your request rate." in caught.value.detail
    with pytest.raises(UploadError) as caught:
        client.upload(url + "tampered", prepared.path, prepared.md5)
    assert caught.value.http_status == 403  # the signature no longer matches


def test_upload_dropped_mid_body_is_a_network_error(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    prepared = write_sql(tmp_path / "a.sql", rows=20_000, per_statement=100)
    url = client.import_init("demo", prepared.md5).upload_url
    assert url
    emu.faults.add("upload", "drop", after_bytes=300_000)
    with pytest.raises(NetworkError):
        client.upload(url, prepared.path, prepared.md5)


def test_upload_can_be_cancelled_between_chunks(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    prepared = write_sql(tmp_path / "a.sql", rows=40_000, per_statement=200)
    assert prepared.size > 3 * 256 * 1024
    url = client.import_init("demo", prepared.md5).upload_url
    assert url
    sent: list[int] = []
    with pytest.raises(ImportCancelledError):
        client.upload(
            url,
            prepared.path,
            prepared.md5,
            on_progress=lambda s, _t: sent.append(s),
            should_cancel=lambda: len(sent) >= 2,
        )
    assert sent == [256 * 1024, 512 * 1024]
    assert client.import_init("demo", prepared.md5).upload_url  # nothing was stored


def test_a_file_that_shrinks_during_upload_is_stopped_at_once(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    prepared = write_sql(tmp_path / "a.sql", rows=40_000, per_statement=200)
    url = client.import_init("demo", prepared.md5).upload_url
    assert url

    def shrink(sent: int, _total: int) -> None:
        with prepared.path.open("r+b") as f:
            f.truncate(300_000)

    with pytest.raises(UploadError, match="became shorter while it was uploaded"):
        client.upload(url, prepared.path, prepared.md5, on_progress=shrink)
