"""Reliability tier fixtures: a quick emulator with a seeded table and a client for it.

The shared helpers of the client tests (``tests/integration/test_client_helpers.py``) are
reused rather than copied: their folder is put on the import path here.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "integration"))

from seeded import SEEDED
from test_client_helpers import make_client, seed, start_emulator

from d1tui.api.client import D1Client
from d1tui.emulator import Emulator


@pytest.fixture
def emu(tmp_path: Path) -> Iterator[Emulator]:
    """A running emulator (short holds, 3 s no-poll cancel) with ``demo.items`` seeded."""
    emulator = start_emulator(tmp_path, no_poll_timeout=3.0)
    emulator.create_database("demo")
    seed(emulator, "demo", rows=SEEDED)
    yield emulator
    emulator.stop()


@pytest.fixture
def client(emu: Emulator) -> Iterator[D1Client]:
    """A client for ``emu`` with short timeouts and retries."""
    with make_client(emu) as c:
        yield c
