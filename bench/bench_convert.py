"""Conversion benchmark: d1tui's CSV/NDJSON → SQL against the sqlite3 shell and plain md5sum.

Every command runs in its own process; wall time and the child's peak RSS (``os.wait4``) are
taken per run, runs go round-robin and each figure is the median. Needs the sqlite3 command-line
shell (``apt-get install -y sqlite3``). Results go to ``bench/results/convert.md``::

    python bench/bench_convert.py                 # 1,000,000 rows, 3 rounds
    python bench/bench_convert.py --big           # also the 10x file (~1.7 GB): d1tui RSS
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
OUT = HERE / "out"
RESULTS = HERE / "results" / "convert.md"
# The timed scripts run from bench/, so without this `d1tui` resolves through the installed
# package, which may be an editable install of another checkout: time this tree's code.
_ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))),
}


@dataclass
class Job:
    """One command of the benchmark and what its runs measured."""

    name: str
    argv: list[str]
    stdout: Path | None = None
    output: Path | None = None  # a file the command writes (removed before each run)
    times: list[float] | None = None
    rss_kib: list[int] | None = None
    cpu: list[float] | None = None
    worker_rss_kib: int = 0
    said: str = ""

    def run(self) -> None:
        """Run once; record wall seconds and the child's peak RSS (and its workers').

        Each run writes a new file: replacing the last run's output costs the writer the
        flush ext4 forces on a truncated file (auto_da_alloc, ~0.1 s for 200 MB) — a cost
        the sqlite3 shell, writing to a file this process opens, would not be charged.
        """
        for path in (self.stdout, self.output):
            if path is not None:
                path.unlink(missing_ok=True)
        out = self.stdout.open("wb") if self.stdout else subprocess.PIPE
        try:
            start = time.perf_counter()
            proc = subprocess.Popen(self.argv, stdout=out, cwd=ROOT, env=_ENV)
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
            if proc.stdout is not None:
                self.said = proc.stdout.read().decode().strip()
                proc.stdout.close()
        finally:
            if self.stdout:
                out.close()  # type: ignore[union-attr]
        if proc.returncode != 0:
            raise SystemExit(f"{self.name} failed ({proc.returncode}): {' '.join(self.argv)}")
        self.times = [*(self.times or []), elapsed]
        self.rss_kib = [*(self.rss_kib or []), int(usage.ru_maxrss)]
        self.cpu = [*(self.cpu or []), usage.ru_utime + usage.ru_stime]  # workers included
        for word in self.said.split():
            if word.startswith("workers_rss_kib="):
                self.worker_rss_kib = max(self.worker_rss_kib, int(word.split("=")[1]))

    @property
    def seconds(self) -> float:
        """Median wall time."""
        return statistics.median(self.times or [float("nan")])

    @property
    def cpu_seconds(self) -> float:
        """Median CPU time (user + system, worker processes included)."""
        return statistics.median(self.cpu or [float("nan")])

    @property
    def rss_mib(self) -> float:
        """Largest peak RSS over the runs, MiB (the process itself)."""
        return max(self.rss_kib or [0]) / 1024

    @property
    def rss_text(self) -> str:
        """Peak RSS, with the largest worker process's when there were workers."""
        if not self.worker_rss_kib:
            return f"{self.rss_mib:.0f}"
        return f"{self.rss_mib:.0f} (+ workers ≤ {self.worker_rss_kib / 1024:.0f} each)"


def ensure_data(rows: int, fmt: str, tile: int = 0) -> Path:
    """The generated input file (made once with ``gen_data.py``); ``tile`` repeats the body."""
    path = DATA / (f"rows{rows}x{tile}.{fmt}" if tile else f"rows{rows}.{fmt}")
    if not path.exists():
        argv = [sys.executable, str(HERE / "gen_data.py"), "--rows", str(rows), "--format", fmt]
        subprocess.run([*argv, "--tile", str(tile)] if tile else argv, check=True)
    return path


def jobs_for(csv: Path, ndjson: Path | None, sqlite: str) -> list[Job]:
    """The commands compared on one input size."""
    OUT.mkdir(exist_ok=True)
    py = sys.executable
    jobs = [
        Job(
            "sqlite3 .import --csv + .dump",
            [sqlite, ":memory:", f".import --csv {csv} t", ".dump"],
            stdout=OUT / "sqlite-dump.sql",
        ),
        Job("md5sum (floor)", ["md5sum", str(csv)]),
    ]
    for kind, src in (("CSV", csv), ("NDJSON", ndjson)):
        if src is None:
            continue
        for mode, label in (("prepare", "prepare_file"), ("direct", "converter alone")):
            out = OUT / f"d1tui-{kind.lower()}-{mode}.sql"
            argv = [py, str(HERE / "convert_one.py"), mode, str(src), str(out)]
            jobs.append(Job(f"d1tui {kind} → SQL ({label})", argv, output=out))
    return jobs


