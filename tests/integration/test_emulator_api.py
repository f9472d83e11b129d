"""The emulator's v4 API over real HTTP: envelope, auth, databases, /query and /raw, persistence."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from d1tui.emulator import Emulator, StoreError, UnknownDatabaseError

# One shared client for unauthenticated calls (uploads, wrong tokens); plain HTTP, no CA loading.
PLAIN = httpx.Client(timeout=10, verify=False)


class Api:
    """A bare httpx view of one emulator (deliberately not the project's client)."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.http = httpx.Client(
            base_url=emu.base_url,
            headers={"Authorization": f"Bearer {emu.token}"},
            timeout=10,
            verify=False,  # plain HTTP: skip loading CA certificates (slow)
        )

    def dbs(self, tail: str = "") -> str:
        return f"/accounts/{self.emu.account_id}/d1/database{tail}"

    def query(self, db: str, sql: str, params: list[Any] | None = None, *, raw: bool = False):
        body: dict[str, Any] = {"sql": sql}
        if params is not None:
            body["params"] = params
        return self.http.post(self.dbs(f"/{db}/{'raw' if raw else 'query'}"), json=body)


@pytest.fixture
def emu(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(tmp_path / "emu", hold_seconds=0.05) as emulator:
        yield emulator


@pytest.fixture
def api(emu: Emulator) -> Iterator[Api]:
    client = Api(emu)
    yield client
    client.http.close()


@pytest.fixture
def db(emu: Emulator) -> str:
    return str(emu.create_database("demo")["uuid"])


def assert_envelope(body: dict[str, Any], *, success: bool) -> None:
    assert set(body) >= {"success", "errors", "messages", "result"}
    assert body["success"] is success
    assert isinstance(body["errors"], list) and isinstance(body["messages"], list)
    assert bool(body["errors"]) is not success


def error_of(response: httpx.Response) -> tuple[int, int, str]:
    body = response.json()
    assert_envelope(body, success=False)
    return response.status_code, body["errors"][0]["code"], body["errors"][0]["message"]


# ---- envelope and routing --------------------------------------------------------------------
def test_unknown_path_is_a_404_envelope(api: Api) -> None:
    assert error_of(api.http.get("/nope")) == (404, 7000, "No route for that URI")
    outside = PLAIN.get(api.emu.base_url.replace("/client/v4", "/elsewhere"))
    assert outside.status_code == 404 and outside.json()["errors"][0]["code"] == 7000


def test_wrong_method_is_a_405_envelope(api: Api, db: str) -> None:
    status, code, _ = error_of(api.http.put(api.dbs(f"/{db}/query"), json={"sql": "select 1"}))
    assert (status, code) == (405, 7001)


@pytest.mark.parametrize(
    "content", [b"{not json", b"", b"[1, 2]", b'"text"', b"\xff\xfe", b"{" * 5000]
)
def test_bad_json_body_is_a_clear_400(api: Api, db: str, content: bytes) -> None:
    response = api.http.post(
        api.dbs(f"/{db}/query"), content=content, headers={"Content-Type": "application/json"}
    )
    status, code, message = error_of(response)
    assert (status, code) == (400, 7400)
    assert "JSON" in message


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"sql": 5},
        {"sql": "select ?", "params": {"a": 1}},
        {"sql": "select ?", "params": [[1]]},
        {"batch": []},
        {"batch": ["select 1"]},
    ],
)
def test_malformed_query_bodies_are_refused_not_crashed(api: Api, db: str, body: Any) -> None:
    status, code, _ = error_of(api.http.post(api.dbs(f"/{db}/query"), json=body))
    assert (status, code) == (400, 7400)


# ---- auth --------------------------------------------------------------------------------------
def test_token_verify_user_and_account_variants(api: Api) -> None:
    for path in ("/user/tokens/verify", f"/accounts/{api.emu.account_id}/tokens/verify"):
        body = api.http.get(path).json()
        assert_envelope(body, success=True)
        assert body["result"]["status"] == "active" and body["result"]["id"]
        assert body["messages"] == [
            {"code": 10000, "message": "This API Token is valid and active", "type": None}
        ]
        assert api.emu.token not in str(body)


def test_token_verify_refuses_missing_and_wrong_tokens(emu: Emulator) -> None:
    url = emu.base_url + "/user/tokens/verify"
    assert error_of(PLAIN.get(url)) == (401, 1000, "Invalid API Token")
    wrong = PLAIN.get(url, headers={"Authorization": "Bearer nope"})
    assert error_of(wrong) == (401, 1000, "Invalid API Token")


