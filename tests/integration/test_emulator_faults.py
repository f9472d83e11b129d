"""Injected faults in the emulator: each kind fires as planned, `times` times, then disappears."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from d1tui.emulator import Emulator

# One shared client for unauthenticated calls (uploads, wrong tokens); plain HTTP, no CA loading.
PLAIN = httpx.Client(timeout=10, verify=False)

NOT_IMPORTING = {"success": False, "error": "Not currently importing anything."}


class Api:
    """Plain httpx access to one database of an emulator."""

    def __init__(self, emu: Emulator, db: str) -> None:
        self.emu = emu
        self.http = httpx.Client(
            base_url=emu.base_url,
            headers={"Authorization": f"Bearer {emu.token}"},
            timeout=10,
            verify=False,  # plain HTTP: skip loading CA certificates (slow)
        )
        self.path = f"/accounts/{emu.account_id}/d1/database/{db}"

    def query(self, sql: str) -> httpx.Response:
        return self.http.post(self.path + "/query", json={"sql": sql})

    def imp(self, **body: Any) -> httpx.Response:
        return self.http.post(self.path + "/import", json=body)


@pytest.fixture
def emu(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(tmp_path / "emu", hold_seconds=0.05) as emulator:
        yield emulator


@pytest.fixture
def api(emu: Emulator) -> Iterator[Api]:
    client = Api(emu, str(emu.create_database("f")["uuid"]))
    client.query("CREATE TABLE t (v)")
    yield client
    client.http.close()


def count_rows(emu: Emulator) -> int:
    conn = sqlite3.connect(emu.database_file("f"))
    try:
        return int(conn.execute("SELECT count(*) FROM t").fetchone()[0])
    finally:
        conn.close()


def test_latency_delays_the_answer(api: Api) -> None:
    api.emu.faults.add("query", "latency", delay=0.3)
    started = time.monotonic()
    assert api.query("SELECT 1").status_code == 200
    assert time.monotonic() - started >= 0.3
    assert api.emu.faults.pending() == []


def test_429_carries_code_971_and_retry_after_then_clears(api: Api) -> None:
    api.emu.faults.add("query", "status", status=429, retry_after=7, times=2)
    for _ in range(2):
        limited = api.query("INSERT INTO t VALUES (1)")
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
        assert limited.json()["errors"] == [
            {"code": 971, "message": "Please wait and consider throttling your request speed"}
        ]
    assert count_rows(api.emu) == 0  # refused requests did nothing
    assert api.query("INSERT INTO t VALUES (1)").status_code == 200
    assert count_rows(api.emu) == 1


def test_5xx_and_custom_status_faults(api: Api) -> None:
    api.emu.faults.add("list", "status", status=503)
    listing = api.http.get(f"/accounts/{api.emu.account_id}/d1/database")
    assert listing.status_code == 503 and listing.json()["errors"][0]["code"] == 10001
    assert listing.json()["success"] is False
    api.emu.faults.add("*", "status", status=418, code=4242, message="teapot")
    custom = api.http.get("/user/tokens/verify")
    assert custom.status_code == 418
    assert custom.json()["errors"] == [{"code": 4242, "message": "teapot"}]
    assert api.http.get("/user/tokens/verify").status_code == 200


def test_faults_only_hit_their_op(api: Api) -> None:
    api.emu.faults.add("raw", "status", status=500)
    assert api.query("SELECT 1").status_code == 200
    raw = api.http.post(api.path + "/raw", json={"sql": "SELECT 1"})
    assert raw.status_code == 500


def test_drop_loses_the_answer_but_the_work_is_done(api: Api) -> None:
    api.emu.faults.add("query", "drop")
    with pytest.raises(httpx.TransportError):
        api.query("INSERT INTO t VALUES ('dropped')")
    assert count_rows(api.emu) == 1
    assert api.query("SELECT 1").status_code == 200


def upload_and_ingest(api: Api, data: bytes) -> httpx.Response:
    etag = hashlib.md5(data).hexdigest()
    init = api.imp(action="init", etag=etag).json()["result"]
    assert PLAIN.put(init["upload_url"], content=data).status_code == 200
    return api.imp(action="ingest", etag=etag, filename=init["filename"])


def test_dropped_ingest_still_imports(api: Api) -> None:
    api.emu.faults.add("ingest", "drop")
    with pytest.raises(httpx.TransportError):
        upload_and_ingest(api, b"INSERT INTO t VALUES (1);\n")
    deadline = time.monotonic() + 5
    while api.query("SELECT 1").status_code != 200 or count_rows(api.emu) != 1:
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_upload_drop_after_some_bytes_stores_nothing(api: Api) -> None:
    data = b"INSERT INTO t VALUES (1);\n" * 1000
    etag = hashlib.md5(data).hexdigest()
    init = api.imp(action="init", etag=etag).json()["result"]
    api.emu.faults.add("upload", "drop", after_bytes=4096)
    with pytest.raises(httpx.TransportError):
        PLAIN.put(init["upload_url"], content=data)
    assert not (api.emu.data_dir / "uploads" / init["filename"]).exists()
    assert "upload_url" in api.imp(action="init", etag=etag).json()["result"]
    assert PLAIN.put(init["upload_url"], content=data).headers["ETag"] == f'"{etag}"'


@pytest.mark.parametrize("kind", ["wrong_etag", "no_etag"])
def test_etag_faults(api: Api, kind: str) -> None:
    data = b"INSERT INTO t VALUES (1);\n"
    etag = hashlib.md5(data).hexdigest()
    init = api.imp(action="init", etag=etag).json()["result"]
    api.emu.faults.add("upload", kind)
    put = PLAIN.put(init["upload_url"], content=data)
    assert put.status_code == 200
    if kind == "no_etag":
        assert "ETag" not in put.headers
    else:
        assert put.headers["ETag"].strip('"') != etag and len(put.headers["ETag"]) == 34
    assert PLAIN.put(init["upload_url"], content=data).headers["ETag"] == f'"{etag}"'


def test_upload_status_fault_is_an_s3_error(api: Api) -> None:
    data = b"SELECT 1;"
    init = api.imp(action="init", etag=hashlib.md5(data).hexdigest()).json()["result"]
    api.emu.faults.add("upload", "status", status=503)
    put = PLAIN.put(init["upload_url"], content=data)
    assert put.status_code == 503 and b"<Code>SlowDown</Code>" in put.content


def test_not_importing_on_ingest_then_the_real_outcome(tmp_path: Path) -> None:
    with Emulator(tmp_path, hold_seconds=0.05, statements_per_step=1, step_seconds=0.05) as emu:
        api = Api(emu, str(emu.create_database("f")["uuid"]))
        api.query("CREATE TABLE t (v)")
        emu.faults.add("ingest", "not_importing")
        spurious = upload_and_ingest(api, b"INSERT INTO t VALUES (1);\n" * 3)
        assert spurious.json()["result"] == NOT_IMPORTING
        assert count_rows_when_free(api) == 3


def count_rows_when_free(api: Api) -> int:
    deadline = time.monotonic() + 5
    while (response := api.query("SELECT count(*) AS n FROM t")).status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return int(response.json()["result"][0]["results"][0]["n"])


def test_not_importing_poll_fault_then_final_answer(tmp_path: Path) -> None:
    with Emulator(tmp_path, hold_seconds=0.05, statements_per_step=1, step_seconds=0.1) as emu:
        api = Api(emu, str(emu.create_database("f")["uuid"]))
        api.query("CREATE TABLE t (v)")
        first = upload_and_ingest(api, b"INSERT INTO t VALUES (1);\n" * 3).json()["result"]
        assert first["status"] == "active"
        emu.faults.add("poll", "not_importing")
        bookmark = first["at_bookmark"]
        assert api.imp(action="poll", current_bookmark=bookmark).json()["result"] == NOT_IMPORTING
        answers = [api.imp(action="poll", current_bookmark=bookmark).json()["result"]]
        while answers[-1]["status"] == "active":
            answers.append(api.imp(action="poll", current_bookmark=bookmark).json()["result"])
        assert answers[-1]["status"] == "complete" and answers[-1]["result"]["num_queries"] == 3


def test_fault_plan_validation(tmp_path: Path) -> None:
    emu = Emulator(tmp_path)
    with pytest.raises(ValueError):
        emu.faults.add("nope", "drop")
    with pytest.raises(ValueError):
        emu.faults.add("query", "explode")
    with pytest.raises(ValueError):
        emu.faults.add("query", "status")
    emu.faults.add("query", "drop", times=3)
    assert len(emu.faults.pending()) == 1
    emu.faults.clear()
    assert emu.faults.pending() == []


def test_requests_are_logged_with_their_op(api: Api) -> None:
    api.query("SELECT 1")
    api.imp(action="poll", current_bookmark="x")
    api.http.get("/no/such/path")
    ops = [(method, op) for method, op, _ in api.emu.requests]
    assert ("POST", "query") in ops and ("POST", "poll") in ops and ("GET", "unknown") in ops
