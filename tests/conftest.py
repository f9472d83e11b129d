"""Suite-wide fixtures: a deterministic, isolated environment for every test."""

from __future__ import annotations

from pathlib import Path

import pytest

# Variables that change how Textual renders or where d1tui looks for settings.
_ISOLATED_VARS = (
    "NO_COLOR",
    "TEXTUAL_THEME",
    "CLOUDFLARE_API_TOKEN",
    "CLOUDFLARE_ACCOUNT_ID",
    "CLOUDFLARE_DATABASE_ID",
    "CLOUDFLARE_API_BASE_URL",
    "CF_API_TOKEN",
    "CF_ACCOUNT_ID",
    "CF_DATABASE_ID",
)


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Clear credential/rendering variables and point config and data dirs at a temp home."""
    for name in _ISOLATED_VARS:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    # Never touch the machine's real secret store from a test.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    return home
