"""The emulator under hostile use: shared data folders, endless queries, reserved names, failed
writes after COMMIT, uploads left on disk, unauthenticated bodies, crowds, and bad CLI values.

Everything runs over real HTTP on 127.0.0.1 against real SQLite files; each test checks the
rows left behind as well as the words.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import sqlite3
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from import_runs import failed, run, succeeded
from test_client_helpers import make_client, seed, sqlite_count, start_emulator, write_sql

from d1tui.cli import main
from d1tui.emulator import Emulator
from d1tui.emulator.execution import TIME_LIMIT_TEXT
from d1tui.emulator.uploads import RETRY_RETENTION

SEEDED = 5
ENDLESS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
PLAIN = httpx.Client(timeout=30.0, trust_env=False)


class Api:
    """Direct /query calls against one emulator's account."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.root = f"{emu.base_url}/accounts/{emu.account_id}/d1/database"
        self.headers = {"Authorization": f"Bearer {emu.token}"}

    def create(self, name: str) -> str:
        response = PLAIN.post(self.root, headers=self.headers, json={"name": name})
        assert response.status_code == 200, response.text
        return str(response.json()["result"]["uuid"])

    def names(self) -> set[str]:
        response = PLAIN.get(self.root, headers=self.headers, params={"per_page": 1000})
        assert response.status_code == 200, response.text
        return {item["name"] for item in response.json()["result"]}

    def query(self, db: str, sql: str) -> httpx.Response:
        return PLAIN.post(f"{self.root}/{db}/query", headers=self.headers, json={"sql": sql})

    def rows(self, db: str, sql: str) -> list[dict[str, Any]]:
        response = self.query(db, sql)
        assert response.status_code == 200, response.text
        return list(response.json()["result"][-1]["results"])


def error_of(response: httpx.Response) -> str:
    """The one error message of a failure envelope."""
    body = response.json()
    assert body["success"] is False
    return str(body["errors"][0]["message"])


# ---- issue 9 item 3: two processes on one data folder --------------------------------------


def test_two_emulators_on_one_data_folder_keep_every_database(tmp_path: Path) -> None:
    first = start_emulator(tmp_path)
    second = start_emulator(tmp_path)  # the same folder: tmp_path / "emu"
    try:
        a, b = Api(first), Api(second)
        created: dict[str, str] = {}
        for i in range(8):  # alternately, each from its own in-memory view
            created[f"a{i}"] = a.create(f"a{i}")
            created[f"b{i}"] = b.create(f"b{i}")
        assert a.names() == b.names() == set(created)
        for name, uuid in created.items():
            writer, reader = (a, b) if name.startswith("a") else (b, a)
            sql = f"CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('{name}')"
            assert writer.query(uuid, sql).status_code == 200
            assert reader.rows(uuid, "SELECT v FROM t") == [{"v": name}]
        # Deleting through one is seen by the other; the rest stay.
        assert PLAIN.delete(f"{a.root}/{created['b3']}", headers=a.headers).status_code == 200
        assert b.names() == set(created) - {"b3"}
    finally:
        first.stop()
        second.stop()
    with Emulator(tmp_path / "emu") as third:  # a fresh start reads the same index
        assert Api(third).names() == set(created) - {"b3"}


def test_two_processes_creating_databases_at_once_lose_none(tmp_path: Path) -> None:
    data = tmp_path / "shared"
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from d1tui.emulator.store import Store\n"
        "store = Store(Path(sys.argv[1]))\n"
        "for i in range(40):\n"
        "    store.create(f'{sys.argv[2]}{i}')\n"
        "    store.bump(store.find(f'{sys.argv[2]}{i}').uuid)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(data), prefix], env=env)
        for prefix in ("p", "q")
    ]
    assert [proc.wait(120) for proc in procs] == [0, 0]
    with Emulator(data) as emu:
        api = Api(emu)
        expected = {f"{p}{i}" for p in "pq" for i in range(40)}
        assert api.names() == expected
        for name in ("p0", "q39"):
            assert api.rows(name, "SELECT count(*) AS n FROM sqlite_master") == [{"n": 1}]


# ---- issue 9 item 6: an endless query through /query -----------------------------------


