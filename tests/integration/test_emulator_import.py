"""The emulator's import API over real HTTP: init → PUT → ingest → poll, rollback, exclusivity."""

from __future__ import annotations

import hashlib
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from d1tui.emulator import Emulator
from d1tui.emulator.splitter import iter_statements, split_sql

# One shared client for unauthenticated calls (uploads, wrong tokens); plain HTTP, no CA loading.
PLAIN = httpx.Client(timeout=10, verify=False)

BOOKMARK = re.compile(r"[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}")
NOT_IMPORTING = {"success": False, "error": "Not currently importing anything."}
BUSY = (
    "Currently processing a long-running import. "
    "Cannot start another import until that completes or times out."
)


class Importer:
    """Drives the import protocol with plain httpx (independent of the project's client)."""

    def __init__(self, emu: Emulator, db: str) -> None:
        self.emu = emu
        self.db = db
        self.http = httpx.Client(
            base_url=emu.base_url,
            headers={"Authorization": f"Bearer {emu.token}"},
            timeout=10,
            verify=False,  # plain HTTP: skip loading CA certificates (slow)
        )
        self.path = f"/accounts/{emu.account_id}/d1/database/{db}"

    def call(self, **body: Any) -> httpx.Response:
        return self.http.post(self.path + "/import", json=body)

    def result(self, **body: Any) -> dict[str, Any]:
        response = self.call(**body)
        envelope = response.json()
        assert envelope["success"] is True, envelope
        return dict(envelope["result"])

    def query(self, sql: str) -> httpx.Response:
        return self.http.post(self.path + "/query", json={"sql": sql})

    def start(self, data: bytes) -> dict[str, Any]:
        """init, upload if asked, ingest; return the first polling answer."""
        etag = hashlib.md5(data).hexdigest()
        init = self.result(action="init", etag=etag)
        if "upload_url" not in init:
            return init
        put = PLAIN.put(init["upload_url"], content=data)
        assert put.status_code == 200 and put.headers["ETag"] == f'"{etag}"'
        return self.result(action="ingest", etag=etag, filename=init["filename"])

    def poll(self, bookmark: str) -> dict[str, Any]:
        return self.result(action="poll", current_bookmark=bookmark)

    def run(self, data: bytes) -> list[dict[str, Any]]:
        """The whole import; every polling answer in order (the last one is final)."""
        answers = [self.start(data)]
        while answers[-1].get("status") == "active":
            answers.append(self.poll(answers[-1]["at_bookmark"]))
            assert len(answers) < 500
        return answers


