"""One timed conversion for ``bench_convert.py``: CSV or NDJSON → prepared SQL with its md5.

Run as its own process so wall time and peak RSS are the conversion's alone::

    python bench/convert_one.py csv bench/data/rows1000000.csv bench/out/rows.sql
"""

from __future__ import annotations

import sys
from pathlib import Path

from d1tui.data.fastndjson import convert_ndjson

from d1tui.data.fastcsv import convert_csv

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


def main(argv: list[str]) -> int:
    """Convert ``argv[1]`` (kind ``argv[0]``) into ``argv[2]``; print rows, statements, md5."""
    kind, src, dst = argv[0], Path(argv[1]), Path(argv[2])
    with dst.open("wb") as out:
        if kind == "csv":
            stats = convert_csv(
                src, out.write, table="t", columns=COLUMNS, column_types=TYPES, coerce=_coerce
            )
        else:
            stats = convert_ndjson(src, out.write, table="t", columns=COLUMNS, column_types=TYPES)
    print(stats.rows, stats.statements, stats.md5)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
