"""``d1tui --local`` with the emulator started after the first paint, not before it."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from d1tui.settings.config import Settings, Sourced

LOCAL = "local emulator"

LocalStart = Callable[[], AbstractContextManager[tuple[Any, Settings]]]


def pending_settings(database: str | None = None) -> Settings:
    """What the app shows until the emulator answers: local, values still to come."""
    return Settings(
        account_id=Sourced(None, LOCAL),
        token=Sourced(None, LOCAL),
        database=Sourced(database or "demo", "--database flag" if database else LOCAL),
        base_url=Sourced(None, LOCAL),
        local=True,
    )


def run_local_app(
    data_dir: Path | None = None,
    database: str | None = None,
    emulator_kwargs: dict[str, Any] | None = None,
    **options: Any,
) -> int:
    """Paint the app at once; start the emulator (and its demo database) in a worker."""
    from d1tui.tui.app import run_app  # noqa: PLC0415 - Textual loads once, here

    def start() -> AbstractContextManager[tuple[Any, Settings]]:
        from d1tui.api.local import local_emulator  # noqa: PLC0415 - runs in the worker

        return local_emulator(data_dir, **(emulator_kwargs or {}))

    return run_app(pending_settings(database), local_start=start, **options)
