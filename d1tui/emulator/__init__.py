"""A local, faithful Cloudflare D1 REST API (query, raw, import) over HTTP, backed by SQLite."""

from d1tui.emulator.emulator import Emulator, default_data_dir, serve
from d1tui.emulator.store import StoreError, UnknownDatabaseError

__all__ = ["Emulator", "StoreError", "UnknownDatabaseError", "default_data_dir", "serve"]
