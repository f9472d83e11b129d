"""The domain layer must stay free of Textual and Rich (checked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys

import pytest

DOMAIN_MODULES = [
    "d1tui.d1.errors",
    "d1tui.d1.events",
    "d1tui.d1.prepared",
    "d1tui.d1.secret",
    "d1tui.d1.client",
    "d1tui.d1.importer",
    "d1tui.config",
    "d1tui.profile",
    "d1tui.jsonc",
    "d1tui.local",
    "d1tui.emulator",
    "d1tui.data.sqlgen",
    "d1tui.data.schema",
    "d1tui.data.prepare",
    "d1tui.data.fake",
    "d1tui.data.sqldump",
    "d1tui.data.sqlsplit",
    "d1tui.data.sqlite_reader",
    "d1tui.data.preview",
    "d1tui.data.formats",
    "d1tui.data.fastcsv",
    "d1tui.data.fastndjson",
    # The headless commands must not pay for (or depend on) Textual either.
    "d1tui.cli.import_cmd",
    "d1tui.cli.convert_cmd",
    "d1tui.cli.fake_cmd",
]


@pytest.mark.parametrize("module", DOMAIN_MODULES)
def test_domain_module_does_not_import_textual_or_rich(module: str) -> None:
    code = (
        "import importlib, sys\n"
        f"importlib.import_module({module!r})\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{module} pulls in {out.stdout.strip()}"
