"""Constants the TUI tests share (a plain module: ``conftest`` is ambiguous across folders)."""

from __future__ import annotations

from d1tui.importer.run import ImportOptions

ACCOUNT = "0123456789abcdef0123456789abcdef"
TOKEN = "tui-test-token-0123456789abcdefghijklmnop"
SIZE = (100, 30)

FAST = ImportOptions(progress_interval=0.02, rollback_wait=4.5, max_poll_gap=0.5)