def test_an_endless_recursive_query_ends_at_the_time_limit_and_the_database_stays_usable(
    tmp_path: Path,
) -> None:
    emu = start_emulator(tmp_path, query_time_limit=0.5)
    try:
        db = emu.create_database("demo")["uuid"]
        seed(emu, "demo", rows=SEEDED)
        api = Api(emu)
        answers: list[httpx.Response] = []
        worker = threading.Thread(
            target=lambda: answers.append(
                api.query(db, f"INSERT INTO items (id, name) VALUES (99, 'x'); {ENDLESS}")
            ),
            daemon=True,
        )
        worker.start()
        worker.join(60)  # without the limit this query never ends
        assert not worker.is_alive() and len(answers) == 1
        assert answers[0].status_code == 400
        assert (
            error_of(answers[0])
            == TIME_LIMIT_TEXT
            == ("D1 DB exceeded its CPU time limit and was reset.")
        )
        # The same database answers at once; the INSERT of the interrupted request is undone.
        assert api.rows(db, "SELECT count(*) AS n FROM items") == [{"n": SEEDED}]
        assert sqlite_count(emu, "demo", "items") == SEEDED
        assert api.query(db, "INSERT INTO items (id, name) VALUES (6, 'six')").status_code == 200
        assert sqlite_count(emu, "demo", "items") == SEEDED + 1
    finally:
        emu.stop()


def test_the_default_query_time_limit_is_d1s_30_seconds(tmp_path: Path) -> None:
    emu = Emulator(tmp_path / "emu")
    assert emu.settings.query_time_limit == 30.0


# ---- issue 9 item 7: a rename into _cf_, a failed write after COMMIT ---------------------


@pytest.mark.parametrize(
    "sql",
    ["ALTER TABLE items RENAME TO _cf_x", '/* c */ -- d\n alter table items rename to "_CF_Y"'],
)
def test_renaming_a_table_into_the_reserved_cf_names_is_refused(tmp_path: Path, sql: str) -> None:
    emu = start_emulator(tmp_path)
    try:
        db = emu.create_database("demo")["uuid"]
        seed(emu, "demo", rows=SEEDED)
        api = Api(emu)
        response = api.query(db, sql)
        assert response.status_code == 400
        assert error_of(response) == "not authorized: SQLITE_AUTH"
        assert api.rows(db, "SELECT count(*) AS n FROM items") == [{"n": SEEDED}]
        with sqlite3.connect(emu.database_file("demo")) as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert tables == {"_cf_KV", "items"}
        # An ordinary rename is still allowed.
        assert api.query(db, "ALTER TABLE items RENAME TO things").status_code == 200
        assert api.rows(db, "SELECT count(*) AS n FROM things") == [{"n": SEEDED}]
    finally:
        emu.stop()


def test_a_rename_into_cf_inside_an_import_fails_it_and_rolls_back(tmp_path: Path) -> None:
    emu = start_emulator(tmp_path)
    try:
        emu.create_database("demo")
        seed(emu, "demo", rows=SEEDED)
        prepared = write_sql(
            tmp_path / "a.sql", "fresh", rows=20, extra=["ALTER TABLE items RENAME TO _cf_gone;"]
        )
        with make_client(emu) as client:
            end = failed(run(client, prepared))
            assert "not authorized: SQLITE_AUTH" in str(end.error)
            assert client.count_rows("demo", ["items", "fresh"]) == {"items": SEEDED, "fresh": 0}
        assert sqlite_count(emu, "demo", "items") == SEEDED
        assert sqlite_count(emu, "demo", "fresh") is None
    finally:
        emu.stop()


