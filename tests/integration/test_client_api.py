"""Every D1Client call over real HTTP against the emulator, answers and typed errors."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_client_helpers import make_client, start_emulator, write_sql

from d1tui.api.client import D1Client
from d1tui.emulator import Emulator
from d1tui.errors import AccountError, AuthError, NotFoundError, SQLError
from d1tui.settings.secret import Secret


@pytest.fixture
def emu(tmp_path: Path) -> Iterator[Emulator]:
    emulator = start_emulator(tmp_path)
    yield emulator
    emulator.stop()


@pytest.fixture
def client(emu: Emulator) -> Iterator[D1Client]:
    with make_client(emu) as c:
        yield c


def test_verify_token_reports_status_and_falls_back_to_the_user_endpoint(
    emu: Emulator, client: D1Client
) -> None:
    status = client.verify_token()
    assert status.active and status.id and status.message == "This API Token is valid and active"
    emu.token_status = "expired"
    expired = client.verify_token()
    assert expired.status == "expired" and not expired.active and expired.expires_on
    emu.token_status = "active"
    with make_client(emu, account_id="0" * 32) as wrong_account:
        assert wrong_account.verify_token().active  # via /user/tokens/verify
        with pytest.raises(AccountError):
            wrong_account.list_databases()
    assert [path.split("/client/v4")[1] for _, op, path in emu.requests if op == "verify"][-2:] == [
        "/accounts/" + "0" * 32 + "/tokens/verify",
        "/user/tokens/verify",
    ]


def test_a_wrong_token_is_an_auth_error_everywhere(emu: Emulator) -> None:
    with D1Client(emu.account_id, Secret("not-the-token"), base_url=emu.base_url) as bad:
        with pytest.raises(AuthError) as caught:
            bad.verify_token()
        assert caught.value.http_status == 401
        with pytest.raises(AuthError) as caught:
            bad.list_databases()
        assert 10000 in caught.value.codes


def test_an_expired_token_is_refused_by_d1_endpoints(emu: Emulator, client: D1Client) -> None:
    emu.create_database("demo")
    emu.token_status = "disabled"
    with pytest.raises(AuthError):
        client.query("demo", "SELECT 1")


def test_databases_are_created_listed_across_pages_fetched_and_deleted(
    emu: Emulator, client: D1Client
) -> None:
    for i in range(11):
        emu.create_database(f"bulk-{i:03d}")
    made = client.create_database("orders")
    assert made.name == "orders" and len(made.uuid) == 36
    client.page_size = 5
    every = client.list_databases()
    assert len(every) == 12 and len({d.uuid for d in every}) == 12
    pages = [path for _, op, path in emu.requests if op == "list"]
    assert len(pages) == 3
    assert [d.name for d in client.list_databases(name="orders")] == ["orders"]
    by_name = client.get_database("orders")
    by_uuid = client.get_database(made.uuid)
    assert by_name == by_uuid and by_name.num_tables == 0 and by_name.file_size
    client.delete_database(made.uuid)
    with pytest.raises(NotFoundError) as caught:
        client.get_database(made.uuid)
    assert 7404 in caught.value.codes and caught.value.http_status == 404


def test_query_and_raw_with_params_and_several_statements(emu: Emulator, client: D1Client) -> None:
    emu.create_database("demo")
    client.query("demo", "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL)")
    client.query("demo", "INSERT INTO t (id, name, score) VALUES (?, ?, ?)", [1, "ann", 2.5])
    results = client.query(
        "demo", "INSERT INTO t (name) VALUES ('bob'); SELECT id, name FROM t ORDER BY id"
    )
    assert len(results) == 2 and all(r.success for r in results)
    assert results[1].results == [{"id": 1, "name": "ann"}, {"id": 2, "name": "bob"}]
    assert results[0].meta.get("changes") == 1
    raw = client.raw("demo", "SELECT name, score FROM t WHERE id = ?", [1])
    assert raw[0].columns == ["name", "score"] and raw[0].rows == [["ann", 2.5]]


def test_sql_errors_carry_the_sqlite_code(emu: Emulator, client: D1Client) -> None:
    emu.create_database("demo")
    with pytest.raises(SQLError) as caught:
        client.query("demo", "SELECT * FROM missing_table")
    assert caught.value.sqlite_code == "SQLITE_ERROR" and "no such table" in caught.value.detail
    assert caught.value.codes == (7500,) and caught.value.http_status == 400
    with pytest.raises(NotFoundError):
        client.query("no-such-db", "SELECT 1")


def test_list_tables_shows_user_tables_with_columns_and_counts_only(
    emu: Emulator, client: D1Client
) -> None:
    emu.create_database("demo")
    client.query(
        "demo",
        "CREATE TABLE people "
        "(id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT DEFAULT 'Oslo'); "
        "INSERT INTO people (name) VALUES ('a'), ('b'), ('c'); "
        'CREATE TABLE "odd ""name""" (x BLOB); '
        "CREATE TABLE d1_migrations (id INTEGER)",
    )
    with sqlite3.connect(emu.database_file("demo")) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS _cf_KV (key TEXT PRIMARY KEY, value BLOB)")
    tables = client.list_tables("demo")
    assert [t.name for t in tables] == ['odd "name"', "people"]
    people = tables[1]
    assert people.rows == 3
    assert [(c.name, c.type, c.notnull, c.pk, c.default) for c in people.columns] == [
        ("id", "INTEGER", False, 1, None),
        ("name", "TEXT", True, 0, None),
        ("city", "TEXT", False, 0, "'Oslo'"),
    ]
    assert tables[0].rows == 0 and tables[0].columns[0].type == "BLOB"
    queries = [op for _, op, _ in emu.requests if op == "query"]
    emu.requests.clear()
    client.list_tables("demo")
    assert len([op for _, op, _ in emu.requests if op == "query"]) == 2
    assert queries


def test_count_rows_counts_missing_tables_as_zero(emu: Emulator, client: D1Client) -> None:
    emu.create_database("demo")
    client.query("demo", "CREATE TABLE a (x); INSERT INTO a VALUES (1), (2)")
    assert client.count_rows("demo", ["a", "nope", "A"]) == {"a": 2, "nope": 0, "A": 2}


def test_import_actions_one_by_one(emu: Emulator, client: D1Client, tmp_path: Path) -> None:
    emu.create_database("demo")
    prepared = write_sql(tmp_path / "x.sql", rows=30)
    init = client.import_init("demo", prepared.md5)
    assert init.upload_url and init.filename and not init.failed and init.http_status == 200
    seen: list[tuple[int, int]] = []
    client.upload(
        init.upload_url, prepared.path, prepared.md5, on_progress=lambda s, t: seen.append((s, t))
    )
    assert seen[-1] == (prepared.size, prepared.size)
    answer = client.import_ingest("demo", prepared.md5, init.filename)
    while not (answer.complete or answer.failed):
        assert answer.at_bookmark
        answer = client.import_poll("demo", answer.at_bookmark)
    assert answer.complete and answer.final["num_queries"] == prepared.statements
    assert client.import_poll("demo", answer.at_bookmark or "").not_importing
