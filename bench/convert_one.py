"""One timed conversion for ``bench_convert.py``: CSV or NDJSON → prepared SQL with its md5.

Run as its own process so wall time and peak RSS are the conversion's alone::

    python bench/convert_one.py prepare bench/data/rows1000000.csv bench/out/rows.sql
    python bench/convert_one.py direct bench/data/rows1000000.csv bench/out/rows.sql 0

``prepare`` goes through the public ``prepare_file`` (type inference, CREATE TABLE, whichever
path it picks); ``direct`` calls the block-wise converter alone with the benchmark's types.
Prints rows, statements, md5 and the peak RSS of this process and of its worker processes.
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path

from d1tui.convert.detect import ReadOptions
from d1tui.convert.fast.csv_convert import convert_csv
from d1tui.convert.fast.ndjson_convert import convert_ndjson
from d1tui.convert.prepare import Target, prepare_file
from d1tui.importer.prepared import PreparedImport

COLUMNS = ("id", "name", "email", "score", "created", "note")
TYPES = ("INTEGER", "TEXT", "TEXT", "REAL", "TEXT", "TEXT")


def _coerce(text: str, column: int, where: object) -> object:
    """The exact path's conversion of one CSV field for the benchmark table."""
    if text == "":
        return None
    kind = TYPES[column]
    if kind == "INTEGER":
        return int(text)
    if kind == "REAL":
        return float(text)
    return text


def _direct(src: Path, dst: Path, workers: int | None) -> tuple[int, int, str]:
    common = {"table": "t", "columns": COLUMNS, "column_types": TYPES, "workers": workers}
    with dst.open("wb") as out:
        if src.suffix == ".csv":
            stats = convert_csv(src, out.write, coerce=_coerce, **common)  # type: ignore[arg-type]
        else:
            stats = convert_ndjson(src, out.write, **common)  # type: ignore[arg-type]
    return stats.rows, stats.statements, stats.md5


def _prepare(src: Path, dst: Path, _workers: int | None) -> tuple[int, int, str]:
    last = None
    for item in prepare_file(src, ReadOptions(), Target("t", create=True), out_path=dst):
        last = item
    assert isinstance(last, PreparedImport)
    return last.total_rows, last.statements, last.md5


def main(argv: list[str]) -> int:
    """``MODE SRC DST [WORKERS]``: convert; print rows, statements, md5, peak RSS (KiB).

    WORKERS (``direct`` only) sets the converter's worker processes; 0 converts in-process.
    """
    mode, src, dst = argv[0], Path(argv[1]), Path(argv[2])
    workers = int(argv[3]) if len(argv) > 3 else None
    rows, statements, md5 = (_prepare if mode == "prepare" else _direct)(src, dst, workers)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(rows, statements, md5, f"rss_kib={own}", f"workers_rss_kib={workers}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
