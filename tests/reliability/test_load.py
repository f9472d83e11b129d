"""Load: 8 concurrent clients on one emulator, and the client's request rate on a long import.

``D1TUI_LOAD_SECONDS`` sets how long the 8 clients run (10 s by default; 60 for the full run
whose figures are in README.md). Figures go to the JUnit report as properties.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from import_runs import ops
from test_client_helpers import make_client, start_emulator, write_sql

from d1tui.errors import D1Error, ImportBusyError
from d1tui.events import ImportSucceeded, PollResult
from d1tui.importer.run import ImportOptions, run_import

LOAD_SECONDS = float(os.environ.get("D1TUI_LOAD_SECONDS", "10"))
WRITERS = 5  # + 1 reader of metadata + 1 reader of rows + 1 importer = 8 clients
D1_BUDGET = 1200  # requests per 5 minutes, per Cloudflare's API limits


class Tally:
    """Thread-safe counters and the first unexpected error of each client."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.errors: list[str] = []

    def add(self, key: str, n: int = 1) -> None:
        """Count ``n`` more of ``key``."""
        with self.lock:
            self.counts[key] += n

    def fail(self, who: str, error: BaseException) -> None:
        """Remember an unexpected error (the test fails on any)."""
        with self.lock:
            self.errors.append(f"{who}: {type(error).__name__}: {error}")


def run_for(seconds: float, tally: Tally, who: str, step: Callable[[], None]) -> None:
    """Repeat ``step`` until ``seconds`` pass; a refusal during an import is counted, not fatal."""
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        try:
            step()
        except ImportBusyError:
            tally.add("refused while importing")
            time.sleep(0.02)
        except BaseException as error:  # every other error fails the test
            tally.fail(who, error)
            return


