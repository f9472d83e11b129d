"""Shared helpers for the client and importer tests (no tests here).

Everything runs over real HTTP against the emulator on 127.0.0.1 with real SQLite files,
tuned to be quick: short holds, short retries, short rollback waits.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from d1tui.api.client import D1Client
from d1tui.api.retry import RetryPolicy
from d1tui.emulator import Emulator
from d1tui.events import ImportEvent, ImportFailed, ImportSucceeded
from d1tui.importer.prepared import PreparedImport
from d1tui.importer.run import ImportOptions
from d1tui.settings.secret import Secret

FAST_RETRY = RetryPolicy(max_attempts=4, base=0.02, cap=0.1, jitter=0.0, max_retry_after=2.0)
FAST_OPTIONS = ImportOptions(
    rollback_wait=0.8, max_poll_gap=1.0, poll_floor=0.02, busy_wait=15.0, progress_interval=0.0
)


def start_emulator(tmp_path: Path, **settings: object) -> Emulator:
    """A running emulator with quick holds (override any setting)."""
    options: dict[str, object] = {"hold_seconds": 0.05}
    options.update(settings)
    return Emulator(tmp_path / "emu", **options).start()  # type: ignore[arg-type]


def make_client(emu: Emulator, **kw: object) -> D1Client:
    """A client for the emulator with short timeouts and retries."""
    options: dict[str, object] = {"base_url": emu.base_url, "timeout": 5.0, "retry": FAST_RETRY}
    options.update(kw)
    account = str(options.pop("account_id", emu.account_id))
    return D1Client(account, Secret(emu.token), **options)  # type: ignore[arg-type]


def write_sql(
    path: Path,
    table: str = "items",
    rows: int = 100,
    *,
    per_statement: int = 10,
    first_id: int = 1,
    with_ids: bool = True,
    create: bool = True,
    extra: Iterable[str] = (),
    claim_rows: int | None = None,
) -> PreparedImport:
    """An SQL file inserting ``rows`` rows into ``table`` and its PreparedImport."""
    lines = []
    if create:
        lines.append(
            f'CREATE TABLE IF NOT EXISTS "{table}" (id INTEGER PRIMARY KEY, name TEXT NOT NULL);'
        )
    ids = list(range(first_id, first_id + rows))
    for start in range(0, rows, per_statement):
        chunk = ids[start : start + per_statement]
        if with_ids:
            values = ",".join(f"({i}, 'name {i}')" for i in chunk)
            lines.append(f'INSERT INTO "{table}" (id, name) VALUES {values};')
        else:
            values = ",".join(f"('name {i}')" for i in chunk)
            lines.append(f'INSERT INTO "{table}" (name) VALUES {values};')
    lines.extend(extra)
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(data)
    return PreparedImport(
        path=path,
        md5=hashlib.md5(data).hexdigest(),
        size=len(data),
        statements=len(lines),
        rows={table: rows if claim_rows is None else claim_rows},
        source=path.name,
        created_tables=(table,) if create else (),
    )


def sqlite_count(emu: Emulator, database: str, table: str) -> int | None:
    """Rows of ``table`` read straight from the database file (None: no such table)."""
    with sqlite3.connect(emu.database_file(database)) as conn:
        found = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table,)
        ).fetchone()
        if not found:
            return None
        return int(conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0])


def seed(emu: Emulator, database: str, table: str = "items", rows: int = 5) -> None:
    """Create ``table`` with ``rows`` rows directly in the database file."""
    with sqlite3.connect(emu.database_file(database)) as conn:
        conn.execute(f'CREATE TABLE "{table}" (id INTEGER PRIMARY KEY, name TEXT NOT NULL)')
        conn.executemany(
            f'INSERT INTO "{table}" (id, name) VALUES (?, ?)',
            [(1000 + i, f"seed {i}") for i in range(rows)],
        )


def names(events: Iterable[ImportEvent]) -> list[str]:
    """Compact event names: ``StageStarted:upload``, ``UploadProgress`` (runs collapsed)."""
    out: list[str] = []
    for event in events:
        stage = getattr(event, "stage", None)
        name = type(event).__name__ + (f":{stage.value}" if stage is not None else "")
        if not out or out[-1] != name or name.startswith("Stage"):
            out.append(name)
    return out


def outcome(events: list[ImportEvent]) -> ImportSucceeded | ImportFailed:
    """The last event, which must be the single outcome."""
    ends = [e for e in events if isinstance(e, ImportSucceeded | ImportFailed)]
    assert len(ends) == 1 and ends[0] is events[-1], names(events)
    return ends[0]
