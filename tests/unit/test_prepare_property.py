"""Property: any CSV of strings comes back from SQLite as the inference rules say, fast or exact."""

from __future__ import annotations

import csv
import io
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from d1tui.convert import tabular as table_rows
from d1tui.convert.detect import ReadOptions
from d1tui.convert.prepare import Target, prepare_file
from d1tui.convert.schema import INTEGER, NULL, REAL, ColumnStats, classify_text
from d1tui.importer.prepared import PreparedImport

CELL = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**64).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["", "", "007", "-0", "1e3", "nan", "1.", ".5", "+5", "1e999", "2.50"]),
    st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"])),
)


def _expected_kind(values: list[str]) -> int:
    stats = ColumnStats()
    for v in values:
        kind, big = classify_text(v)
        stats.kind = max(stats.kind, kind)
        stats.big = stats.big or big
    return stats.type()


def _prepare(path: Path, out: Path) -> PreparedImport:
    options = ReadOptions(delimiter=",", has_header=True)
    *_, prepared = prepare_file(path, options, Target("t", True), out_dir=out)
    assert isinstance(prepared, PreparedImport)
    return prepared


@given(
    st.integers(2, 4).flatmap(
        lambda n: st.lists(st.lists(CELL, min_size=n, max_size=n), min_size=1, max_size=25)
    )
)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_csv_round_trip_matches_the_inference_rules(rows: list[list[str]]) -> None:
    ncols = len(rows[0])
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([[f"c{i}" for i in range(ncols)], *rows])
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        path = Path(tmp) / "p.csv"
        path.write_text(buf.getvalue(), encoding="utf-8", newline="")
        mp.setattr(table_rows, "HEAD_ROWS", 3)  # later rows widen: the restart path runs too
        fast = _prepare(path, Path(tmp))
        mp.setattr(table_rows, "FAST_KINDS", frozenset())
        exact = _prepare(path, Path(tmp))
        assert fast.path.read_bytes() == exact.path.read_bytes()
        conn = sqlite3.connect(":memory:")
        conn.executescript(exact.path.read_bytes().decode("utf-8"))
        cols = ", ".join(f"c{i}, typeof(c{i})" for i in range(ncols))
        got = conn.execute(f"SELECT {cols} FROM t ORDER BY rowid").fetchall()
    assert len(got) == len(rows)
    for j in range(ncols):
        kind = _expected_kind([r[j] for r in rows])
        for row, back in zip(rows, got, strict=True):
            text, value, typ = row[j], back[2 * j], back[2 * j + 1]
            if text == "":
                assert (value, typ) == (None, "null")
            elif kind == INTEGER:
                assert (value, typ) == (int(text), "integer")
            elif kind == REAL:
                # == and not the sign: a REAL column stores -0.0 as 0 (SQLite's compact form).
                assert typ == "real" and value == float(text)
            else:
                assert kind != NULL and (value, typ) == (text, "text")
