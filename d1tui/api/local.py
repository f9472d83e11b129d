"""A local emulator as a ready D1: `d1tui --local` and `d1tui import --local`.

Data persists under the user data dir (``D1TUI_DATA_DIR`` overrides it), so what is imported
locally is still there next time. The emulator's account id is kept in that folder so it stays
the same across runs; its token is generated afresh for each run and never written anywhere: it
only guards the port for the life of the process.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from d1tui.api.client import D1Client
from d1tui.emulator import Emulator
from d1tui.errors import D1Error, ExitCode, NotFoundError
from d1tui.settings.config import DEFAULT_BASE_URL, MissingSettingError, Settings, Sourced
from d1tui.settings.paths import emulator_data_dir
from d1tui.settings.secret import Secret

LOCAL = "local emulator"
DEMO_DATABASE = "demo"
DEMO_TABLE_SQL = (
    "CREATE TABLE IF NOT EXISTS TargetD1Table (id INTEGER PRIMARY KEY, text TEXT, date_added TEXT)"
)
DEMO_ROWS = (
    (1, "Hello from the local D1 emulator", "2026-01-05 09:00:00"),
    (2, "Imports here never leave your machine", "2026-01-05 09:01:00"),
    (3, "It's the seed tutorial's table: id, text, date_added", "2026-01-05 09:02:00"),
    (4, "Try: d1tui import data.csv --local --table TargetD1Table", "2026-01-05 09:03:00"),
    (5, "Data persists between runs", "2026-01-05 09:04:00"),
)
ACCOUNT_FILE = "account-id"


def local_data_dir() -> Path:
    """Where the local emulator keeps its databases (``paths.emulator_data_dir``)."""
    return emulator_data_dir()


class DataDirError(D1Error):
    """The data folder of the local emulator cannot be used (a file, not writable…)."""

    title = "Unusable data folder"
    default_hint = "pass --data-dir with a folder you can write to (or set D1TUI_DATA_DIR)"
    exit_code = ExitCode.USAGE


def prepare_data_dir(folder: Path) -> Path:
    """Create ``folder`` if needed; DataDirError naming it when it cannot hold databases."""
    if folder.exists() and not folder.is_dir():
        raise DataDirError(f"{folder} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise DataDirError(f"{folder}: a part of this path is a file, not a folder") from None
    except OSError as exc:
        raise DataDirError(f"{folder} cannot be created: {exc.strerror or exc}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DataDirError(f"{folder} is not writable")
    return folder


def stable_account_id(data_dir: Path) -> str:
    """The account id kept in ``data_dir``, created on first use."""
    path = data_dir / ACCOUNT_FILE
    try:
        saved = path.read_text(encoding="utf-8").strip()
    except OSError:
        saved = ""
    if len(saved) == 32:
        return saved
    account = secrets.token_hex(16)
    path.write_text(account + "\n", encoding="utf-8")
    return account


def local_settings(emu: Emulator, database: str = DEMO_DATABASE) -> Settings:
    """Settings that point at a running emulator, every value sourced "local emulator"."""
    return Settings(
        account_id=Sourced(emu.account_id, LOCAL),
        token=Sourced(Secret(emu.token), LOCAL),
        database=Sourced(database, LOCAL),
        base_url=Sourced(emu.base_url, LOCAL),
        local=True,
    )


def ensure_demo_database(client: D1Client) -> str:
    """Make sure ``demo`` exists; a newly created one gets ``TargetD1Table`` and a few rows."""
    try:
        return client.get_database(DEMO_DATABASE).uuid
    except NotFoundError:
        pass
    uuid = client.create_database(DEMO_DATABASE).uuid
    client.query(uuid, DEMO_TABLE_SQL)
    values = ", ".join("(?, ?, ?)" for _ in DEMO_ROWS)
    params = [value for row in DEMO_ROWS for value in row]
    client.query(uuid, f"INSERT INTO TargetD1Table (id, text, date_added) VALUES {values}", params)
    return uuid


@contextmanager
def local_emulator(
    data_dir: Path | None = None, **emulator_kwargs: Any
) -> Iterator[tuple[Emulator, Settings]]:
    """Run the in-process emulator with the ``demo`` database; yield it and Settings for it.

    ``emulator_kwargs`` go to :class:`Emulator` (tests pass a short ``hold_seconds``).
    """
    folder = prepare_data_dir(local_data_dir() if data_dir is None else data_dir)
    emulator_kwargs.setdefault("account_id", stable_account_id(folder))
    with Emulator(folder, **emulator_kwargs) as emu:
        settings = local_settings(emu)
        with make_client(settings) as client:
            ensure_demo_database(client)
        yield emu, settings


def make_client(settings: Settings) -> D1Client:
    """A :class:`D1Client` for ``settings``; ``MissingSettingError`` without account/token."""
    missing = settings.missing()
    if missing:
        raise MissingSettingError("no " + " and no ".join(missing) + " found")
    assert settings.account_id.value is not None and settings.token.value is not None
    return D1Client(
        settings.account_id.value,
        settings.token.value,
        base_url=settings.base_url.value or DEFAULT_BASE_URL,
    )
