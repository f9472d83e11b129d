"""The CLI process killed mid-import, then run again with the same file: rows land once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from import_runs import assert_rows, ops
from seeded import SEEDED
from test_client_helpers import make_client, seed, start_emulator

from d1tui.cli import main
from d1tui.errors import ImportBusyError

STATEMENTS = 30


def write_dump(path: Path) -> Path:
    """A dump adding 2 rows a statement to ``log`` (no key: a second run would double them)."""
    lines = ["CREATE TABLE IF NOT EXISTS log (msg TEXT NOT NULL);"]
    lines += [f"INSERT INTO log (msg) VALUES ('m{i}a'), ('m{i}b');" for i in range(STATEMENTS)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_cli_killed_mid_poll_then_run_again_imports_each_row_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    emu = start_emulator(tmp_path, statements_per_step=1, step_seconds=0.05, no_poll_timeout=0.6)
    try:
        emu.create_database("demo")
        seed(emu, "demo", rows=SEEDED)
        dump = write_dump(tmp_path / "log.sql")
        env = {
            **os.environ,
            "CLOUDFLARE_API_BASE_URL": emu.base_url,
            "CLOUDFLARE_ACCOUNT_ID": emu.account_id,
            "CLOUDFLARE_API_TOKEN": emu.token,
        }
        command = [sys.executable, "-m", "d1tui", "import", str(dump), "-d", "demo", "--json"]
        proc = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                event = json.loads(line)
                if event.get("type") == "poll_result" and event["status"] == "active":
                    break
            else:
                raise AssertionError(f"no active poll; stderr: {proc.stderr.read()}")  # type: ignore[union-attr]
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.wait(10)
            proc.stdout.close()  # type: ignore[union-attr]
            proc.stderr.close()  # type: ignore[union-attr]
        assert proc.returncode == -signal.SIGKILL
        with make_client(emu) as client:
            # D1 cancels the orphaned import after 0.6 s without polls and rolls it back.
            give_up = time.monotonic() + 5
            while True:
                try:
                    assert client.count_rows("demo", ["log"]) == {"log": 0}
                    break
                except ImportBusyError:
                    assert time.monotonic() < give_up
                    time.sleep(0.1)
            for name, value in env.items():
                if name.startswith("CLOUDFLARE_"):
                    monkeypatch.setenv(name, value)
            assert main(["import", str(dump), "-d", "demo", "--json"]) == 0
            lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
            skipped = [e for e in lines if e.get("type") == "stage_skipped"]
            assert {e["stage"] for e in skipped} >= {"upload", "ingest"}
            result = lines[-1]["result"]
            assert result["success"] is True
            assert result["import"]["counts"] == [
                {
                    "table": "log",
                    "before": 0,
                    "after": 2 * STATEMENTS,
                    "expected": 2 * STATEMENTS,
                    "ok": True,
                }
            ]
            assert ops(emu, "upload") == ["upload"]
            assert_rows(emu, client, 2 * STATEMENTS, table="log")
            assert_rows(emu, client, SEEDED)
    finally:
        emu.stop()
