"""Databases on disk: a JSON index (written atomically), one SQLite file each, and bookmarks."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import sqlite3
import threading
import uuid as uuidlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from d1tui.emulator.sqlrules import connect

REGIONS = ("wnam", "enam", "weur", "eeur", "apac", "oc")
_NAME_MAX = 64


class StoreError(Exception):
    """A database-level refusal with D1's HTTP status, code and message."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class UnknownDatabaseError(StoreError, LookupError):
    """No database has this uuid or name."""


def not_found(key: str) -> StoreError:
    """D1's answer for an unknown database."""
    return UnknownDatabaseError(404, 7404, f"The database {key} could not be found")


@dataclass
class DatabaseRecord:
    """What the index remembers about one database."""

    uuid: str
    name: str
    created_at: str
    region: str = "WEUR"
    version_counter: int = 0  # bumped on every change; feeds the bookmark


def now_iso() -> str:
    """UTC timestamp in the API's style (`2026-11-25T23:50:26.123Z`)."""
    stamp = dt.datetime.now(dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


class Store:
    """All databases of one emulator, with the locks that keep imports and queries apart."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.db_dir = data_dir / "databases"
        self.db_dir.mkdir(parents=True, exist_ok=True)
        self._index_path = data_dir / "index.json"
        self._lock = threading.RLock()
        self._records: dict[str, DatabaseRecord] = {}
        self._db_locks: dict[str, threading.Lock] = {}
        self.importing: set[str] = set()  # uuids with an import in progress
        self._load()

    # ---- index -------------------------------------------------------------------------
    def _load(self) -> None:
        if not self._index_path.exists():
            return
        try:
            raw = json.loads(self._index_path.read_text("utf-8"))
            records = [DatabaseRecord(**item) for item in raw["databases"]]
        except (ValueError, TypeError, KeyError) as exc:
            raise RuntimeError(
                f"{self._index_path} is not a valid emulator index ({exc}); move it away to start"
                " afresh (the database files next to it are kept)."
            ) from None
        for record in records:
            if self.file_of(record.uuid).exists():
                self._records[record.uuid] = record

    def _save(self) -> None:
        body = json.dumps(
            {"version": 1, "databases": [asdict(r) for r in self._records.values()]}, indent=1
        )
        tmp = self._index_path.with_suffix(".json.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self._index_path)

    # ---- lookup ------------------------------------------------------------------------
    def file_of(self, uuid: str) -> Path:
        """The SQLite file backing a database."""
        return self.db_dir / f"{uuid}.sqlite3"

    def find(self, key: str) -> DatabaseRecord:
        """A database by uuid or by name (as D1's GET accepts both)."""
        with self._lock:
            if key in self._records:
                return self._records[key]
            for record in self._records.values():
                if record.name == key:
                    return record
        raise not_found(key)

    def all(self) -> list[DatabaseRecord]:
        """Every database, oldest first."""
        with self._lock:
            return sorted(self._records.values(), key=lambda r: (r.created_at, r.name))

    def db_lock(self, uuid: str) -> threading.Lock:
        """The lock serialising all SQLite work on one database."""
        with self._lock:
            return self._db_locks.setdefault(uuid, threading.Lock())

    # ---- create / delete ---------------------------------------------------------------
    def create(self, name: object, location_hint: object = None) -> DatabaseRecord:
        """Create an empty database (holding D1's own `_cf_KV` table)."""
        if not isinstance(name, str) or not name.strip():
            raise StoreError(400, 7400, "A database name (a non-empty string) is required.")
        if len(name) > _NAME_MAX or any(c in name for c in "/\\?#%") or not name.isprintable():
            raise StoreError(400, 7400, f"Invalid database name {name!r}.")
        region = "WEUR"
        if location_hint is not None:
            if not isinstance(location_hint, str) or location_hint.lower() not in REGIONS:
                raise StoreError(
                    400, 7400, f"primary_location_hint must be one of {', '.join(REGIONS)}."
                )
            region = location_hint.upper()
        with self._lock:
            if any(r.name == name for r in self._records.values()):
                raise StoreError(400, 7502, "A database with that name already exists.")
            record = DatabaseRecord(str(uuidlib.uuid4()), name, now_iso(), region)
            conn, _ = connect(self.file_of(record.uuid))
            try:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS _cf_KV (key TEXT PRIMARY KEY, value BLOB)"
                    " WITHOUT ROWID"
                )
            finally:
                conn.close()
            self._records[record.uuid] = record
            self._save()
            return record

    def delete(self, key: str) -> DatabaseRecord:
        """Remove a database and its file (refused while it imports)."""
        with self._lock:
            record = self.find(key)
            if record.uuid in self.importing:
                raise StoreError(400, 7500, "D1_ERROR: Currently processing a long-running import.")
            del self._records[record.uuid]
            self._save()
        with self.db_lock(record.uuid):
            for suffix in ("", "-journal", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(f"{self.file_of(record.uuid)}{suffix}")
        return record

    # ---- bookmarks ---------------------------------------------------------------------
    def bookmark(self, uuid: str) -> str:
        """The current bookmark: `%08x-%08x-%08x-%032x`, growing with every change."""
        record = self.find(uuid)
        counter = record.version_counter
        tail = int(hashlib.md5(f"{uuid}:{counter}".encode()).hexdigest(), 16)
        return f"{1:08x}-{counter >> 32:08x}-{counter & 0xFFFFFFFF:08x}-{tail:032x}"

    def bump(self, uuid: str) -> str:
        """Record a change to the database; return the new bookmark."""
        with self._lock:
            self.find(uuid).version_counter += 1
            self._save()
        return self.bookmark(uuid)

    # ---- facts -------------------------------------------------------------------------
    def describe(self, record: DatabaseRecord, *, details: bool) -> dict[str, Any]:
        """A database as the API shows it (GET adds tables, size and region)."""
        info: dict[str, Any] = {
            "uuid": record.uuid,
            "name": record.name,
            "created_at": record.created_at,
            "version": "production",
        }
        path = self.file_of(record.uuid)
        info["num_tables"] = self.count_tables(path)
        info["file_size"] = path.stat().st_size if path.exists() else 0
        if details:
            info["running_in_region"] = record.region
            info["read_replication"] = {"mode": "disabled"}
        return info

    @staticmethod
    def count_tables(path: Path) -> int:
        """User tables (not sqlite_* or D1's own _cf_*)."""
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
            try:
                row = conn.execute(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                    " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
                    " AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'"
                ).fetchone()
            finally:
                conn.close()
        except sqlite3.Error:
            return 0
        return int(row[0])
