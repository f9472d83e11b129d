"""Import benchmark: the client's memory and upload speed against the local emulator.

* Generates two SQL files of multi-row INSERTs (each statement <= 100,000 bytes): 100,000 and
  1,000,000 rows (~12 MB and ~120 MB) under ``bench/data/``.
* Imports each through ``run_import`` in a child process (the emulator runs in this process);
  the child reports its own peak RSS (``VmHWM``): it must not grow with the file.
* Uploads the big file to a fresh signed URL with the client (timed inside a child) and with
  ``curl -T`` (timed around the process), round-robin, and reports medians and their ratio.

Results go to ``bench/results/import.md``::

    python bench/bench_import.py              # 3 rounds
    python bench/bench_import.py --rounds 5
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from d1tui.api.client import D1Client
from d1tui.events import ImportFailed, ImportSucceeded
from d1tui.importer.prepared import PreparedImport
from d1tui.importer.run import ImportOptions, run_import
from d1tui.settings.secret import Secret

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
RESULTS = HERE / "results" / "import.md"
STATEMENT_LIMIT = 100_000
TOKEN_ENV = "D1TUI_BENCH_TOKEN"


# -- data ----------------------------------------------------------------------------------


def generate(path: Path, rows: int) -> dict[str, object]:
    """Write ``rows`` rows as multi-row INSERTs; return md5, size, statements, rows."""
    meta_path = path.with_suffix(".json")
    if path.exists() and meta_path.exists():
        return dict(json.loads(meta_path.read_text()))
    md5 = hashlib.md5()
    size = 0
    statements = 0
    prefix = b"INSERT INTO bench_rows (id, name, email, score, created_at, note) VALUES "
    with path.open("wb") as out:

        def put(data: bytes) -> None:
            nonlocal size
            md5.update(data)
            out.write(data)
            size += len(data)

        put(
            b"CREATE TABLE IF NOT EXISTS bench_rows (id INTEGER PRIMARY KEY, name TEXT, "
            b"email TEXT, score REAL, created_at TEXT, note TEXT);\n"
        )
        statements += 1
        parts: list[bytes] = []
        length = len(prefix) + 2  # ";\n"
        for i in range(1, rows + 1):
            row = (
                f"({i},'Person {i:07d}','person{i}@example.com',{(i * 7919) % 100000 / 100:.2f},"
                f"'2024-{1 + i % 12:02d}-{1 + i % 28:02d}T12:{i % 60:02d}:00Z',"
                f"'row {i} of the benchmark, plain text')"
            ).encode()
            extra = len(row) + (1 if parts else 0)
            if parts and length + extra > STATEMENT_LIMIT:
                put(prefix + b",".join(parts) + b";\n")
                statements += 1
                parts, length = [], len(prefix) + 2
                extra = len(row)
            parts.append(row)
            length += extra
        if parts:
            put(prefix + b",".join(parts) + b";\n")
            statements += 1
    meta = {"md5": md5.hexdigest(), "size": size, "statements": statements, "rows": rows}
    meta_path.write_text(json.dumps(meta))
    return meta


# -- child side: the client alone in its process --------------------------------------------


def peak_rss_kib() -> int:
    """This process's peak resident set (VmHWM), which exec resets, unlike ``ru_maxrss``."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise SystemExit("no VmHWM in /proc/self/status (Linux only)")


def child(args: argparse.Namespace) -> None:
    """Run one client task and print a JSON line (runs in its own process)."""
    meta = json.loads(Path(args.file).with_suffix(".json").read_text())
    token = Secret(os.environ[TOKEN_ENV])
    with D1Client(args.account, token, base_url=args.base_url, timeout=600) as client:
        start = time.perf_counter()
        if args.task == "upload":
            client.upload(args.url, Path(args.file), meta["md5"])
            result = {"seconds": time.perf_counter() - start}
        else:
            prepared = PreparedImport(
                path=Path(args.file),
                md5=meta["md5"],
                size=meta["size"],
                statements=meta["statements"],
                rows={"bench_rows": meta["rows"]},
            )
            end: object = None
            events = 0
            for event in run_import(client, args.db, prepared, options=ImportOptions()):
                events += 1
                end = event
            ok = isinstance(end, ImportSucceeded)
            result = {
                "seconds": time.perf_counter() - start,
                "ok": ok,
                "events": events,
                "outcome": str(end.error) if isinstance(end, ImportFailed) else "succeeded",
            }
    result["peak_rss_kib"] = peak_rss_kib()
    print(json.dumps(result), flush=True)


def run_child(extra: list[str], token: str) -> tuple[dict[str, object], int]:
    """Run the child; its JSON answer and its peak RSS in KiB (measured by itself).

    ``os.wait4``'s ``ru_maxrss`` is not used: it also counts the parent's pages the child
    held between fork and exec, and this parent (with the emulator in it) is large.
    """
    env = {**os.environ, TOKEN_ENV: token}
    argv = [sys.executable, str(Path(__file__).resolve()), "child", *extra]
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(argv, stdout=out, cwd=ROOT, env=env)
        code = proc.wait()
        out.seek(0)
        text = out.read().decode()
    if code != 0:
        raise SystemExit(f"child failed: {text}")
    answer = json.loads(text.strip().splitlines()[-1])
    return answer, int(answer["peak_rss_kib"])


