"""The saved profile: account, database and endpoint in a JSON file; the token in the OS keyring.

The token is never written to ``profile.json``. It goes to the OS secret store through
``keyring`` (service ``d1tui``), or, only when the user asks for it, to a separate file readable by
the owner alone (mode 0600).
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from d1tui.errors import D1Error, ExitCode
from d1tui.settings.paths import config_dir

if TYPE_CHECKING:
    from d1tui.settings.config import Settings

KEYRING_SERVICE = "d1tui"
KEYRING_USER = "api-token"
PROFILE_FILE = "profile.json"
TOKEN_FILE = "token"
SOURCE = "saved profile"


class ProfileError(D1Error):
    """The profile or the token could not be saved or read."""

    title = "Profile not saved"
    default_hint = (
        "no working OS keyring was found; install one (e.g. gnome-keyring, or "
        "`pip install keyrings.alt`), keep the token in CLOUDFLARE_API_TOKEN, or opt into a "
        "private token file with --token-file"
    )
    exit_code = ExitCode.USAGE


def profile_dir() -> Path:
    """The folder holding ``profile.json`` (``D1TUI_CONFIG_DIR`` overrides the platform's)."""
    return config_dir()


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to a file only its owner can read, whatever its mode was before."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)


def save_profile(settings: Settings, *, remember_token: bool, token_file: bool = False) -> Path:
    """Save account, database and base URL; the token too when ``remember_token`` is set.

    The token goes to the OS keyring, or to a 0600 file when ``token_file`` is set. Returns the
    path of ``profile.json``. Raises ``ProfileError`` when the keyring cannot keep the token.
    """
    folder = profile_dir()
    token = settings.token.value
    store: str | None = None
    if remember_token and token:
        if token_file:
            _write_private(folder / TOKEN_FILE, token.reveal() + "\n")
            store = "file"
        else:
            _keyring_set(token.reveal())
            store = "keyring"
    if store != "file":
        (folder / TOKEN_FILE).unlink(missing_ok=True)
    data: dict[str, Any] = {
        "account_id": settings.account_id.value,
        "database": settings.database.value,
        "base_url": settings.base_url.value if settings.base_url.source != "default" else None,
        "token_store": store,
    }
    path = folder / PROFILE_FILE
    _write_private(path, json.dumps(data, indent=2) + "\n")
    return path


def load_profile() -> dict[str, str] | None:
    """Read the saved profile: values under their field names and ``source_<field>`` labels.

    Returns None when nothing is saved. A keyring that cannot be read leaves the token unset and
    explains why under ``token_note``.
    """
    folder = profile_dir()
    try:
        data = json.loads((folder / PROFILE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    found: dict[str, str] = {}
    for field in ("account_id", "database", "base_url"):
        if isinstance(data.get(field), str) and data[field]:
            found[field] = data[field]
            found["source_" + field] = SOURCE
    store = data.get("token_store")
    if store == "file":
        with contextlib.suppress(OSError):
            token = (folder / TOKEN_FILE).read_text(encoding="utf-8").strip()
            if token:
                found["token"] = token
                found["source_token"] = f"{SOURCE} (token file)"
    elif store == "keyring":
        try:
            saved = _keyring_get()
        except ProfileError as exc:
            found["token_note"] = exc.detail
        else:
            if saved:
                found["token"] = saved
                found["source_token"] = f"{SOURCE} (keyring)"
    return found


def forget_profile() -> list[str]:
    """Delete the profile, the token file and the keyring entry; say what was removed."""
    folder = profile_dir()
    removed = []
    for name in (PROFILE_FILE, TOKEN_FILE):
        path = folder / name
        if path.exists():
            path.unlink()
            removed.append(str(path))
    try:
        if _keyring_get():
            _keyring().delete_password(KEYRING_SERVICE, KEYRING_USER)
            removed.append(f"keyring entry {KEYRING_SERVICE}/{KEYRING_USER}")
    except Exception:  # no keyring: nothing to forget there
        pass
    return removed


def _keyring() -> ModuleType:
    """The keyring module, imported on first use: it costs ~0.4 s of start-up."""
    import keyring  # noqa: PLC0415

    return keyring


def _keyring_get() -> str | None:
    try:
        value: str | None = _keyring().get_password(KEYRING_SERVICE, KEYRING_USER)
    except Exception as exc:  # keyring backends raise many kinds (dbus, NoKeyringError …)
        raise ProfileError(f"the OS keyring could not be read ({type(exc).__name__})") from None
    return value


def _keyring_set(token: str) -> None:
    try:
        _keyring().set_password(KEYRING_SERVICE, KEYRING_USER, token)
        stored = _keyring().get_password(KEYRING_SERVICE, KEYRING_USER)
    except Exception as exc:  # keyring backends raise many kinds (dbus, NoKeyringError …)
        raise ProfileError(f"the OS keyring refused the token ({type(exc).__name__})") from None
    if stored != token:
        raise ProfileError("no OS keyring is available to keep the token")
