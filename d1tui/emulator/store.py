"""Databases on disk: a JSON index (written atomically), one SQLite file each, and bookmarks."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import sqlite3
import sys
import threading
import uuid as uuidlib
from collections.abc import Iterator
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


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` between processes (flock, or msvcrt on Windows)."""
    with open(path, "a+b") as fh:
        if sys.platform == "win32":
            import msvcrt  # noqa: PLC0415 - Windows only

            fh.seek(0)
            while True:
                try:
                    msvcrt.locking(fh.fileno(), msvcrt.LK_LOCK, 1)
                    break
                except OSError:  # LK_LOCK gives up after ~10 s; keep waiting
                    continue
            try:
                yield
            finally:
                fh.seek(0)
                msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl  # noqa: PLC0415 - POSIX only

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _bookmark(uuid: str, counter: int) -> str:
    tail = int(hashlib.md5(f"{uuid}:{counter}".encode()).hexdigest(), 16)
    return f"{1:08x}-{counter >> 32:08x}-{counter & 0xFFFFFFFF:08x}-{tail:032x}"


class Store:
    """All databases of one emulator, with the locks that keep imports and queries apart.

    The index file is shared by every process serving the same data folder (``d1tui emulator``
    and ``d1tui import --local`` may run at once): each change re-reads it under a file lock,
    applies itself and writes it back atomically, and lookups re-read it when it changed.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.db_dir = data_dir / "databases"
        self.db_dir.mkdir(parents=True, exist_ok=True)
        self._index_path = data_dir / "index.json"
        self._lock_path = data_dir / "index.lock"
        self._lock = threading.RLock()
        self._records: dict[str, DatabaseRecord] = {}
        self._seen: tuple[int, ...] | None = None  # stat of the index file last read
        self._db_locks: dict[str, threading.Lock] = {}
        self.importing: set[str] = set()  # uuids with an import in progress
        with self._lock:
            self._refresh()

    # ---- index -------------------------------------------------------------------------
    @contextlib.contextmanager
    def _changing(self) -> Iterator[None]:
        """Hold the index for a change: thread lock, file lock, fresh read; save at the end."""
        with self._lock, _file_lock(self._lock_path):
            self._refresh(force=True)
            yield
            self._save()

    def _stat_key(self) -> tuple[int, ...] | None:
        try:
            st = os.stat(self._index_path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)

    def _refresh(self, *, force: bool = False) -> None:
        """Re-read the index if another process (or thread) may have replaced it."""
        key = self._stat_key()
        if not force and key == self._seen:
            return
        self._seen = key
        if key is None:
            self._records = {}
            return
        try:
            raw = json.loads(self._index_path.read_text("utf-8"))
            records = [DatabaseRecord(**item) for item in raw["databases"]]
        except (ValueError, TypeError, KeyError) as exc:
            self._seen = None
            raise RuntimeError(
                f"{self._index_path} is not a valid emulator index ({exc}); move it away to start"
                " afresh (the database files next to it are kept)."
            ) from None
        self._records = {r.uuid: r for r in records if self.file_of(r.uuid).exists()}

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
        self._seen = self._stat_key()

    # ---- lookup ------------------------------------------------------------------------
    def file_of(self, uuid: str) -> Path:
        """The SQLite file backing a database."""
        return self.db_dir / f"{uuid}.sqlite3"

    def find(self, key: str) -> DatabaseRecord:
        """A database by uuid or by name (as D1's GET accepts both)."""
        with self._lock:
            self._refresh()
            if key in self._records:
                return self._records[key]
            for record in self._records.values():
                if record.name == key:
                    return record
        raise not_found(key)

    def all(self) -> list[DatabaseRecord]:
        """Every database, oldest first."""
        with self._lock:
            self._refresh()
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
        with self._changing():
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
        return record

    def delete(self, key: str) -> DatabaseRecord:
        """Remove a database and its file (refused while it imports)."""
        with self._changing():
            record = self.find(key)
            if record.uuid in self.importing:
                raise StoreError(400, 7500, "D1_ERROR: Currently processing a long-running import.")
            del self._records[record.uuid]
        with self.db_lock(record.uuid):
            for suffix in ("", "-journal", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(f"{self.file_of(record.uuid)}{suffix}")
        return record

    # ---- bookmarks ---------------------------------------------------------------------
    def bookmark(self, uuid: str) -> str:
        """The current bookmark: `%08x-%08x-%08x-%032x`, growing with every change."""
        return _bookmark(uuid, self.find(uuid).version_counter)

    def bump(self, uuid: str) -> str:
        """Record a change to the database; return the new bookmark.

        The change is already committed when this runs, so a failure to write the index is
        not the caller's failure: the new bookmark is still handed out (kept in memory).
        """
        with self._lock:
            record = self._records.get(uuid)
            counter = (record.version_counter if record else 0) + 1
            try:
                with self._changing():
                    record = self.find(uuid)
                    record.version_counter += 1
                    counter = record.version_counter
            except OSError:
                if record is not None and record.version_counter < counter:
                    record.version_counter = counter
            return _bookmark(uuid, counter)

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
