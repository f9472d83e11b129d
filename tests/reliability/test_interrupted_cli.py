"""The CLI process killed mid-import, then run again with the same file: rows land once.

Killed while D1 still imports, the import is either rolled back (no polls) or committed (it
finished first). A rerun of the same file finds the killed run's record and the counts tell
which: rolled back, it imports; committed, it refuses (``--force`` imports again on purpose).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from import_runs import assert_rows, ops
from seeded import SEEDED
from test_client_helpers import make_client, seed, start_emulator

from d1tui.api.client import D1Client
from d1tui.cli import main
from d1tui.emulator import Emulator
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
        env = env_for(emu)
        command = [sys.executable, "-m", "d1tui", "import", str(dump), "-d", "demo", "--json"]
        kill_after_ingest(command, env)
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


def env_for(emu: Emulator) -> dict[str, str]:
    """The environment of a CLI run against ``emu`` (the test's own home and state dir)."""
    return {
        **os.environ,
        "CLOUDFLARE_API_BASE_URL": emu.base_url,
        "CLOUDFLARE_ACCOUNT_ID": emu.account_id,
        "CLOUDFLARE_API_TOKEN": emu.token,
    }


def kill_after_ingest(command: list[str], env: dict[str, str]) -> None:
    """Run the CLI until D1 has started the import (first active poll), then SIGKILL it."""
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


def wait_until_free(client: D1Client) -> None:
    """Until the orphaned import has ended (D1 refuses queries while it runs); bounded."""
    give_up = time.monotonic() + 30
    while True:
        try:
            client.count_rows("demo", ["log"])
            return
        except ImportBusyError:
            assert time.monotonic() < give_up, "the orphaned import never ended"
            time.sleep(0.1)


def messages(emu: Emulator) -> list[str]:
    """The ``log`` table's rows, straight from the SQLite file, in insertion order."""
    with sqlite3.connect(emu.database_file("demo")) as conn:
        return [m for (m,) in conn.execute("SELECT msg FROM log ORDER BY rowid")]


ONCE = [f"m{i}{x}" for i in range(STATEMENTS) for x in "ab"]


def test_a_killed_import_that_committed_is_not_doubled_by_a_rerun_and_force_doubles_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # D1 keeps an orphaned import for 30 s without polls: this one (1.5 s) commits.
    emu = start_emulator(tmp_path, statements_per_step=1, step_seconds=0.05, no_poll_timeout=30)
    try:
        emu.create_database("demo")
        dump = write_dump(tmp_path / "log.sql")
        env = env_for(emu)
        command = [sys.executable, "-m", "d1tui", "import", str(dump), "-d", "demo", "--json"]
        kill_after_ingest(command, env)
        for name, value in env.items():
            if name.startswith("CLOUDFLARE_"):
                monkeypatch.setenv(name, value)
        with make_client(emu) as client:
            wait_until_free(client)
            assert messages(emu) == ONCE  # the orphan committed
            inits = len(ops(emu, "init"))

            # Run again: refused, saying what happened; nothing sent, every row once.
            assert main(["import", str(dump), "-d", "demo", "--yes"]) == 6
            err = capsys.readouterr().err
            assert (
                "✘ Already imported: an earlier import of log.sql into demo was interrupted" in err
            )
            assert f"it committed {2 * STATEMENTS} rows (log: 0 → {2 * STATEMENTS})" in err
            assert "run with --force to import the file again" in err
            assert messages(emu) == ONCE

            # The same refusal as JSON: the earlier import's verdict, then the failure.
            assert main(["import", str(dump), "-d", "demo", "--json"]) == 6
            lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
            earlier = [e for e in lines if e.get("type") == "earlier_import"]
            assert [(e["verdict"], e["forced"], e["database"]) for e in earlier] == [
                ("committed", False, "demo")
            ]
            failed = [e for e in lines if e.get("type") == "import_failed"]
            assert failed[0]["error"]["type"] == "EarlierImportError"
            assert failed[0]["database"] == "not started"
            assert lines[-1]["result"]["exit_code"] == 6
            assert len(ops(emu, "init")) == inits  # neither run sent anything
            assert messages(emu) == ONCE

            # --force: imported again on purpose, every row twice.
            assert main(["import", str(dump), "-d", "demo", "--yes", "--force"]) == 0
            out = capsys.readouterr().out
            assert "committed; importing again as --force asks" in out
            assert messages(emu) == ONCE + ONCE
            assert client.count_rows("demo", ["log"]) == {"log": 4 * STATEMENTS}

            # That run finished: its record no longer stands in the way of another.
            assert main(["import", str(dump), "-d", "demo", "--yes"]) == 0
            assert messages(emu) == ONCE * 3
    finally:
        emu.stop()


def test_a_killed_import_still_running_is_waited_for_not_doubled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    emu = start_emulator(tmp_path, statements_per_step=1, step_seconds=0.3, no_poll_timeout=30)
    try:
        emu.create_database("demo")
        dump = write_dump(tmp_path / "log.sql")
        env = env_for(emu)
        command = [sys.executable, "-m", "d1tui", "import", str(dump), "-d", "demo", "--json"]
        kill_after_ingest(command, env)
        for name, value in env.items():
            if name.startswith("CLOUDFLARE_"):
                monkeypatch.setenv(name, value)
        # At once, while D1 still runs the orphan (9 s): told to wait; nothing sent.
        assert main(["import", str(dump), "-d", "demo", "--yes", "--force"]) == 5
        err = capsys.readouterr().err
        assert "an earlier import of log.sql into demo (started" in err
        assert "is still running" in err
        with make_client(emu) as client:
            wait_until_free(client)
        assert messages(emu) == ONCE
    finally:
        emu.stop()
