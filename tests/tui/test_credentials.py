"""The credentials screen: sources shown, token masked and revealed, palette commands."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace

import httpx
import keyring
import keyring.backend
import pytest
from pilot_steps import wait_until
from textual.widgets import Checkbox, Input

from d1tui.api.local import local_emulator, local_settings
from d1tui.tui.app import make_app
from d1tui.tui.local_start import pending_settings
from d1tui.tui.screens.credentials import CredentialsScreen
from d1tui.tui.screens.source import SourceScreen
from d1tui.tui.widgets.database_picker import DatabasePicker


async def test_token_is_masked_until_revealed_and_sources_are_shown(build_app, emulator) -> None:
    app = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, CredentialsScreen)
        token = screen.query_one("#token", Input)
        assert token.password
        assert "from local emulator" in str(screen.query_one("#account-source").render())
        assert emulator.token not in str(token.render())
        await pilot.press("ctrl+r")
        assert not token.password
        await pilot.press("ctrl+r")
        assert token.password


async def test_palette_verifies_the_token(build_app, emulator) -> None:
    app = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, CredentialsScreen)
        await pilot.press("ctrl+p")
        await pilot.press(*"verify token")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.verified is not None)
        assert ("GET", "list") in {(m, op) for m, op, _ in emulator.requests}


async def test_typing_filters_the_database_picker(build_app, emulator) -> None:
    emulator.create_database("prod-users")
    emulator.create_database("prod-orders")
    app = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+v")
        picker = app.screen.query_one(DatabasePicker)
        await wait_until(pilot, lambda: len(picker.shown) == 3)
        app.screen.query_one("#db-filter", Input).focus()
        await pilot.press(*"prod")
        await wait_until(pilot, lambda: len(picker.shown) == 2)
        await pilot.press("down")
        assert picker.highlighted is not None and picker.highlighted.name == "prod-users"
        await pilot.press("up")
        assert picker.highlighted is not None and picker.highlighted.name == "prod-orders"
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SourceScreen))
        assert app.session.database is not None and app.session.database.name == "prod-orders"


class _MemoryKeyring(keyring.backend.KeyringBackend):
    """An in-memory secret store: the OS keyring cannot be real in a test."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.saved: dict[tuple[str, str], str] = {}

    def set_password(self, service: str, username: str, password: str) -> None:
        self.saved[(service, username)] = password

    def get_password(self, service: str, username: str) -> str | None:
        return self.saved.get((service, username))

    def delete_password(self, service: str, username: str) -> None:
        self.saved.pop((service, username), None)


async def test_remember_keeps_the_token_in_the_keyring_only(
    build_app, emulator, tmp_path, monkeypatch
) -> None:
    config = tmp_path / "config"
    monkeypatch.setenv("D1TUI_CONFIG_DIR", str(config))
    store = _MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(store)
    try:
        app = build_app(settings=replace(local_settings(emulator), local=False))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("ctrl+v")
            screen = app.screen
            assert isinstance(screen, CredentialsScreen)
            await wait_until(pilot, lambda: screen.verified is not None)
            screen.query_one("#remember", Checkbox).value = True
            await pilot.press("ctrl+n")
            await wait_until(pilot, (config / "profile.json").exists)
            await wait_until(pilot, lambda: any("saved" in n.message for n in app._notifications))
    finally:
        keyring.set_keyring(previous)
    assert emulator.token in store.saved.values()
    for path in config.rglob("*"):
        assert emulator.token not in path.read_text(encoding="utf-8")
    assert emulator.account_id in (config / "profile.json").read_text(encoding="utf-8")


async def test_local_emulator_starts_after_the_first_paint(tmp_path) -> None:
    """run_local_app's way: the screen is up before the emulator, then filled in and usable."""

    started = []

    def start():
        started.append(True)
        return local_emulator(tmp_path / "emu", hold_seconds=0.05)

    app = make_app(pending_settings(), local_start=start, start_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, CredentialsScreen)
        await wait_until(pilot, lambda: not app.starting_local, timeout=10)
        assert started and app.local_emulator is not None
        assert screen.query_one("#account", Input).value == app.local_emulator.account_id
        assert screen.query_one("#token", Input).value == app.local_emulator.token
        await pilot.press("ctrl+v")
        await wait_until(pilot, lambda: screen.verified is not None, timeout=10)
        assert [d.name for d in screen.query_one(DatabasePicker).databases] == ["demo"]
    emu = app.local_emulator
    # The emulator stopped with the app: its port no longer answers.
    with pytest.raises(httpx.ConnectError):
        httpx.get(emu.base_url + "/accounts", timeout=2)


async def test_quitting_while_the_emulator_starts_stops_it(tmp_path) -> None:
    """An app that ends before the emulator is up still stops it (the process could hang)."""

    release = threading.Event()
    emulators = []

    class Slow:
        def __enter__(self):
            release.wait(10)
            self.inner = local_emulator(tmp_path / "emu", hold_seconds=0.05)
            emu, settings = self.inner.__enter__()
            emulators.append(emu)
            return emu, settings

        def __exit__(self, *exc):
            return self.inner.__exit__(*exc)

    app = make_app(pending_settings(), local_start=Slow, start_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.2)
        assert app.starting_local
        threading.Timer(0.3, release.set).start()
    for _ in range(100):
        if emulators:
            break
        await asyncio.sleep(0.05)
    with pytest.raises(httpx.ConnectError):
        httpx.get(emulators[0].base_url + "/accounts", timeout=2)
