"""The Emulator object (in-process, background thread) and the blocking `serve` runner."""

from __future__ import annotations

import os
import secrets
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from d1tui.emulator.api import Backend
from d1tui.emulator.execution import QUERY_TIME_LIMIT
from d1tui.emulator.faults import Faults
from d1tui.emulator.imports import FAILURE_SHAPES, Imports, ImportSettings
from d1tui.emulator.server import EmulatorHTTPServer
from d1tui.emulator.store import Store
from d1tui.emulator.uploads import Uploads

TOKEN_STATUSES = ("active", "expired", "disabled")


def default_data_dir() -> Path:
    """The per-user data directory for the emulator (same place platformdirs would choose).

    ``D1TUI_DATA_DIR`` wins, as in ``d1tui.settings.paths.emulator_data_dir`` (the emulator
    imports nothing of d1tui, so the rule is written here a second time).
    """
    if override := os.environ.get("D1TUI_DATA_DIR"):
        return Path(override)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / "d1tui" / "d1tui" / "emulator"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "d1tui" / "emulator"
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "d1tui" / "emulator"


class Emulator:
    """A local Cloudflare D1 API over real HTTP, backed by real SQLite files.

    `query_time_limit` bounds each /query and /raw request (seconds, D1's 30 by default);
    `upload_retention` keeps an uploaded file that long after its import succeeded, so a rerun
    finds it "already uploaded" as on D1 (0, the default: removed at once; after a failed
    import a file is kept at least 15 minutes, for a rerun to re-attach).
    """

    def __init__(
        self,
        data_dir: Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        account_id: str | None = None,
        hold_seconds: float = 1.0,
        no_poll_timeout: float = 15.0,
        statements_per_step: int | None = None,
        step_seconds: float = 0.0,
        upload_url_ttl: float = 3600.0,
        failure_shape: str = "status_error+errors",
        query_time_limit: float = QUERY_TIME_LIMIT,
        upload_retention: float = 0.0,
    ) -> None:
        if failure_shape not in FAILURE_SHAPES:
            raise ValueError(f"failure_shape must be one of {FAILURE_SHAPES}")
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.host = host
        self._port = port
        self.token = token or secrets.token_urlsafe(30)
        self.account_id = account_id or secrets.token_hex(16)
        self.settings = ImportSettings(
            hold_seconds,
            no_poll_timeout,
            statements_per_step,
            step_seconds,
            failure_shape,
            query_time_limit,
        )
        store = Store(self.data_dir)
        uploads = Uploads(self.data_dir, upload_url_ttl, upload_retention)
        self._backend = Backend(
            store=store,
            imports=Imports(store, uploads, self.settings),
            uploads=uploads,
            settings=self.settings,
            token=self.token,
            account_id=self.account_id,
            token_id=secrets.token_hex(16),
        )
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"Emulator(base_url={self.base_url!r}, account_id={self.account_id!r})"

    # ---- lifecycle ---------------------------------------------------------------------
    def start(self) -> Emulator:
        """Bind the port and serve in a background thread."""
        if self._server is not None:
            return self
        self._server = EmulatorHTTPServer((self.host, self._port), self._backend)
        self._port = int(self._server.server_address[1])
        self._backend.uploads.origin = f"http://{self._url_host()}:{self._port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; running imports are cancelled and rolled back."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(5.0)
        self._backend.imports.stop()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _url_host(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    # ---- facts -------------------------------------------------------------------------
    @property
    def port(self) -> int:
        """The bound port (the requested one before start)."""
        return self._port

    @property
    def base_url(self) -> str:
        """`http://<host>:<port>/client/v4`, the API root clients talk to."""
        return f"http://{self._url_host()}:{self._port}/client/v4"

    @property
    def faults(self) -> Faults:
        """The fault plan: `emu.faults.add(op, kind, ...)`, `emu.faults.clear()`."""
        return self._backend.faults

    @property
    def requests(self) -> list[tuple[str, str, str]]:
        """Every request seen, as (method, op, path)."""
        return self._backend.requests

    @property
    def token_status(self) -> str:
        """ "active", "expired" or "disabled": verify reports it, D1 endpoints refuse the others."""
        return self._backend.token_status

    @token_status.setter
    def token_status(self, value: str) -> None:
        if value not in TOKEN_STATUSES:
            raise ValueError(f"token_status must be one of {TOKEN_STATUSES}")
        self._backend.token_status = value

    @property
    def upload_retention(self) -> float:
        """Seconds an uploaded file is kept after a successful import (0: removed at once)."""
        return self._backend.uploads.retention

    @upload_retention.setter
    def upload_retention(self, seconds: float) -> None:
        self._backend.uploads.retention = seconds

    # ---- in-process conveniences -------------------------------------------------------
    def create_database(self, name: str, location_hint: str | None = None) -> dict[str, Any]:
        """Create a database directly; returns {uuid, name, created_at, version}."""
        record = self._backend.store.create(name, location_hint)
        return {
            "uuid": record.uuid,
            "name": record.name,
            "created_at": record.created_at,
            "version": "production",
        }

    def database_file(self, uuid_or_name: str) -> Path:
        """The real SQLite file behind a database (UnknownDatabaseError, a LookupError, if none)."""
        store = self._backend.store
        return store.file_of(store.find(uuid_or_name).uuid)

    def delete_database(self, uuid_or_name: str) -> None:
        """Delete a database and its file."""
        record = self._backend.store.delete(uuid_or_name)
        self._backend.uploads.remove_for(record.uuid)


def serve(
    host: str = "127.0.0.1",
    port: int = 8787,
    data_dir: Path | None = None,
    token: str | None = None,
    account_id: str | None = None,
) -> None:
    """Run the emulator in the foreground until Ctrl-C, printing how to connect to it."""
    emulator = Emulator(data_dir, host=host, port=port, token=token, account_id=account_id)
    emulator.start()
    try:
        # inside the try: a Ctrl-C that lands while these lines print still stops cleanly
        print("d1tui emulator: a local Cloudflare D1 API (Ctrl-C stops it)", flush=True)
        print(f"  base URL:   {emulator.base_url}", flush=True)
        print(f"  account id: {emulator.account_id}", flush=True)
        print(f"  API token:  {emulator.token}   (shown once; pass it to clients)", flush=True)
        print(f"  data dir:   {emulator.data_dir}", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("stopping…", flush=True)
    finally:
        emulator.stop()
