"""The smaller commands: --help that teaches, config with sources, emulator, the TUI entry."""

from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from d1tui.api.client import D1Client
from d1tui.api.local import local_emulator
from d1tui.cli import main
from d1tui.cli.deps import Deps
from d1tui.settings.config import Settings
from d1tui.settings.secret import Secret

FAST = {"hold_seconds": 0.2, "no_poll_timeout": 5.0}


def test_main_help_teaches_examples_settings_and_exit_codes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "d1tui --local" in out
    assert "CLOUDFLARE_API_TOKEN" in out and "wrangler.toml" in out
    for code in (
        "0  done",
        "2  usage",
        "3  bad input",
        "4  authentication",
        "5  API failure",
        "6  import failed",
        "7  cancelled",
    ):
        assert code in out


def test_import_help_lists_exit_codes_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "--help"]) == 0
    out = capsys.readouterr().out
    assert "exit codes:" in out and "6  import failed" in out and "--json" in out
    assert "--token-stdin" in out and "--local" in out


def test_unknown_flag_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "x.csv", "--bogus"]) == 2
    assert "--bogus" in capsys.readouterr().err


def test_token_is_never_a_plain_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "x.csv", "--token", "abc"]) == 2


def test_config_shows_sources_and_masks_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("CLOUDFLARE_ACCOUNT_ID=" + "d" * 32 + "\n")
    (tmp_path / "wrangler.toml").write_text(
        '[[d1_databases]]\nbinding = "DB"\ndatabase_name = "app"\ndatabase_id = "uuid-app"\n'
    )
    monkeypatch.setenv("CF_API_TOKEN", "very-secret-token-value")
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "very-secret" not in out and "••••••••" in out
    assert "(env CF_API_TOKEN)" in out and "(.env)" in out and "(wrangler.toml)" in out
    assert "uuid-app" in out
    assert main(["config", "--json", "--database", "DB"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["database"] == {"value": "uuid-app", "source": "--database flag → wrangler.toml"}
    assert data["API token"]["value"] == "••••••••"


def test_config_token_from_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO("piped-token-123\n"))
    assert main(["config", "--token-stdin", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["API token"] == {"value": "••••••••", "source": "--token-stdin"}


def test_config_save_with_token_file_then_forget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("D1TUI_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "to-be-saved-token")
    argv = ["config", "--account", "e" * 32, "--save", "--remember-token", "--token-file"]
    assert main(argv) == 0
    assert (tmp_path / "cfg" / "token").stat().st_mode & 0o777 == 0o600
    assert "to-be-saved-token" not in (tmp_path / "cfg" / "profile.json").read_text()
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    capsys.readouterr()
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "saved profile (token file)" in out and "to-be-saved" not in out
    assert main(["config", "--forget"]) == 0
    assert not (tmp_path / "cfg" / "token").exists()


def test_config_save_token_without_keyring_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("D1TUI_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "keyring-less-token")
    assert main(["config", "--save", "--remember-token"]) == 2
    err = capsys.readouterr().err
    assert "keyring" in err and "Traceback" not in err and "keyring-less" not in err


def test_emulator_command_serves_with_the_token_from_env(tmp_path: Path) -> None:
    env = {**os.environ, "D1TUI_EMULATOR_TOKEN": "emu-token-42", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "d1tui",
            "emulator",
            "--port",
            "0",
            "--data-dir",
            str(tmp_path),
            "--account-id",
            "f" * 32,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        base_url = ""
        assert proc.stdout is not None
        for line in proc.stdout:
            if "base URL:" in line:
                base_url = line.split("base URL:")[1].strip()
                break
        assert base_url.startswith("http://127.0.0.1:")
        with D1Client("f" * 32, Secret("emu-token-42"), base_url=base_url) as client:
            assert client.create_database("served").name == "served"
            assert [d.name for d in client.list_databases()] == ["served"]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    assert proc.returncode == 0


def test_local_tui_entry_paints_first_and_hands_over_the_emulator_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def fake_run_app(settings: Settings, **kwargs: Any) -> int:
        seen["pending"] = settings
        # The app enters this after its first paint; here it is entered at once.
        with kwargs["local_start"]() as (emu, local):
            seen["settings"] = local
            with D1Client(emu.account_id, Secret(emu.token), base_url=emu.base_url) as client:
                seen["databases"] = [d.name for d in client.list_databases()]
        return 0

    # The TUI itself is tested by its owner; here only what the CLI hands it matters.
    stand_in = types.ModuleType("d1tui.tui.app")
    stand_in.run_app = fake_run_app  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "d1tui.tui.app", stand_in)
    deps = Deps(emulator_kwargs={"hold_seconds": 0.2})
    assert main(["--local", "--data-dir", str(tmp_path), "--database", "scratch"], deps=deps) == 0
    pending = seen["pending"]
    assert pending.local and pending.token.value is None
    assert (pending.database.value, pending.database.source) == ("scratch", "--database flag")
    settings = seen["settings"]
    assert settings.local and settings.database.value == "demo"
    assert settings.token.source == "local emulator" and settings.token.value
    assert seen["databases"] == ["demo"]


def test_headless_commands_do_not_import_textual(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from d1tui.cli import main\n"
        "main(['config'])\n"
        "main(['import', '--help'])\n"
        "print('LEAK' if any(m.split('.')[0] in ('textual', 'rich') for m in sys.modules)"
        " else 'CLEAN')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert out.stdout.strip().splitlines()[-1] == "CLEAN"


def test_local_emulator_seeds_demo_once_and_keeps_the_account(tmp_path: Path) -> None:
    folder = tmp_path / "persist"
    with local_emulator(folder, **FAST) as (emu, settings):
        account = emu.account_id
        assert settings.local and settings.account_id.source == "local emulator"
        assert settings.database.value == "demo"
        con = sqlite3.connect(emu.database_file("demo"))
        assert con.execute("SELECT COUNT(*) FROM TargetD1Table").fetchone() == (5,)
        con.execute("DELETE FROM TargetD1Table")
        con.commit()
        con.close()
    with local_emulator(folder, **FAST) as (emu2, _):
        assert emu2.account_id == account
        con = sqlite3.connect(emu2.database_file("demo"))
        assert con.execute("SELECT COUNT(*) FROM TargetD1Table").fetchone() == (0,)
        con.close()
