"""What an import is about to do, written down before it starts, so a rerun can tell.

One small JSON file per (account, database, tables, source), replaced atomically: written with
``state: "importing"`` before ``init`` (which may start the import), given the bookmark once
D1 names it, and marked ``"finished"`` when the outcome is known. A record still
``"importing"`` means the run that wrote it was killed or lost track of its import; the next
run of the same file checks it (``rerun.py``) before sending anything.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from d1tui.importer.prepared import PreparedImport

VERSION = 1
UNKNOWN = "unknown"


def _iso(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


def fingerprint(prepared: PreparedImport) -> dict[str, Any]:
    """The source as it is now: path, size, mtime (when known) and the prepared SQL's md5."""
    origin = prepared.origin or prepared.path
    out: dict[str, Any] = {"path": str(origin), "md5": prepared.md5, "sql_size": prepared.size}
    try:
        stat = origin.stat()
    except OSError:
        return out
    out.update(size=stat.st_size, mtime_ns=stat.st_mtime_ns)
    return out


def same_source(recorded: Mapping[str, Any], now: Mapping[str, Any]) -> bool:
    """The same file as recorded: same size and mtime, or (not known) the same SQL md5.

    The md5 alone is not enough for a converted file: the SQL of a rerun into a table the
    first run created has no ``CREATE TABLE`` and so another md5.
    """
    if "mtime_ns" in recorded and "mtime_ns" in now:
        return bool(recorded["size"] == now["size"] and recorded["mtime_ns"] == now["mtime_ns"])
    return bool(recorded.get("md5") == now.get("md5"))


def record_key(account: str, database: str, tables: list[str], source_path: str) -> str:
    """The file name (without ``.json``) of the record for this import."""
    text = json.dumps([account, database, sorted(tables), source_path])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _write_atomic(path: Path, data: Mapping[str, Any]) -> None:
    """Replace ``path`` with ``data`` as JSON: a reader sees the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=".record-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@dataclass
class ImportRecord:
    """One import's record on disk; ``data`` is what the JSON file holds."""

    path: Path
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def unfinished(self) -> bool:
        """The run that wrote it never learnt its outcome (killed, or lost track)."""
        return self.data.get("state") == "importing"

    @property
    def started_at(self) -> str:
        """When the recorded import began (ISO 8601, UTC)."""
        return str(self.data.get("started_at", UNKNOWN))

    @property
    def before(self) -> dict[str, int] | None:
        """The row counts before the recorded import (None when not counted)."""
        before = self.data.get("before")
        return {str(k): int(v) for k, v in before.items()} if isinstance(before, dict) else None

    @property
    def rows(self) -> dict[str, int]:
        """The rows the recorded import was to add, per table."""
        rows = self.data.get("rows")
        return {str(k): int(v) for k, v in rows.items()} if isinstance(rows, dict) else {}

    @property
    def bookmark(self) -> str | None:
        """The Time Travel bookmark before the recorded import, when it was learnt."""
        value = self.data.get("bookmark")
        return value if isinstance(value, str) and value != UNKNOWN else None

    def save(self) -> None:
        """Write the record (atomically)."""
        self.data["updated_at"] = _iso(time.time())
        _write_atomic(self.path, self.data)

    def note_bookmark(self, bookmark: str) -> None:
        """D1 named the bookmark before the import: keep it (the undo)."""
        self.data["bookmark"] = bookmark
        self._save_quietly()

    def finish(self, outcome: str, database_state: str | None) -> None:
        """The outcome is known: the record no longer stands in the way of a rerun."""
        self.data.update(
            state="finished",
            outcome=outcome,
            database_state=database_state,
            finished_at=_iso(time.time()),
        )
        self._save_quietly()

    def _save_quietly(self) -> None:
        # After the import has begun, a full disk must not end it: the record only helps.
        with contextlib.suppress(OSError):
            self.save()


class Records:
    """The folder of import records."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, account: str, database: str, prepared: PreparedImport) -> Path:
        source = str(prepared.origin or prepared.path)
        key = record_key(account, database, list(prepared.rows), source)
        return self.folder / f"{key}.json"

    def find(self, account: str, database: str, prepared: PreparedImport) -> ImportRecord | None:
        """The unfinished record of an earlier import of this same file, if there is one."""
        path = self._path(account, database, prepared)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("version") != VERSION:
            return None
        record = ImportRecord(path, data)
        source = data.get("source")
        if not record.unfinished or not isinstance(source, dict):
            return None
        return record if same_source(source, fingerprint(prepared)) else None

    def start(
        self,
        *,
        account: str,
        database: str,
        database_name: str,
        prepared: PreparedImport,
        before: Mapping[str, int] | None,
    ) -> ImportRecord:
        """Write what this import is about to do; raises OSError when it cannot be written."""
        record = ImportRecord(
            self._path(account, database, prepared),
            {
                "version": VERSION,
                "state": "importing",
                "started_at": _iso(time.time()),
                "account": account,
                "database": database,
                "database_name": database_name,
                "source": {**fingerprint(prepared), "name": prepared.source},
                "tables": list(prepared.rows),
                "rows": dict(prepared.rows),
                "statements": prepared.statements,
                "before": None if before is None else dict(before),
                # The client has no Time Travel call yet: the bookmark comes with D1's answer.
                "bookmark": UNKNOWN,
            },
        )
        record.save()
        return record