def test_expired_token_is_reported_by_verify_and_refused_by_d1(api: Api, db: str) -> None:
    api.emu.token_status = "expired"
    assert api.http.get("/user/tokens/verify").json()["result"]["status"] == "expired"
    assert error_of(api.http.get(api.dbs())) == (403, 10000, "Authentication error")
    assert error_of(api.query(db, "select 1"))[:2] == (403, 10000)


def test_d1_auth_failures(emu: Emulator, api: Api, db: str) -> None:
    url = emu.base_url + api.dbs()
    assert error_of(PLAIN.get(url)) == (401, 10000, "Authentication error")
    wrong = PLAIN.get(url, headers={"Authorization": "Bearer " + emu.token + "x"})
    assert error_of(wrong) == (403, 10000, "Authentication error")
    other = api.http.get(f"/accounts/{'0' * 32}/d1/database/{db}")
    assert error_of(other) == (
        403,
        7403,
        "The given account is not valid or is not authorized to access this service",
    )
    assert ("GET", "get", f"/client/v4/accounts/{'0' * 32}/d1/database/{db}") in emu.requests


# ---- databases -----------------------------------------------------------------------------------
def test_create_get_list_delete(api: Api) -> None:
    created = api.http.post(api.dbs(), json={"name": "alpha", "primary_location_hint": "enam"})
    assert_envelope(created.json(), success=True)
    info = created.json()["result"]
    assert set(info) >= {"uuid", "name", "created_at", "version"} and info["name"] == "alpha"
    by_name = api.http.get(api.dbs("/alpha")).json()["result"]
    by_uuid = api.http.get(api.dbs(f"/{info['uuid']}")).json()["result"]
    assert by_name == by_uuid
    assert by_uuid["running_in_region"] == "ENAM" and by_uuid["version"] == "production"
    assert by_uuid["num_tables"] == 0 and by_uuid["file_size"] > 0
    fields = api.http.get(api.dbs("/alpha"), params={"fields": "uuid,name"}).json()["result"]
    assert fields == {"uuid": info["uuid"], "name": "alpha"}
    dup = api.http.post(api.dbs(), json={"name": "alpha"})
    assert error_of(dup) == (400, 7502, "A database with that name already exists.")
    assert api.http.delete(api.dbs(f"/{info['uuid']}")).json()["success"] is True
    assert error_of(api.http.get(api.dbs("/alpha"))) == (
        404,
        7404,
        "The database alpha could not be found",
    )
    assert not api.emu.data_dir.joinpath("databases", f"{info['uuid']}.sqlite3").exists()


def test_create_validates_its_body(api: Api) -> None:
    for body in ({}, {"name": ""}, {"name": 3}, {"name": "x", "primary_location_hint": "mars"}):
        assert error_of(api.http.post(api.dbs(), json=body))[:2] == (400, 7400)


def test_list_paginates_and_filters_by_name(api: Api) -> None:
    for name in ("apple", "apricot", "banana", "grape", "pineapple"):
        api.emu.create_database(name)
    page1 = api.http.get(api.dbs(), params={"per_page": 2, "page": 1}).json()
    assert [d["name"] for d in page1["result"]] == ["apple", "apricot"]
    assert page1["result_info"] == {"page": 1, "per_page": 2, "count": 2, "total_count": 5}
    page3 = api.http.get(api.dbs(), params={"per_page": 2, "page": 3}).json()
    assert [d["name"] for d in page3["result"]] == ["pineapple"]
    assert api.http.get(api.dbs(), params={"per_page": 2, "page": 4}).json()["result"] == []
    apples = api.http.get(api.dbs(), params={"name": "APPLE"}).json()
    assert sorted(d["name"] for d in apples["result"]) == ["apple", "pineapple"]
    assert error_of(api.http.get(api.dbs(), params={"page": "zero"}))[:2] == (400, 7400)


def test_unknown_database_is_7404_everywhere(api: Api) -> None:
    for response in (
        api.http.get(api.dbs("/missing")),
        api.query("missing", "select 1"),
        api.http.post(api.dbs("/missing/import"), json={"action": "init", "etag": "0" * 32}),
        api.http.delete(api.dbs("/missing")),
    ):
        assert error_of(response) == (404, 7404, "The database missing could not be found")


