"""The domain layer must stay free of Textual and Rich (checked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys

import pytest

DOMAIN_MODULES = [
    "d1tui.errors",
    "d1tui.events",
    "d1tui.importer.prepared",
    "d1tui.settings.secret",
    "d1tui.api.client",
    "d1tui.importer.run",
    "d1tui.settings.config",
    "d1tui.settings.profile",
    "d1tui.settings.jsonc",
    "d1tui.api.local",
    "d1tui.emulator",
    "d1tui.convert.sql.inserts",
    "d1tui.convert.schema",
    "d1tui.convert.prepare",
    "d1tui.convert.fake.rows",
    "d1tui.convert.sql.dump",
    "d1tui.convert.sql.split",
    "d1tui.convert.readers.sqlite_file",
    "d1tui.convert.preview",
    "d1tui.convert.detect",
    "d1tui.convert.fast.csv_convert",
    "d1tui.convert.fast.ndjson_convert",
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