def test_an_index_write_failing_after_commit_still_reports_what_happened(tmp_path: Path) -> None:
    emu = start_emulator(tmp_path)
    try:
        db = emu.create_database("demo")["uuid"]
        seed(emu, "demo", rows=SEEDED)
        # A folder where the index's temporary file goes: every index write now fails.
        blocker = emu.data_dir / "index.json.tmp"
        blocker.mkdir()
        with make_client(emu) as client:
            end = succeeded(run(client, write_sql(tmp_path / "a.sql", "more", rows=30)))
            assert [c.ok for c in end.counts] == [True]
            assert client.count_rows("demo", ["more"]) == {"more": 30}
            response = Api(emu).query(db, "INSERT INTO items (id, name) VALUES (6, 'six')")
            assert response.status_code == 200 and response.json()["success"] is True
        assert sqlite_count(emu, "demo", "more") == 30
        assert sqlite_count(emu, "demo", "items") == SEEDED + 1
        blocker.rmdir()
        with make_client(emu) as client:
            assert client.count_rows("demo", ["items"]) == {"items": SEEDED + 1}
    finally:
        emu.stop()


# ---- issue 9 item 8: uploads on disk, unauthenticated bodies, a crowd --------------------


def uploads(emu: Emulator) -> list[Path]:
    """What the uploads folder holds."""
    return sorted((emu.data_dir / "uploads").iterdir())


def test_an_upload_is_removed_once_its_import_succeeded(tmp_path: Path) -> None:
    emu = start_emulator(tmp_path)
    try:
        emu.create_database("demo")
        seed(emu, "demo", rows=SEEDED)
        with make_client(emu) as client:
            end = succeeded(run(client, write_sql(tmp_path / "a.sql", "more", rows=40)))
            assert [c.ok for c in end.counts] == [True]
            assert client.count_rows("demo", ["more"]) == {"more": 40}
        assert uploads(emu) == []
        assert stat.S_IMODE((emu.data_dir / "uploads").stat().st_mode) == 0o700
    finally:
        emu.stop()


def test_an_upload_of_a_failed_import_is_private_and_kept_only_for_a_rerun(tmp_path: Path) -> None:
    emu = start_emulator(tmp_path)
    try:
        emu.create_database("demo")
        seed(emu, "demo", rows=SEEDED)
        prepared = write_sql(
            tmp_path / "a.sql", "more", rows=3, extra=["INSERT INTO nowhere VALUES (1);"]
        )
        with make_client(emu) as client:
            end = failed(run(client, prepared))
            assert "no such table: nowhere" in str(end.error)
            assert client.count_rows("demo", ["items", "more"]) == {"items": SEEDED, "more": 0}
        kept = uploads(emu)
        assert {p.suffix for p in kept} == {".sql", ".md5", ".done"}
        for path in kept:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
        done = next(p for p in kept if p.suffix == ".done")
        sql = next(p for p in kept if p.suffix == ".sql")
        assert done.stat().st_mtime > sql.stat().st_mtime + RETRY_RETENTION - 60  # kept 15 min
        # Once its time has passed, the next start sweeps it away.
        os.utime(done, (0, 0))
    finally:
        emu.stop()
    with Emulator(tmp_path / "emu") as again:
        assert uploads(again) == []


