"""The API token never shows: not in events, errors, reprs, logs or anything printed."""

from __future__ import annotations

import logging
import threading
import traceback
from pathlib import Path

import pytest
from test_client_helpers import FAST_OPTIONS, make_client, seed, start_emulator, write_sql

from d1tui.api.client import D1Client
from d1tui.api.retry import RetryPolicy
from d1tui.errors import D1Error
from d1tui.events import ImportEvent, ImportFailed, PollResult
from d1tui.importer.run import run_import
from d1tui.settings.secret import Secret

TOKEN = "tok-" + "Zq9" * 12  # distinctive, never a substring of anything else


def texts(events: list[ImportEvent]) -> list[str]:
    out: list[str] = []
    for event in events:
        out += [str(event), repr(event)]
        if isinstance(event, ImportFailed):
            error = event.error
            out += [str(error), repr(error), error.describe(), error.hint, repr(error.__dict__)]
            out.append("".join(traceback.format_exception(error)))
    return out


def test_failing_runs_never_reveal_the_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)  # httpx and httpcore log every request at DEBUG
    emu = start_emulator(
        tmp_path, token=TOKEN, statements_per_step=1, step_seconds=0.05, no_poll_timeout=0.5
    )
    seen: list[str] = []
    try:
        emu.create_database("demo")
        seed(emu, "demo", rows=3)
        with make_client(emu) as client:
            seen += [repr(client), str(client), repr(client.__dict__)]
            assert TOKEN not in repr(vars(client))

            # SQL error mid-file, a wrong ETag, 429s and 5xx on the way.
            emu.faults.add("init", "status", status=429, retry_after=0.05)
            emu.faults.add("poll", "status", status=503)
            bad = write_sql(
                tmp_path / "bad.sql",
                rows=30,
                extra=["INSERT INTO items (id, name) VALUES (2, 'dup');"],
            )
            seen += texts(list(run_import(client, "demo", bad, options=FAST_OPTIONS)))
            emu.faults.add("upload", "wrong_etag")
            seen += texts(
                list(
                    run_import(
                        client, "demo", write_sql(tmp_path / "b.sql", rows=5), options=FAST_OPTIONS
                    )
                )
            )

            # A cancel after ingest.
            cancel = threading.Event()
            events: list[ImportEvent] = []
            slow = write_sql(tmp_path / "slow.sql", rows=200, per_statement=10)
            for event in run_import(client, "demo", slow, options=FAST_OPTIONS, cancel=cancel):
                events.append(event)
                if isinstance(event, PollResult):
                    cancel.set()
            seen += texts(events)

            # Refused credentials.
            emu.token_status = "expired"
            seen += texts(list(run_import(client, "demo", bad, options=FAST_OPTIONS)))
            for call in (lambda: client.query("demo", "SELECT 1"), client.verify_token):
                try:
                    call()
                except D1Error as exc:
                    seen += [str(exc), repr(exc), exc.describe()]
            emu.token_status = "active"

        # Nobody listening.
        once = RetryPolicy(max_attempts=2, base=0.01)
        with D1Client(
            "a" * 32, Secret(TOKEN), base_url="http://127.0.0.1:9/client/v4", retry=once
        ) as gone:
            try:
                gone.list_databases()
            except D1Error as exc:
                seen += [
                    str(exc),
                    repr(exc),
                    exc.describe(),
                    "".join(traceback.format_exception(exc)),
                ]
    finally:
        emu.stop()
    captured = capsys.readouterr()
    logged = caplog.text + "\n".join(r.getMessage() + repr(r.args) for r in caplog.records)
    everything = "\n".join(seen) + captured.out + captured.err + logged
    assert "Authentication" in everything and "UNIQUE constraint failed" in everything
    assert "HTTP Request" in logged  # httpx did log the requests...
    assert TOKEN not in everything  # ...and nothing anywhere shows the token
    assert TOKEN[4:20] not in everything