def table(jobs: list[Job], base: Job, floor: Job) -> list[str]:
    """Markdown rows: median wall and CPU time, ratios to the sqlite3 shell and md5sum, RSS."""
    lines = [
        "| command | median s | runs (s) | × sqlite3 shell | × md5sum | CPU s | CPU × sqlite3 "
        "| peak RSS MiB |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for j in jobs:
        runs = ", ".join(f"{t:.2f}" for t in j.times or [])
        lines.append(
            f"| {j.name} | {j.seconds:.2f} | {runs} | {j.seconds / base.seconds:.2f} "
            f"| {j.seconds / floor.seconds:.1f} | {j.cpu_seconds:.2f} "
            f"| {j.cpu_seconds / base.cpu_seconds:.2f} | {j.rss_text} |"
        )
    return lines


def _version(sqlite: str) -> str:
    """The sqlite3 shell's version number."""
    out = subprocess.run([sqlite, "--version"], capture_output=True, text=True, check=True)
    return out.stdout.split()[0]


def _main_table(
    rows: int, rounds: int, csv: Path, ndjson: Path | None, jobs: list[Job], sqlite: str
) -> list[str]:
    """Run the round-robin comparison on the 1x files; the report's first part."""
    for r in range(rounds):
        for j in jobs:
            j.run()
            print(f"round {r + 1}: {j.name}: {(j.times or [0])[-1]:.2f} s", file=sys.stderr)
    base, floor = jobs[0], jobs[1]
    return [
        f"# Conversion benchmark ({rows:,} rows)",
        "",
        f"Input: `{csv.name}` {csv.stat().st_size / 1e6:.1f} MB"
        + (f", `{ndjson.name}` {ndjson.stat().st_size / 1e6:.1f} MB" if ndjson else "")
        + f". Median of {rounds} round-robin runs; each command in its own process.",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, sqlite3 shell {_version(sqlite)}; "
        f"load average at the end {os.getloadavg()[0]:.1f}.",
        "",
        *table(jobs, base, floor),
    ]


def _big_table(rows: int) -> tuple[list[Job], list[str]]:
    """One conversion of the 10x file (memory must stay flat) beside md5sum of it."""
    py = sys.executable
    big = ensure_data(rows, "csv", tile=10)
    jobs = [
        Job("md5sum 10x (floor)", ["md5sum", str(big)]),
        Job(
            "d1tui CSV → SQL 10x (prepare_file)",
            [py, str(HERE / "convert_one.py"), "prepare", str(big), str(OUT / "big.sql")],
            output=OUT / "big.sql",
        ),
    ]
    for j in jobs:
        j.run()
    return jobs, [
        "",
        f"10x file `{big.name}` {big.stat().st_size / 1e9:.2f} GB (the rows above ten times, "
        f"`gen_data.py --tile 10`), one run; load average {os.getloadavg()[0]:.1f}:",
        "",
        "| command | s | × md5sum | CPU s | peak RSS MiB |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {j.name} | {j.seconds:.1f} | {j.seconds / jobs[0].seconds:.1f} "
            f"| {j.cpu_seconds:.1f} | {j.rss_text} |"
            for j in jobs
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write the results file."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--no-ndjson", action="store_true")
    p.add_argument("--big", action="store_true", help="also convert the 10x CSV once (RSS)")
    p.add_argument("--only-big", action="store_true", help="only the 10x CSV (convert-10x.md)")
    a = p.parse_args(argv)
    sqlite = shutil.which("sqlite3")
    if sqlite is None:
        raise SystemExit("needs the sqlite3 shell: apt-get install -y sqlite3")
    csv = ensure_data(a.rows, "csv")
    report: list[str] = []
    jobs: list[Job] = []
    if not a.only_big:
        ndjson = None if a.no_ndjson else ensure_data(a.rows, "ndjson")
        jobs = jobs_for(csv, ndjson, sqlite)
        report = _main_table(a.rows, a.rounds, csv, ndjson, jobs, sqlite)
    if a.big or a.only_big:
        big_jobs, big_report = _big_table(a.rows)
        jobs += big_jobs
        report += big_report
    report += [
        "",
        "Reproduce:",
        "",
        "```",
        "apt-get install -y sqlite3     # the baseline",
        f"python bench/bench_convert.py --rows {a.rows} --rounds {a.rounds}"
        + (" --big" if a.big else "")
        + (" --only-big" if a.only_big else ""),
        "```",
        "",
        "Commands timed:",
        "",
        *(f"- {j.name}: `{' '.join(j.argv)}`" for j in jobs),
        "",
    ]
    results = RESULTS.with_name("convert-10x.md") if a.only_big else RESULTS
    results.parent.mkdir(exist_ok=True)
    results.write_text("\n".join(report), encoding="utf-8")
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