def curl_upload(url: str, path: Path) -> float:
    """Seconds ``curl -T`` takes to PUT the file (no Expect: 100-continue pause)."""
    start = time.perf_counter()
    subprocess.run(
        ["curl", "-sS", "-f", "-T", str(path), "-H", "Expect:", "-o", os.devnull, url],
        check=True,
    )
    return time.perf_counter() - start


# -- parent side ----------------------------------------------------------------------------


def main() -> None:
    """Generate data, run the measurements, write the results table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    # Here only: the client's child process must not carry the emulator.
    from d1tui.emulator import Emulator  # noqa: PLC0415

    DATA.mkdir(parents=True, exist_ok=True)
    small, big = DATA / "import_100k.sql", DATA / "import_1m.sql"
    print("generating data…", flush=True)
    metas = {small: generate(small, 100_000), big: generate(big, 1_000_000)}

    with tempfile.TemporaryDirectory(dir=DATA) as work, Emulator(Path(work)) as emu:
        common = ["--base-url", emu.base_url, "--account", emu.account_id]

        def fresh_url(path: Path, name: str) -> str:
            info = emu.create_database(name)
            with D1Client(emu.account_id, Secret(emu.token), base_url=emu.base_url) as c:
                url = c.import_init(info["uuid"], str(metas[path]["md5"])).upload_url
            assert url
            return url

        imports: dict[Path, list[tuple[float, int]]] = {small: [], big: []}
        uploads: list[float] = []
        curls: list[float] = []
        for r in range(args.rounds):
            for path in (small, big):
                db = emu.create_database(f"imp-{path.stem}-{r}")["uuid"]
                answer, rss = run_child(
                    [*common, "--task", "import", "--db", db, "--file", str(path)], emu.token
                )
                if not answer.get("ok"):
                    raise SystemExit(f"import failed: {answer}")
                imports[path].append((float(answer["seconds"]), rss))  # type: ignore[arg-type]
                print(
                    f"round {r + 1}: import {path.name}: {answer['seconds']:.1f} s, "
                    f"peak RSS {rss / 1024:.1f} MiB",
                    flush=True,
                )
            url = fresh_url(big, f"up-client-{r}")
            answer, _ = run_child(
                [*common, "--task", "upload", "--url", url, "--file", str(big)], emu.token
            )
            uploads.append(float(answer["seconds"]))  # type: ignore[arg-type]
            curls.append(curl_upload(fresh_url(big, f"up-curl-{r}"), big))
            print(
                f"round {r + 1}: upload client {uploads[-1]:.2f} s, curl {curls[-1]:.2f} s",
                flush=True,
            )
    write_results(metas, imports, uploads, curls, args.rounds)


def write_results(
    metas: dict[Path, dict[str, object]],
    imports: dict[Path, list[tuple[float, int]]],
    uploads: list[float],
    curls: list[float],
    rounds: int,
) -> None:
    """The table in ``bench/results/import.md``."""
    rows = []
    for path, runs in imports.items():
        meta = metas[path]
        seconds = statistics.median(s for s, _ in runs)
        rss = statistics.median(k for _, k in runs) / 1024
        rows.append(
            f"| {path.name} | {int(meta['rows']):,} | {int(meta['size']) / 1e6:,.1f} MB "  # type: ignore[call-overload]
            f"| {int(meta['statements']):,} | {seconds:.1f} s | {rss:.1f} MiB |"  # type: ignore[call-overload]
        )
    rss_small = statistics.median(k for _, k in next(iter(imports.values()))) / 1024
    rss_big = statistics.median(k for _, k in list(imports.values())[1]) / 1024
    up, cu = statistics.median(uploads), statistics.median(curls)
    size_mb = int(list(metas.values())[1]["size"]) / 1e6  # type: ignore[call-overload]
    text = f"""# Import benchmark

Client side of an import (`run_import`: count, init, streamed upload, ingest, poll, verify)
against the local emulator on 127.0.0.1, the client alone in a child process.
Medians of {rounds} rounds. Machine: {platform.machine()}, {os.cpu_count()} CPUs,
Python {platform.python_version()}, {platform.system()}.

## Peak memory of the client (whole import; `VmHWM` of the child process)

| file | rows | size | statements | import wall time | client peak RSS |
|---|---:|---:|---:|---:|---:|
{chr(10).join(rows)}

10x the data costs {rss_big - rss_small:+.1f} MiB of client memory
({rss_small:.1f} → {rss_big:.1f} MiB): the file is streamed in 256 KiB chunks and never
held in memory. (Wall time is mostly the emulator executing the SQL.)

## Upload of the {size_mb:,.1f} MB file to a signed URL

| uploader | median seconds | throughput |
|---|---:|---:|
| `curl -T` (baseline, same file, same emulator, same run) | {cu:.2f} | {size_mb / cu:,.0f} MB/s |
| d1tui client (`D1Client.upload`, timed inside its process) | {up:.2f} | {size_mb / up:,.0f} MB/s |

Client / curl time ratio: **{up / cu:.2f}** (curl's figure includes its process start-up;
runs: client {", ".join(f"{u:.2f}" for u in uploads)}; curl {", ".join(f"{c:.2f}" for c in curls)}).

Reproduce:

    python bench/bench_import.py --rounds {rounds}
"""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        p = argparse.ArgumentParser()
        p.add_argument("child")
        p.add_argument("--base-url", required=True)
        p.add_argument("--account", required=True)
        p.add_argument("--task", choices=["import", "upload"], required=True)
        p.add_argument("--db", default="")
        p.add_argument("--url", default="")
        p.add_argument("--file", required=True)
        child(p.parse_args())
    else:
        main()