def rows(emu: Emulator, db: str, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(emu.database_file(db))
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def wait_until_queryable(imp: Importer, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while imp.query("SELECT 1").status_code != 200:
        assert time.monotonic() < deadline, "database never became available again"
        time.sleep(0.02)


@pytest.fixture
def emu(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(tmp_path / "emu", hold_seconds=0.05, no_poll_timeout=5.0) as emulator:
        yield emulator


@pytest.fixture
def imp(emu: Emulator) -> Iterator[Importer]:
    db = str(emu.create_database("demo")["uuid"])
    importer = Importer(emu, db)
    importer.query("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    importer.query("INSERT INTO t VALUES (1, 'before')")
    yield importer
    importer.http.close()


def inserts(first: int, count: int) -> bytes:
    return b"".join(
        b"INSERT INTO t VALUES (%d, 'r%d');\n" % (i, i) for i in range(first, first + count)
    )


# ---- the happy paths ----------------------------------------------------------------------------
def test_fresh_upload_imports_into_the_sqlite_file(imp: Importer) -> None:
    data = b"CREATE TABLE n (x TEXT);\nINSERT INTO n VALUES ('it''s; fine');\n" + inserts(2, 3)
    answers = imp.run(data)
    final = answers[-1]
    assert final["status"] == "complete" and final["success"] is True and final["type"] == "import"
    assert BOOKMARK.fullmatch(final["at_bookmark"])
    assert BOOKMARK.fullmatch(final["result"]["final_bookmark"])
    assert final["result"]["final_bookmark"] > final["at_bookmark"]
    assert final["result"]["num_queries"] == 5
    assert rows(imp.emu, imp.db, "SELECT x FROM n") == [("it's; fine",)]
    assert rows(imp.emu, imp.db, "SELECT count(*) FROM t") == [(4,)]
    logs = [m for a in answers for m in a["messages"]]
    assert logs[0] == "Starting import..." and logs[-1] == "Processed 5 queries."
    ops = [op for _, op, _ in imp.emu.requests if op in ("init", "upload", "ingest", "poll")]
    assert ops[:3] == ["init", "upload", "ingest"]


def test_section_11_fields_are_always_there(tmp_path: Path) -> None:
    with Emulator(tmp_path, hold_seconds=0.01, statements_per_step=1, step_seconds=0.05) as emu:
        imp = Importer(emu, str(emu.create_database("x")["uuid"]))
        answers = imp.run(b"CREATE TABLE s (v);\nINSERT INTO s VALUES (1);\nSELECT * FROM s;\n")
    assert any(a["status"] == "active" for a in answers)
    for answer in answers:
        assert isinstance(answer["messages"], list)
        assert answer["type"] == "import" and answer["success"] is True
        assert BOOKMARK.fullmatch(answer["at_bookmark"])
    result = answers[-1]["result"]
    assert result["num_queries"] == 3 and BOOKMARK.fullmatch(result["final_bookmark"])
    meta = result["meta"]
    assert isinstance(meta["duration"], float | int) and not isinstance(meta["duration"], bool)
    assert meta["rows_written"] >= 1 and meta["rows_read"] >= 1 and meta["size_after"] > 0
    for key in ("changes", "changed_db", "last_row_id", "served_by", "served_by_primary"):
        assert key in meta
    assert meta["served_by_region"] == "WEUR" and "sql_duration_ms" in meta["timings"]


def test_the_answer_to_an_active_import_is_http_202(tmp_path: Path) -> None:
    with Emulator(tmp_path, hold_seconds=0.01, statements_per_step=1, step_seconds=0.2) as emu:
        imp = Importer(emu, str(emu.create_database("x")["uuid"]))
        data = b"CREATE TABLE s (v);\nINSERT INTO s VALUES (1);\n"
        etag = hashlib.md5(data).hexdigest()
        init = imp.result(action="init", etag=etag)
        PLAIN.put(init["upload_url"], content=data)
        response = imp.call(action="ingest", etag=etag, filename=init["filename"])
        assert response.status_code == 202 and response.json()["result"]["status"] == "active"
        answers = [response.json()["result"]]
        while answers[-1]["status"] == "active":
            answers.append(imp.poll(answers[-1]["at_bookmark"]))
        assert answers[-1]["status"] == "complete"


def test_already_uploaded_file_starts_at_init_and_runs_again(imp: Importer) -> None:
    imp.emu.upload_retention = 60.0  # as D1 keeps files a while (by default they go at once)
    data = b"INSERT INTO t (v) VALUES ('again');\n"
    assert imp.run(data)[-1]["status"] == "complete"
    uploads_before = sum(1 for _, op, _ in imp.emu.requests if op == "upload")
    second = imp.run(data)
    assert "upload_url" not in second[0] and second[0]["type"] == "import"
    assert second[-1]["status"] == "complete"
    assert sum(1 for _, op, _ in imp.emu.requests if op == "upload") == uploads_before
    assert rows(imp.emu, imp.db, "SELECT count(*) FROM t WHERE v = 'again'") == [(2,)]


def test_slow_ingest_spreads_over_polls_with_cumulative_counts(tmp_path: Path) -> None:
    with Emulator(tmp_path, hold_seconds=0.05, statements_per_step=2, step_seconds=0.15) as emu:
        imp = Importer(emu, str(emu.create_database("x")["uuid"]))
        imp.query("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        answers = imp.run(inserts(1, 8))
        assert rows(emu, imp.db, "SELECT count(*) FROM t") == [(8,)]
    assert len(answers) >= 3
    assert len({a["at_bookmark"] for a in answers}) == 1
    counts = [
        int(m.split()[1]) for a in answers for m in a["messages"] if m.startswith("Processed")
    ]
    assert counts == sorted(counts) and counts[-1] == 8 and len(counts) >= 3
    assert answers[-1]["result"]["num_queries"] == 8


def test_import_finishes_without_anyone_polling(tmp_path: Path) -> None:
    with Emulator(tmp_path, hold_seconds=0.01, statements_per_step=1, step_seconds=0.05) as emu:
        imp = Importer(emu, str(emu.create_database("x")["uuid"]))
        imp.query("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        first = imp.start(inserts(1, 4))
        assert first["status"] == "active"
        wait_until_queryable(imp)
        assert rows(emu, imp.db, "SELECT count(*) FROM t") == [(4,)]
        final = imp.poll(first["at_bookmark"])
        assert final["status"] == "complete" and final["result"]["num_queries"] == 4


def test_final_answer_is_delivered_once(imp: Importer) -> None:
    answers = imp.run(inserts(2, 2))
    assert answers[-1]["status"] == "complete"
    assert imp.poll(answers[-1]["at_bookmark"]) == NOT_IMPORTING
    assert imp.poll("00000001-00000000-00000000-" + "0" * 32) == NOT_IMPORTING


def test_trigger_bodies_and_comments_are_split_correctly(imp: Importer) -> None:
    data = (
        b"-- a dump; with semicolons in comments\n"
        b"CREATE TABLE log (msg TEXT);\n"
        b"/* block; comment */\n"
        b"CREATE TRIGGER tr AFTER INSERT ON t BEGIN\r\n"
        b"  INSERT INTO log VALUES (CASE WHEN NEW.v = 'x' THEN 'x;' ELSE 'other' END);\r\n"
        b"END;\n"
        b"INSERT INTO t VALUES (5, 'x');\n"
        b"INSERT INTO \"t\" (`id`, [v]) VALUES (6, 'y')"
    )
    final = imp.run(data)[-1]
    assert final["status"] == "complete", final
    assert final["result"]["num_queries"] == 4
    assert rows(imp.emu, imp.db, "SELECT msg FROM log ORDER BY rowid") == [("x;",), ("other",)]


# ---- failures roll everything back --------------------------------------------------------------
def test_sql_error_mid_file_rolls_back(imp: Importer) -> None:
    data = b"CREATE TABLE fresh (x);\n" + inserts(2, 3) + inserts(1, 1) + inserts(10, 2)
    final = imp.run(data)[-1]
    assert final["status"] == "error"
    assert final["error"] == "UNIQUE constraint failed: t.id: SQLITE_CONSTRAINT"
    assert final["errors"] == [final["error"]]
    assert rows(imp.emu, imp.db, "SELECT id, v FROM t") == [(1, "before")]
    assert rows(imp.emu, imp.db, "SELECT name FROM sqlite_master WHERE name = 'fresh'") == []
    assert imp.query("SELECT 1").status_code == 200


@pytest.mark.parametrize(
    ("statement", "error"),
    [
        (b"BEGIN TRANSACTION;", "cannot start a transaction within a transaction: SQLITE_ERROR"),
        (b"COMMIT;", "not authorized: SQLITE_AUTH"),
        (b"END TRANSACTION;", "not authorized: SQLITE_AUTH"),
        (b"ROLLBACK;", "not authorized: SQLITE_AUTH"),
        (b"SAVEPOINT a;", "not authorized: SQLITE_AUTH"),
        (b"CREATE TABLE _cf_KV2 (k);", "not authorized: SQLITE_AUTH"),
        (b"PRAGMA foreign_keys=OFF;\nPRAGMA synchronous = OFF;", "not authorized: SQLITE_AUTH"),
        (
            b"INSERT INTO t VALUES (9, '" + b"x" * 100_000 + b"');",
            "statement too long: SQLITE_TOOBIG",
        ),
        (b"INSERT INTO nowhere VALUES (1);", "no such table: nowhere: SQLITE_ERROR"),
        (b"CREATE TRIGGER z AFTER INSERT ON t BEGIN SELECT 1;", "incomplete input: SQLITE_ERROR"),
    ],
)
def test_d1_rules_refuse_and_roll_back(imp: Importer, statement: bytes, error: str) -> None:
    data = inserts(2, 2) + statement + b"\n" + inserts(4, 1)
    final = imp.run(data)[-1]
    assert (final["status"], final["error"]) == ("error", error)
    assert rows(imp.emu, imp.db, "SELECT id FROM t") == [(1,)]


def test_deferred_foreign_keys_fail_at_the_end_and_roll_back(imp: Importer) -> None:
    data = (
        b"PRAGMA defer_foreign_keys = true;\n"
        b"CREATE TABLE c (p INTEGER REFERENCES t(id));\n"
        b"INSERT INTO c VALUES (77);\n"
    )
    final = imp.run(data)[-1]
    assert final["error"] == "FOREIGN KEY constraint failed: SQLITE_CONSTRAINT"
    assert rows(imp.emu, imp.db, "SELECT name FROM sqlite_master WHERE name = 'c'") == []


@pytest.mark.parametrize(
    ("shape", "expected_keys"),
    [
        ("status_error+errors", {"error", "errors", "status", "messages", "at_bookmark"}),
        ("status_error", {"error", "status", "messages", "at_bookmark"}),
        ("status_errors", {"errors", "status", "messages", "at_bookmark"}),
        ("inner", {"error"}),
    ],
)
def test_failure_shapes(tmp_path: Path, shape: str, expected_keys: set[str]) -> None:
    with Emulator(tmp_path, hold_seconds=0.05, failure_shape=shape) as emu:
        imp = Importer(emu, str(emu.create_database("x")["uuid"]))
        final = imp.run(b"SELECT * FROM missing;")[-1]
    text = "no such table: missing: SQLITE_ERROR"
    assert set(final) - {"success", "type"} == expected_keys
    if shape == "inner":
        assert final == {"success": False, "error": text}
    else:
        assert final["status"] == "error" and final["type"] == "import"
        assert final.get("error", text) == text and final.get("errors", [text]) == [text]


# ---- exclusivity and the no-poll cancel ---------------------------------------------------------
def test_one_import_at_a_time_and_no_queries_meanwhile(tmp_path: Path) -> None:
    with Emulator(tmp_path, hold_seconds=0.01, statements_per_step=1, step_seconds=0.1) as emu:
        imp = Importer(emu, str(emu.create_database("x")["uuid"]))
        imp.query("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        first = imp.start(inserts(1, 5))
        assert first["status"] == "active"
        other = hashlib.md5(b"other").hexdigest()
        assert imp.result(action="init", etag=other) == {"success": False, "error": BUSY}
        refused = imp.query("SELECT count(*) FROM t")
        assert refused.status_code == 400
        assert refused.json()["errors"] == [
            {"code": 7500, "message": "D1_ERROR: Currently processing a long-running import."}
        ]
        answers = [first]
        while answers[-1]["status"] == "active":
            answers.append(imp.poll(first["at_bookmark"]))
        assert answers[-1]["status"] == "complete"
        after = imp.query("SELECT count(*) AS n FROM t").json()
        assert after["result"][0]["results"] == [{"n": 5}]


def test_no_poll_cancels_and_rolls_back(tmp_path: Path) -> None:
    with Emulator(
        tmp_path, hold_seconds=0.01, no_poll_timeout=0.5, statements_per_step=1, step_seconds=0.1
    ) as emu:
        imp = Importer(emu, str(emu.create_database("x")["uuid"]))
        imp.query("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        first = imp.start(inserts(1, 40))
        assert first["status"] == "active"
        time.sleep(0.3)
        wait_until_queryable(imp)
        assert rows(emu, imp.db, "SELECT count(*) FROM t") == [(0,)]
        cancelled = imp.poll(first["at_bookmark"])
        assert cancelled["status"] == "error"
        assert cancelled["error"] == "Cancelled due to no poll() received in 500ms."
        assert imp.poll(first["at_bookmark"]) == NOT_IMPORTING


def test_polls_keep_a_slow_import_alive(tmp_path: Path) -> None:
    with Emulator(
        tmp_path, hold_seconds=0.05, no_poll_timeout=0.4, statements_per_step=1, step_seconds=0.1
    ) as emu:
        imp = Importer(emu, str(emu.create_database("x")["uuid"]))
        imp.query("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        final = imp.run(inserts(1, 8))[-1]
        assert final["status"] == "complete" and rows(emu, imp.db, "SELECT count(*) FROM t") == [
            (8,)
        ]


# ---- protocol validation ------------------------------------------------------------------------
def test_init_and_ingest_validate_their_input(imp: Importer) -> None:
    for etag in ("abc", "g" * 32, None, 5):
        response = imp.call(action="init", etag=etag)
        assert response.status_code == 400 and response.json()["errors"][0]["code"] == 7400
    assert imp.call(action="explode").json()["errors"][0]["code"] == 7400
    etag = hashlib.md5(b"never uploaded").hexdigest()
    name = f"{imp.db}.{etag[:16]}.sql"
    missing = imp.result(action="ingest", etag=etag, filename=name)
    assert missing == {"success": False, "error": f"Input file {name} missing or invalid"}
    assert imp.call(action="poll").status_code == 400


def test_ingest_refuses_an_object_whose_md5_differs(imp: Importer) -> None:
    data = inserts(2, 1)
    etag = hashlib.md5(data).hexdigest()
    init = imp.result(action="init", etag=etag)
    assert init["filename"] == f"{imp.db}.{etag[:16]}.sql"
    PLAIN.put(init["upload_url"], content=data + b"-- tampered\n")
    answer = imp.result(action="ingest", etag=etag, filename=init["filename"])
    assert answer["success"] is False and "missing or invalid" in answer["error"]
    assert rows(imp.emu, imp.db, "SELECT count(*) FROM t") == [(1,)]


def test_large_file_streams_in_many_chunks(imp: Importer) -> None:
    row = b"INSERT INTO t (v) VALUES ('" + b"z" * 900 + b"');\n"
    data = row * 3000  # ~2.8 MB: several read chunks, statements spanning chunk borders
    final = imp.run(data)[-1]
    assert final["status"] == "complete" and final["result"]["num_queries"] == 3000
    assert rows(imp.emu, imp.db, "SELECT count(*) FROM t") == [(3001,)]


def test_stopping_the_emulator_rolls_back_a_running_import(tmp_path: Path) -> None:
    emu = Emulator(tmp_path, hold_seconds=0.01, statements_per_step=1, step_seconds=0.1)
    with emu:
        imp = Importer(emu, str(emu.create_database("x")["uuid"]))
        imp.query("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        assert imp.start(inserts(1, 50))["status"] == "active"
    assert rows(emu, imp.db, "SELECT count(*) FROM t") == [(0,)]
    with Emulator(tmp_path) as again:
        assert Importer(again, imp.db).query("SELECT 1").status_code == 200


def test_an_endless_statement_is_refused_without_reading_it_all(imp: Importer) -> None:
    data = inserts(2, 1) + b"INSERT INTO t (v) VALUES ('" + b"w" * 3_000_000 + b"');\n"
    final = imp.run(data)[-1]
    assert final["error"] == "statement too long: SQLITE_TOOBIG"
    assert rows(imp.emu, imp.db, "SELECT id FROM t") == [(1,)]


_PIECES = st.sampled_from(
    [
        "SELECT 1",
        "SELECT 'a;b'",
        'SELECT "x;" FROM t',
        "SELECT [a;b]",
        "SELECT `q;`",
        "SELECT 'it''s;'",
        "SELECT 1 /* c; */ + 2",
        "SELECT 1 -- c;\n",
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; SELECT 'e;'; END",
        "SELECT 'é;ü'",
        "SELECT 1-1",
        "SELECT 4/2, 3 - -1",
        "SELECT 2 /**/",
    ]
)


@settings(max_examples=150, deadline=None)
@given(
    pieces=st.lists(_PIECES, min_size=1, max_size=6),
    cuts=st.lists(st.integers(min_value=1, max_value=7), max_size=40),
    gap=st.sampled_from(["\n", " ", "\r\n", "\n-- note; here\n", "/* x; */"]),
)
def test_splitter_is_independent_of_chunking(pieces: list[str], cuts: list[int], gap: str) -> None:
    text = gap.join(p + ";" for p in pieces)
    data = text.encode()
    chunks, at = [], 0
    for size in cuts:
        chunks.append(data[at : at + size])
        at += size
    chunks.append(data[at:])
    got = list(iter_statements(chunks))
    assert got == split_sql(text)
    assert len(got) == len(pieces)
    for statement, piece in zip(got, pieces, strict=True):
        assert statement.endswith(";") and piece.split("\n")[0].split(" --")[0] in statement


def test_a_held_poll_counts_as_polling(tmp_path: Path) -> None:
    with Emulator(
        tmp_path, hold_seconds=0.8, no_poll_timeout=0.3, statements_per_step=1, step_seconds=0.1
    ) as emu:
        imp = Importer(emu, str(emu.create_database("x")["uuid"]))
        imp.query("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        final = imp.run(inserts(1, 12))[-1]
        assert final["status"] == "complete" and final["result"]["num_queries"] == 12