# ---- query and raw ------------------------------------------------------------------------
def test_query_runs_several_statements_with_params_and_meta(api: Api, db: str) -> None:
    api.query(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB)")
    response = api.query(
        db, "INSERT INTO t (name, score, data) VALUES (?, ?, x'0102')", ["a;b", 1.5]
    )
    assert response.status_code == 200
    insert = response.json()["result"][0]
    assert insert["success"] is True
    meta = insert["meta"]
    assert meta["changes"] == 1 and meta["last_row_id"] == 1 and meta["changed_db"] is True
    assert meta["rows_written"] == 1 and meta["size_after"] > 0
    assert meta["served_by_region"] == "WEUR" and meta["served_by_primary"] is True
    assert isinstance(meta["timings"]["sql_duration_ms"], float)
    both = api.query(db, "SELECT name FROM t; SELECT count(*) AS n, 'x;y' AS s FROM t;").json()
    assert [r["results"] for r in both["result"]] == [[{"name": "a;b"}], [{"n": 1, "s": "x;y"}]]
    raw = api.query(db, "SELECT id, name, score, data FROM t", raw=True).json()["result"][0]
    assert raw["results"] == {
        "columns": ["id", "name", "score", "data"],
        "rows": [[1, "a;b", 1.5, [1, 2]]],
    }


def test_batch_form_runs_each_item(api: Api, db: str) -> None:
    body = {
        "batch": [
            {"sql": "CREATE TABLE b (v)"},
            {"sql": "INSERT INTO b VALUES (?)", "params": [True]},
            {"sql": "SELECT v FROM b"},
        ]
    }
    result = api.http.post(api.dbs(f"/{db}/query"), json=body).json()["result"]
    assert len(result) == 3 and result[2]["results"] == [{"v": 1}]


def test_sql_errors_use_primary_code_names_and_roll_back_the_request(api: Api, db: str) -> None:
    api.query(db, "CREATE TABLE t (id INTEGER PRIMARY KEY)")
    api.query(db, "INSERT INTO t VALUES (1)")
    failed = api.query(db, "INSERT INTO t VALUES (2); INSERT INTO t VALUES (1)")
    assert error_of(failed) == (400, 7500, "UNIQUE constraint failed: t.id: SQLITE_CONSTRAINT")
    assert failed.json()["result"] == []
    rows = sqlite3.connect(api.emu.database_file(db)).execute("SELECT id FROM t").fetchall()
    assert rows == [(1,)]
    assert error_of(api.query(db, "SELECT * FROM nope")) == (
        400,
        7500,
        "no such table: nope: SQLITE_ERROR",
    )
    assert error_of(api.query(db, "CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT 1;"))[2] == (
        "incomplete input: SQLITE_ERROR"
    )


def test_statement_length_limit(api: Api, db: str) -> None:
    api.query(db, "CREATE TABLE t (v TEXT)")
    prefix = "INSERT INTO t VALUES ('"
    at_limit = prefix + "x" * (100_000 - len(prefix) - 3) + "');"
    assert len(at_limit.encode()) == 100_000
    assert api.query(db, at_limit).status_code == 200
    too_long = prefix + "é" * 50_000 + "')"
    assert error_of(api.query(db, too_long)) == (400, 7500, "statement too long: SQLITE_TOOBIG")


def test_d1_limits_on_variables_and_columns(api: Api, db: str) -> None:
    select = "SELECT " + ", ".join("?" for _ in range(101))
    assert error_of(api.query(db, select, list(range(101))))[2] == (
        "too many SQL variables: SQLITE_ERROR"
    )
    assert api.query(db, select[:-3], list(range(100))).status_code == 200
    wide = "CREATE TABLE wide (" + ", ".join(f"c{i}" for i in range(101)) + ")"
    assert error_of(api.query(db, wide))[2] == "too many columns on wide: SQLITE_ERROR"


