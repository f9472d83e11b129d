"""The emulator's export endpoint: a D1-style SQL dump behind a signed download URL."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from d1tui.emulator import Emulator

# One shared client for the signed download URLs; plain HTTP, no CA loading.
PLAIN = httpx.Client(timeout=10, verify=False)


class Api:
    """Plain httpx access to an emulator's databases."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.http = httpx.Client(
            base_url=emu.base_url,
            headers={"Authorization": f"Bearer {emu.token}"},
            timeout=10,
            verify=False,
        )

    def post(self, db: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
        path = f"/accounts/{self.emu.account_id}/d1/database/{db}/{action}"
        return dict(self.http.post(path, json=body).json())


@pytest.fixture
def emu(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(tmp_path / "emu", hold_seconds=0.05) as emulator:
        yield emulator


@pytest.fixture
def api(emu: Emulator) -> Iterator[Api]:
    client = Api(emu)
    yield client
    client.http.close()


SCHEMA = (
    "CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
    "CREATE TABLE c (id INTEGER PRIMARY KEY, p INTEGER REFERENCES p(id), score REAL, data BLOB);"
    "CREATE INDEX c_p ON c (p);"
    "INSERT INTO p VALUES (1, 'it''s \"quoted\"; 😀'), (2, '');"
    "INSERT INTO c VALUES (1, 1, 0.1, x'00ff'), (2, 2, NULL, NULL), (3, 1, -1e300, x'');"
)


def dump(api: Api, db: str, **options: Any) -> str:
    answer = api.post(db, "export", {"output_format": "polling", "dump_options": options})
    assert answer["success"] is True
    result = answer["result"]
    assert result["type"] == "export" and result["status"] == "complete"
    assert result["messages"][-1].startswith("Finished uploading")
    response = PLAIN.get(result["result"]["signed_url"])
    assert response.status_code == 200
    return response.text


def test_export_round_trips_through_import(api: Api) -> None:
    source = api.emu.create_database("src")["uuid"]
    assert api.post(source, "query", {"sql": SCHEMA})["success"] is True
    text = dump(api, source)
    assert text.startswith("PRAGMA defer_foreign_keys=TRUE;\n")
    assert '"c" ("id","p","score","data")' in text and "_cf_KV" not in text
    target = api.emu.create_database("dst")["uuid"]
    data = text.encode()
    etag = hashlib.md5(data).hexdigest()
    init = api.post(target, "import", {"action": "init", "etag": etag})["result"]
    assert PLAIN.put(init["upload_url"], content=data).status_code == 200
    answer = api.post(
        target, "import", {"action": "ingest", "etag": etag, "filename": init["filename"]}
    )
    while answer["result"]["status"] == "active":
        bookmark = answer["result"]["at_bookmark"]
        answer = api.post(target, "import", {"action": "poll", "current_bookmark": bookmark})
    assert answer["result"]["status"] == "complete"
    for table in ("p", "c"):
        sql = f"SELECT * FROM {table} ORDER BY id"
        with sqlite3.connect(api.emu.database_file("src")) as a:
            expected = a.execute(sql).fetchall()
        with sqlite3.connect(api.emu.database_file("dst")) as b:
            assert b.execute(sql).fetchall() == expected
    with sqlite3.connect(api.emu.database_file("dst")) as b:
        assert b.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall() == [
            ("c_p",)
        ]


def test_dump_options_select_what_is_exported(api: Api) -> None:
    db = api.emu.create_database("opts")["uuid"]
    api.post(db, "query", {"sql": SCHEMA})
    schema_only = dump(api, db, no_data=True)
    assert "CREATE TABLE" in schema_only and "INSERT" not in schema_only
    data_only = dump(api, db, no_schema=True, tables=["p"])
    assert "CREATE" not in data_only and 'INSERT INTO "p"' in data_only
    assert 'INSERT INTO "c"' not in data_only
    bad = api.post(db, "export", {"output_format": "polling", "dump_options": {"tables": [1]}})
    assert bad["success"] is False and bad["errors"][0]["code"] == 7400


def test_download_urls_are_signed(api: Api) -> None:
    db = api.emu.create_database("signed")["uuid"]
    answer = api.post(db, "export", {"output_format": "polling"})
    url = answer["result"]["result"]["signed_url"]
    forged = url[:-2] + ("00" if not url.endswith("00") else "11")
    assert PLAIN.get(forged).status_code == 403
    assert PLAIN.put(url.replace("/download/", "/upload/"), content=b"x").status_code in (400, 403)
    assert PLAIN.get(url.split("?")[0]).status_code == 403
