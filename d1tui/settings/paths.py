"""Every directory d1tui uses, in one place: config, state, and the local emulator's data.

Each honours an environment override first (``D1TUI_CONFIG_DIR``, ``D1TUI_STATE_DIR``,
``D1TUI_DATA_DIR``), then the platform's per-user folder as platformdirs names it.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "d1tui"


def _override(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def config_dir() -> Path:
    """Where ``profile.json`` lives (``D1TUI_CONFIG_DIR`` or the user config dir)."""
    return _override("D1TUI_CONFIG_DIR") or platformdirs.user_config_path(APP)


def state_dir() -> Path:
    """What d1tui remembers between runs, e.g. import records (``D1TUI_STATE_DIR`` or the user
    state dir)."""
    return _override("D1TUI_STATE_DIR") or platformdirs.user_state_path(APP)


def import_records_dir() -> Path:
    """Where each import records what it is about to do (see ``importer.records``)."""
    return state_dir() / "imports"


def emulator_data_dir() -> Path:
    """Where the local emulator keeps its databases (``D1TUI_DATA_DIR`` or the user data dir).

    ``d1tui.emulator.default_data_dir`` computes the same folder with the standard library
    only, because the emulator imports nothing of the rest of d1tui.
    """
    return _override("D1TUI_DATA_DIR") or platformdirs.user_data_path(APP) / "emulator"