def test_eight_concurrent_clients_get_correct_answers_and_lose_nothing(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    emu = start_emulator(tmp_path, hold_seconds=0.2, statements_per_step=50, step_seconds=0.01)
    tally = Tally()
    written = [0] * WRITERS
    imported: list[int] = []
    try:
        emu.create_database("demo")
        with make_client(emu) as setup:
            setup.query(
                "demo", "CREATE TABLE ledger (id INTEGER PRIMARY KEY, who INTEGER, n INTEGER)"
            )

        def writer(k: int) -> Callable[[], None]:
            client = make_client(emu)

            def step() -> None:
                n = written[k] + 1
                client.query("demo", "INSERT INTO ledger VALUES (?, ?, ?)", [k * 10**7 + n, k, n])
                written[k] = n  # only once D1 said yes: a refused insert is tried again
                tally.add("inserts")
                got = client.query(
                    "demo", "SELECT COUNT(*) AS c, MAX(n) AS m FROM ledger WHERE who = ?", [k]
                )
                assert got[0].results == [{"c": n, "m": n}], got[0].results
                tally.add("reads checked")

            return step

        meta = make_client(emu)

        def metadata() -> None:
            assert [d.name for d in meta.list_databases()] == ["demo"]
            assert meta.get_database("demo").name == "demo"
            assert meta.verify_token().status == "active"
            tally.add("metadata calls", 3)

        rows = make_client(emu)

        def reader() -> None:
            answer = rows.raw("demo", "SELECT COUNT(*) FROM ledger")
            assert answer[0].rows[0][0] >= 0
            tables = {t.name for t in rows.list_tables("demo")}
            assert "ledger" in tables
            tally.add("raw reads")

        importer = make_client(emu)
        options = ImportOptions(poll_floor=0.05, max_poll_gap=2.0, busy_wait=10.0)

        def one_import() -> None:
            number = len(imported)
            prepared = write_sql(
                tmp_path / f"bulk{number}.sql",
                table="bulk",
                rows=400,
                per_statement=4,
                first_id=number * 1000 + 1,
            )
            end = list(run_import(importer, "demo", prepared, options=options))[-1]
            assert isinstance(end, ImportSucceeded), getattr(end, "error", end)
            assert [c.ok for c in end.counts] == [True]
            imported.append(400)
            tally.add("imports")

        steps = [(f"writer{k}", writer(k)) for k in range(WRITERS)]
        steps += [("metadata", metadata), ("reader", reader), ("importer", one_import)]
        assert len(steps) == 8
        threads = [
            threading.Thread(target=run_for, args=(LOAD_SECONDS, tally, who, step))
            for who, step in steps
        ]
        start = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(LOAD_SECONDS + 60)
        elapsed = time.monotonic() - start
        assert tally.errors == []
        assert not any(t.is_alive() for t in threads)
        with make_client(emu) as check:
            ledger = check.query("demo", "SELECT who, COUNT(*) AS c FROM ledger GROUP BY who")
            assert {r["who"]: r["c"] for r in ledger[0].results} == {
                k: written[k] for k in range(WRITERS) if written[k]
            }
            assert check.count_rows("demo", ["bulk"]) == {"bulk": sum(imported)}
        assert emu._thread is not None and emu._thread.is_alive()
        assert tally.counts["imports"] >= 2 and tally.counts["inserts"] >= 50
        assert tally.counts["refused while importing"] > 0  # the import really overlapped
        figures = {
            "seconds": round(elapsed, 1),
            "requests": len(emu.requests),
            "inserts": tally.counts["inserts"],
            "reads_checked": tally.counts["reads checked"],
            "imports": tally.counts["imports"],
            "rows_imported": sum(imported),
            "refused_while_importing": tally.counts["refused while importing"],
            "rows_lost": 0,
        }
        for key, value in figures.items():
            record_property(f"load_{key}", value)
        print("load figures:", figures)
    finally:
        emu.stop()


@pytest.mark.parametrize("hold", [1.0, 0.0], ids=["d1-holds-1s", "answers-at-once"])
def test_a_long_import_stays_under_d1s_request_budget(
    tmp_path: Path, hold: float, record_property: Callable[[str, object], None]
) -> None:
    # 20 statements at 0.1 s each: two seconds of polling with the default pacing.
    emu = start_emulator(tmp_path, hold_seconds=hold, statements_per_step=1, step_seconds=0.1)
    try:
        emu.create_database("demo")
        prepared = write_sql(tmp_path / "long.sql", rows=38, per_statement=2)
        with make_client(emu) as client:
            events = list(run_import(client, "demo", prepared, options=ImportOptions()))
        assert isinstance(events[-1], ImportSucceeded)
        polls = [e for e in events if isinstance(e, PollResult)]
        span = polls[-1].timestamp - polls[0].timestamp
        poll_requests = len(ops(emu, "poll"))
        # enough polling to measure a rate; under load the first poll can land late, so the
        # span of two seconds of ingest may measure just under one second
        assert span > 0.5 and poll_requests >= 2
        # The first poll follows the ingest answer at once; the floor paces the rest.
        per_5_min_polling = (poll_requests - 1) / span * 300
        # A five-minute import makes the other calls (init, upload, ingest, counts) once.
        per_5_min_overall = len(emu.requests) - poll_requests + per_5_min_polling
        assert per_5_min_polling <= 600 * 1.1  # the 0.5 s floor: at most ~2 polls a second
        assert per_5_min_overall < D1_BUDGET
        record_property(f"rate_{hold:g}s_hold_polls_per_5min", round(per_5_min_polling))
        record_property(f"rate_{hold:g}s_hold_requests_per_5min", round(per_5_min_overall))
    finally:
        emu.stop()


def test_every_request_counts_against_the_budget(tmp_path: Path) -> None:
    # The emulator sees every call the client makes (the rate figures above rely on it).
    emu = start_emulator(tmp_path)
    try:
        emu.create_database("demo")
        with make_client(emu) as client:
            client.list_databases()
            client.query("demo", "SELECT 1")
            with contextlib.suppress(D1Error):
                client.query("demo", "SELECT * FROM missing")
        assert ops(emu) == ["list", "query", "query"]
    finally:
        emu.stop()
