"""TUI fixtures: an in-process emulator with the demo database, and the app built for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tui_constants import ACCOUNT, FAST, TOKEN

from d1tui.api.local import ensure_demo_database, local_settings, make_client
from d1tui.emulator import Emulator
from d1tui.settings.config import Settings
from d1tui.tui.app import D1TuiApp, make_app


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    """Extra Emulator arguments; a test module overrides this fixture to slow the ingest."""
    return {}


@pytest.fixture
def emulator(tmp_path: Path, emulator_options: dict[str, Any]) -> Iterator[Emulator]:
    """A running emulator (fixed account and token) holding ``demo`` with TargetD1Table."""
    options: dict[str, Any] = {"hold_seconds": 3.0, "no_poll_timeout": 4.0, **emulator_options}
    emu = Emulator(tmp_path / "emulator", token=TOKEN, account_id=ACCOUNT, **options)
    with emu:
        with make_client(local_settings(emu)) as client:
            ensure_demo_database(client)
        yield emu


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current directory for the app: ``data/`` holds the files to import."""
    (tmp_path / "data").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def build_app(emulator: Emulator, workdir: Path) -> Callable[..., D1TuiApp]:
    """Make the app the way the CLI does for ``--local`` (relative dirs keep snapshots stable)."""

    def build(settings: Settings | None = None, **options: Any) -> D1TuiApp:
        options.setdefault("import_options", FAST)
        return make_app(
            settings or local_settings(emulator),
            local_emulator=emulator,
            start_dir=Path("data"),
            log_dir=workdir,
            **options,
        )

    return build