def test_stale_part_files_are_removed_at_start_and_a_live_one_is_kept(tmp_path: Path) -> None:
    folder = tmp_path / "emu" / "uploads"
    folder.mkdir(parents=True)
    name = "00000000-0000-4000-8000-000000000000.0123456789abcdef.sql"
    stale = folder / f"{name}.dead0000.part"
    stale.write_bytes(b"INSERT INTO t VALUES (1);\n" * 100)  # a killed upload's leftovers
    live = folder / f"{name}.live0000.part"
    with open(live, "wb") as writer:  # an upload another process is still receiving
        fcntl.flock(writer.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with Emulator(tmp_path / "emu"):
            assert not stale.exists()
            assert live.exists()


def raw_request(port: int, head: str, *, send_body: bytes = b"") -> tuple[bytes, bytes]:
    """Send `head` (and maybe the start of a body); return (the answer, what follows it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(head.encode() + send_body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            assert chunk, answer
            answer += chunk
        head_part, _, rest = answer.partition(b"\r\n\r\n")
        length = int(
            next(
                line.split(b":", 1)[1]
                for line in head_part.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
        )
        while len(rest) < length:
            rest += sock.recv(65536)
        after = sock.recv(65536)  # b"": the server closed the connection
        return head_part + b"\r\n\r\n" + rest[:length], after


@pytest.mark.parametrize(
    ("path", "auth", "status", "message"),
    [
        (
            "/client/v4/accounts/{acct}/d1/database/x/query",
            "Bearer wrong",
            403,
            "Authentication error",
        ),
        ("/client/v4/accounts/{acct}/d1/database/x/query", None, 401, "Authentication error"),
        ("/client/v4/no/such/route", "Bearer wrong", 404, "No route for that URI"),
    ],
)
def test_a_large_body_is_refused_before_it_is_read(
    emu_plain: Emulator, path: str, auth: str | None, status: int, message: str
) -> None:
    lines = [
        f"POST {path.format(acct=emu_plain.account_id)} HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        f"Content-Length: {50 << 20}",
    ]
    if auth:
        lines.append(f"Authorization: {auth}")
    # Only 1 KiB of the announced 50 MiB is sent: an answer proves the body was not awaited.
    answer, after = raw_request(
        emu_plain.port, "\r\n".join(lines) + "\r\n\r\n", send_body=b"{" + b" " * 1023
    )
    assert answer.startswith(f"HTTP/1.1 {status} ".encode())
    assert message.encode() in answer
    assert b"Connection: close" in answer
    assert after == b""
    # The emulator serves the rightful next request as usual.
    api = Api(emu_plain)
    assert api.rows(api.create("after"), "SELECT 1 AS one") == [{"one": 1}]


@pytest.fixture
def emu_plain(tmp_path: Path) -> Any:
    """A running emulator with no database."""
    emulator = start_emulator(tmp_path)
    yield emulator
    emulator.stop()


def test_two_hundred_concurrent_clients_are_all_answered(emu_plain: Emulator) -> None:
    url = f"{emu_plain.base_url}/user/tokens/verify"
    headers = {"Authorization": f"Bearer {emu_plain.token}"}
    start = threading.Barrier(200)
    statuses: list[int] = []
    lock = threading.Lock()

    def one() -> None:
        start.wait(60)
        with httpx.Client(timeout=60.0, trust_env=False) as http:
            code = http.get(url, headers=headers).status_code
        with lock:
            statuses.append(code)

    threads = [threading.Thread(target=one, daemon=True) for _ in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert statuses == [200] * 200
    if shutil.which("ss"):  # the listening socket's backlog (Send-Q) as the kernel has it
        listing = subprocess.run(
            ["ss", "-ltnH", f"sport = :{emu_plain.port}"],
            check=False,
            capture_output=True,
            text=True,
        ).stdout.split()
        assert int(listing[2]) >= 200, listing


# ---- issue 10 item 6: bad --port and --data-dir values ------------------------------------


@pytest.mark.parametrize("value", ["99999", "-1", "http"])
def test_an_unusable_port_is_a_usage_error_naming_it(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["emulator", "--port", value]) == 2
    err = capsys.readouterr().err
    assert f"argument --port: {value!r}" in err or f"argument --port: {value} " in err
    assert "0-65535" in err and "Traceback" not in err


def test_a_data_dir_that_is_a_file_is_a_usage_error_for_emulator_and_import(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    afile = tmp_path / "notes.txt"
    afile.write_text("keep me\n", encoding="utf-8")
    data = tmp_path / "people.csv"
    data.write_text("id,name\n1,ann\n", encoding="utf-8")
    assert main(["emulator", "--port", "0", "--data-dir", str(afile)]) == 2
    err = capsys.readouterr().err
    assert f"Unusable data folder: {afile} is a file, not a folder" in err
    assert "--data-dir" in err and "Cannot serve" not in err and "Traceback" not in err
    code = main(["import", str(data), "--local", "--data-dir", str(afile), "-d", "x", "--yes"])
    assert code == 2
    out, err = capsys.readouterr()
    assert f"{afile} is a file, not a folder" in out + err
    assert "FileExistsError" not in out + err and "Traceback" not in out + err
    assert afile.read_text(encoding="utf-8") == "keep me\n"  # untouched
    below = afile / "emu"
    assert main(["import", str(data), "--local", "--data-dir", str(below), "-d", "x", "--yes"]) == 2
    out, err = capsys.readouterr()
    assert f"{below}: a part of this path is a file, not a folder" in out + err
