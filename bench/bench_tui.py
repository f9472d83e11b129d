"""TUI benchmark: key-press latency during a big import, and first paint against bare Textual.

* Latency: the real app (Pilot, 100×30) imports ``--rows`` fake rows into the local emulator's
  TargetD1Table; while the import screen streams events, a key (``s``, save log) is sent through
  the driver every 0.25 s and the time until its action has run is recorded. Median and p90.
* Start-up: child processes (a bare Textual app; d1tui with the emulator started before the app,
  and after its first paint) report the seconds from launch to their first painted screen, and
  to the moment the emulator's values are filled in; medians and ratios to the bare app.

Results go to ``bench/results/tui.md``::

    python bench/bench_tui.py                 # 1,000,000 rows, 5 start-ups each
    python bench/bench_tui.py --rows 100000 --startups 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from textual import events

from d1tui.api.local import local_emulator
from d1tui.convert.target import FakeSpec
from d1tui.tui.app import make_app
from d1tui.tui.screens.importing import ImportScreen
from d1tui.tui.session import Source, TargetChoice

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "tui.md"

# Each child prints the seconds from its launch (argv[1], the parent's time.time()) to the
# moment its first screen is up (Textual's Ready; for "ready", the emulator's values are filled).
BARE = """
import sys, time
from textual.app import App
from textual.widgets import Footer, Static
class Bare(App):
    def compose(self):
        yield Static("hello"); yield Footer()
    def on_ready(self):
        print(time.time() - float(sys.argv[1])); self.exit()
Bare().run(headless=True)
"""

# What ``d1tui --local`` did until now: emulator and demo database first, then the app.
D1TUI_BEFORE = """
import sys, time
from pathlib import Path
from d1tui.api.local import local_emulator
from d1tui.tui.app import D1TuiApp
class Timed(D1TuiApp):
    def on_ready(self):
        print(time.time() - float(sys.argv[1])); self.exit()
with local_emulator(Path(sys.argv[2])) as (emu, settings):
    Timed(settings, local_emulator=emu).run(headless=True)
"""

# run_local_app: the app paints first; the emulator starts in a worker behind it.
D1TUI_AFTER = """
import sys, time
from pathlib import Path
from d1tui.tui.app import D1TuiApp
from d1tui.tui.local_start import pending_settings
def start():
    from d1tui.api.local import local_emulator
    return local_emulator(Path(sys.argv[2]))
READY = sys.argv[3] == "ready"
class Timed(D1TuiApp):  # Textual also runs D1TuiApp's own handlers (it walks the MRO)
    done = False
    def on_ready(self):
        self.check()
    def on_worker_state_changed(self, event):
        self.check()
    def check(self):
        if not (READY and self.starting_local) and not self.done:
            self.done = True
            print(time.time() - float(sys.argv[1])); self.exit()
Timed(pending_settings(), local_start=start).run(headless=True)
"""


def startup(code: str, *args: str) -> float:
    """Seconds from launching a child running ``code`` to its first screen (it reports)."""
    launched = time.time()
    done = subprocess.run(
        [sys.executable, "-c", code, str(launched), *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


async def key_latencies(rows: int, data_dir: Path) -> tuple[list[float], str]:
    """Send ``s`` during an import of ``rows`` fake rows; seconds until each was handled."""
    latencies: list[float] = []
    with local_emulator(data_dir, hold_seconds=1.0) as (emu, settings):
        app = make_app(settings, local_emulator=emu, log_dir=data_dir)
        async with app.run_test(size=(100, 30)) as pilot:
            client = app.client_for(settings)
            app.session.database = client.get_database("demo")
            tables = {t.name: t for t in client.list_tables(app.session.database.uuid)}
            app.session.source = Source(fake=FakeSpec(rows=rows, seed=1))
            app.session.target_choice = TargetChoice(
                "TargetD1Table", create=False, existing=tables["TargetD1Table"]
            )
            app.show_preview()
            while getattr(app.screen, "prepared", None) is None:
                await asyncio.sleep(0.05)
            app.show_import()
            while not isinstance(app.screen, ImportScreen):
                await asyncio.sleep(0.01)
            screen = app.screen
            driver = app._driver
            assert driver is not None
            while screen.running:
                before = screen.saved_to
                started = time.perf_counter()
                driver.send_message(events.Key("s", "s"))
                while screen.saved_to is before:
                    await asyncio.sleep(0.0005)
                latencies.append(time.perf_counter() - started)
                await asyncio.sleep(0.25)
            outcome = type(screen.outcome).__name__
            await pilot.pause()
    return latencies, outcome


def main() -> int:
    """Run both measurements and write the results file."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--startups", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="d1tui-bench-tui-"))
    os.chdir(work)

    latencies, outcome = asyncio.run(key_latencies(args.rows, work / "latency"))
    runs: dict[str, list[float]] = {"bare": [], "before": [], "paint": [], "ready": []}
    for round_ in range(args.startups):  # interleaved, so all see the same machine load
        folder = str(work / f"startup-{round_}")  # a fresh data dir: the demo database is made
        runs["bare"].append(startup(BARE))
        runs["before"].append(startup(D1TUI_BEFORE, folder + "-before"))
        runs["paint"].append(startup(D1TUI_AFTER, folder + "-paint", "paint"))
        runs["ready"].append(startup(D1TUI_AFTER, folder + "-ready", "ready"))
    median = {name: statistics.median(values) for name, values in runs.items()}

    ms = sorted(x * 1000 for x in latencies)
    p90 = ms[int(0.9 * (len(ms) - 1))] if ms else float("nan")
    lines = [
        "# TUI benchmark",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()};"
        f" load average at the end {os.getloadavg()[0]:.1f}.",
        "",
        f"## Key-press latency during a {args.rows:,}-row import ({outcome})",
        "",
        f"{len(ms)} presses of `s` while the import screen streamed events: "
        f"median **{statistics.median(ms):.1f} ms**, p90 {p90:.1f} ms, max {ms[-1]:.1f} ms.",
        "",
        "## Start-up (launch of the process → moment reported; medians)",
        "",
        "| app | median | ÷ bare | runs |",
        "|---|---|---|---|",
        *(
            f"| {label} | {median[name]:.2f} s | {median[name] / median['bare']:.2f}× "
            f"| {len(runs[name])} |"
            for name, label in (
                ("bare", "bare Textual app, first paint"),
                ("before", "d1tui --local, emulator before the app: first paint"),
                ("paint", "d1tui --local, emulator after the first paint: first paint"),
                ("ready", "… same, emulator up and its values filled in"),
            )
        ),
        "",
        "Each start uses a fresh data folder, so the demo database is created every time.",
        "",
    ]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
