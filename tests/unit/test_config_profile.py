"""Saved profile: lowest precedence; token in the keyring or an opt-in 0600 file, never in JSON."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from d1tui.settings.config import forget_profile, load_profile, resolve_settings, save_profile
from d1tui.settings.profile import ProfileError, profile_dir

TOKEN = "profile-token-s3cret"


class MemoryKeyring(KeyringBackend):
    """A keyring that keeps passwords in a dict (the real OS store must not be touched)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.store.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


class BrokenKeyring(MemoryKeyring):
    """A keyring whose backend is missing (like a headless Linux box without a secret service)."""

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.NoKeyringError("no backend")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.NoKeyringError("no backend")


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)


def settings_with_token(tmp_path: Path):
    return resolve_settings(
        cwd=tmp_path,
        env={"CLOUDFLARE_API_TOKEN": TOKEN, "CLOUDFLARE_ACCOUNT_ID": "a" * 32},
        database="db1",
        use_profile=False,
    )


def test_profile_round_trip_through_keyring(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    path = save_profile(settings_with_token(tmp_path), remember_token=True)
    assert path.parent == profile_dir()
    assert TOKEN not in path.read_text()
    assert json.loads(path.read_text())["account_id"] == "a" * 32
    assert memory_keyring.store[("d1tui", "api-token")] == TOKEN
    s = resolve_settings(cwd=tmp_path, env={})
    assert (s.account_id.value, s.account_id.source) == ("a" * 32, "saved profile")
    assert (s.database.value, s.database.source) == ("db1", "saved profile")
    assert s.token.value is not None and s.token.value.reveal() == TOKEN
    assert s.token.source == "saved profile (keyring)"
    assert s.base_url.source == "default"


def test_profile_is_the_lowest_precedence(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    save_profile(settings_with_token(tmp_path), remember_token=True)
    (tmp_path / "wrangler.toml").write_text('account_id = "from-wrangler"\n')
    s = resolve_settings(cwd=tmp_path, env={"CLOUDFLARE_API_TOKEN": "env-token"})
    assert s.account_id.value == "from-wrangler"
    assert s.token.value.reveal() == "env-token"
    assert s.database.source == "saved profile"


def test_token_not_saved_unless_asked(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    save_profile(settings_with_token(tmp_path), remember_token=False)
    assert memory_keyring.store == {}
    assert resolve_settings(cwd=tmp_path, env={}).token.value is None


def test_opt_in_token_file_is_0600_and_profile_json_has_no_token(tmp_path: Path) -> None:
    path = save_profile(settings_with_token(tmp_path), remember_token=True, token_file=True)
    token_file = path.parent / "token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert TOKEN not in path.read_text()
    s = resolve_settings(cwd=tmp_path, env={})
    assert s.token.value.reveal() == TOKEN and s.token.source == "saved profile (token file)"
    removed = forget_profile()
    assert str(token_file) in removed and not token_file.exists() and not path.exists()
    assert load_profile() is None


def test_keyring_without_backend_is_a_clear_error(tmp_path: Path) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(BrokenKeyring())
    try:
        with pytest.raises(ProfileError) as info:
            save_profile(settings_with_token(tmp_path), remember_token=True)
        assert "keyring" in info.value.detail and "--token-file" in info.value.hint
        assert TOKEN not in info.value.describe()
    finally:
        keyring.set_keyring(previous)


def test_null_keyring_that_silently_drops_is_detected(tmp_path: Path) -> None:
    # The suite runs with keyring.backends.null.Keyring, which accepts and forgets everything.
    with pytest.raises(ProfileError):
        save_profile(settings_with_token(tmp_path), remember_token=True)


def test_unreadable_keyring_leaves_token_unset_with_a_note(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    save_profile(settings_with_token(tmp_path), remember_token=True)
    keyring.set_keyring(BrokenKeyring())
    profile = load_profile()
    assert profile is not None and "token" not in profile and "keyring" in profile["token_note"]
    assert resolve_settings(cwd=tmp_path, env={}).token.value is None


def test_forget_removes_keyring_entry(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    save_profile(settings_with_token(tmp_path), remember_token=True)
    forget_profile()
    assert memory_keyring.store == {}
    assert resolve_settings(cwd=tmp_path, env={}).account_id.value is None