def test_reserved_tables_and_pragmas_are_refused(api: Api, db: str) -> None:
    api.query(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    refused = [
        "INSERT INTO _cf_KV VALUES ('k', 'v')",
        "SELECT * FROM _cf_KV",
        "CREATE TABLE _cf_mine (x)",
        "DROP TABLE _cf_KV",
        "PRAGMA journal_mode = WAL",
        "PRAGMA writable_schema = 1",
        "ATTACH DATABASE ':memory:' AS other",
        "COMMIT",
        "SAVEPOINT s1",
    ]
    for sql in refused:
        assert error_of(api.query(db, sql)) == (400, 7500, "not authorized: SQLITE_AUTH"), sql
    began = api.query(db, "BEGIN TRANSACTION")
    assert error_of(began)[2] == "cannot start a transaction within a transaction: SQLITE_ERROR"
    info = api.query(db, "PRAGMA table_info(t)").json()["result"][0]["results"]
    assert [c["name"] for c in info] == ["id", "v"]
    assert api.query(db, "PRAGMA defer_foreign_keys = true").status_code == 200
    assert api.query(db, "PRAGMA optimize").status_code == 200


def test_foreign_keys_are_enforced_like_d1(api: Api, db: str) -> None:
    api.query(
        db, "CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE c (p INTEGER REFERENCES p)"
    )
    assert error_of(api.query(db, "INSERT INTO c VALUES (9)"))[2] == (
        "FOREIGN KEY constraint failed: SQLITE_CONSTRAINT"
    )


def test_data_survives_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "persist"
    with Emulator(data_dir, token="t0ken", account_id="a" * 32) as first:
        uuid = first.create_database("keep")["uuid"]
        Api(first).query(uuid, "CREATE TABLE k (v); INSERT INTO k VALUES ('kept')")
    with Emulator(data_dir, token="t0ken", account_id="a" * 32) as second:
        api = Api(second)
        info = api.http.get(api.dbs("/keep")).json()["result"]
        assert info["uuid"] == uuid and info["num_tables"] == 1
        assert api.query(uuid, "SELECT v FROM k").json()["result"][0]["results"] == [{"v": "kept"}]
        assert second.database_file("keep") == data_dir / "databases" / f"{uuid}.sqlite3"


def test_emulator_repr_and_requests_never_show_the_token(api: Api, db: str) -> None:
    api.query(db, "SELECT 1")
    assert api.emu.token not in repr(api.emu) and api.emu.token not in str(api.emu.requests)
    assert (
        "POST",
        "query",
        f"/client/v4/accounts/{api.emu.account_id}/d1/database/{db}/query",
    ) in (api.emu.requests)


# ---- robustness and the foreground runner --------------------------------------------------
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(["/query", "/raw", "/import", "", "/x"]),
    body=st.one_of(
        st.binary(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(
                    st.sampled_from(
                        ["sql", "params", "batch", "action", "etag", "current_bookmark"]
                    ),
                    inner,
                    max_size=4,
                )
            ),
            max_leaves=12,
        ).map(lambda v: json.dumps(v).encode()),
    ),
)
def test_fuzzed_bodies_always_get_an_envelope(api: Api, db: str, path: str, body: bytes) -> None:
    response = api.http.post(
        api.dbs(f"/{db}{path}"), content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code < 500
    envelope = response.json()
    assert set(envelope) >= {"success", "errors", "messages", "result"}


def test_other_methods_are_refused_cleanly(api: Api, db: str) -> None:
    assert api.http.request("OPTIONS", api.dbs()).json()["errors"][0]["code"] == 7001
    assert api.http.head(api.dbs()).status_code == 405
    assert api.http.get("/user/tokens/verify").status_code == 200


def test_serve_prints_how_to_connect_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from d1tui.emulator import serve\n"
        "serve('127.0.0.1', 0, Path(sys.argv[1]), 'tok-for-serve', 'b' * 32)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path / "served")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(4)]
        base_url = lines[1].split()[-1]
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/client/v4")
        assert "b" * 32 in lines[2] and "tok-for-serve" in lines[3]
        verify = PLAIN.get(
            base_url + "/user/tokens/verify", headers={"Authorization": "Bearer tok-for-serve"}
        )
        assert verify.json()["result"]["status"] == "active"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
        assert proc.returncode == 0 and "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _raw(emu: Emulator, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", emu.port), timeout=5) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GARBAGE / HTTP/1.1\r\n\r\n",
        b"GET /client/v4/user/tokens/verify HTTP/1.1\r\nAuthorization: Bearer \xff\xfe\r\n\r\n",
        b"POST /client/v4/x HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        b"POST /client/v4/x HTTP/1.1\r\nContent-Length: \xb2\r\n\r\n",
        b"POST /client/v4/x HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n",
        b"POST /client/v4/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"POST /client/v4/%ff%fe/%00 HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
        b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n",
    ],
)
def test_malformed_http_gets_a_json_refusal(api: Api, request_bytes: bytes) -> None:
    reply = _raw(api.emu, request_bytes)
    status_line, _, rest = reply.partition(b"\r\n")
    status = int(status_line.split()[1])
    assert 400 <= status < 500 or status == 501  # 501: a method nobody serves
    body = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert body["success"] is False and body["errors"][0]["message"]
    assert api.http.get("/user/tokens/verify").status_code == 200


def test_in_process_helpers(emu: Emulator) -> None:
    info = emu.create_database("helper")
    assert set(info) == {"uuid", "name", "created_at", "version"}
    assert emu.database_file(info["uuid"]) == emu.database_file("helper")
    assert emu.database_file("helper").exists()
    with pytest.raises(StoreError, match="already exists"):
        emu.create_database("helper")
    emu.delete_database("helper")
    with pytest.raises(LookupError):
        emu.database_file("helper")
    with pytest.raises(UnknownDatabaseError):
        emu.delete_database("helper")
    with pytest.raises(ValueError):
        emu.token_status = "sleepy"
