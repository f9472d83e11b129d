"""The block-wise NDJSON converter writes exactly the bytes of the exact per-value path."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from d1tui.convert.fast import ndjson_convert as fastndjson
from d1tui.convert.fast.ndjson_convert import convert_ndjson
from d1tui.convert.fast.pack import FastPathUnsupportedError
from d1tui.convert.schema import INTEGER, REAL, TEXT, TYPE_NAMES, ColumnStats
from d1tui.convert.sql.inserts import InsertWriter
from d1tui.convert.values import WidenError, new_table_plan
from d1tui.errors import BadInputError

NAMES = ("id", "name", "score", "note")


def plan_for(kinds, pk=None):
    """The exact path's plan for a new table with these column kinds."""
    names = list(NAMES[: len(kinds)])
    plan, _ = new_table_plan("t", names, [ColumnStats(kind=k) for k in kinds], pk=pk)
    return plan


def exact_sql(data: bytes, plan, limit: int) -> bytes:
    """Reference: the reader's per-line ``json.loads`` and ``Plan.object_row``, packed."""
    out = io.BytesIO()
    w = InsertWriter(out.write, "t", plan.columns, key_column=plan.key_column, limit=limit)
    for n, line in enumerate(data.decode("utf-8").split("\n"), start=1):
        text = line.strip().removeprefix("\ufeff") if n == 1 else line.strip()
        if text:
            obj = json.loads(text)
            if not isinstance(obj, dict):
                raise BadInputError("not an object")
            w.add_row(plan.object_row(obj))
    w.close()
    return out.getvalue()


def fast_sql(path: Path, plan, limit: int, block: int) -> bytes:
    """The converter under test, as ``prepare`` calls it; md5 checked against the bytes."""
    out = io.BytesIO()
    stats = convert_ndjson(
        path,
        out.write,
        table="t",
        columns=list(plan.columns),
        column_types=[TYPE_NAMES[k] for k in plan.kinds],
        key_column=plan.key_column,
        coerce=plan.coerce_value,
        limit=limit,
        block_size=block,
    )
    assert stats.md5 == hashlib.md5(out.getvalue()).hexdigest()
    return out.getvalue()


json_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.integers(-(2**53) - 5, 2**53 + 5),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.1, -0.0, 1e-300, 2.0**63, 123.0, 5e-324]),
    st.text(
        st.sampled_from(
            [*"ab '\"\\,\n\r\t", "é", "中", "🙂", "\x00", "\x05", "\x06", "\x07", "\u2028"]
        ),
        max_size=8,
    ),
    st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.sampled_from(["k"]), st.integers(0, 3), max_size=1),
)


@st.composite
def ndjson_files(draw):
    """Objects of the table's keys (sometimes one missing or extra), as json.dumps writes them."""
    kinds = tuple(draw(st.lists(st.sampled_from([INTEGER, REAL, TEXT]), min_size=2, max_size=4)))
    names = NAMES[: len(kinds)]
    lines = []
    for _ in range(draw(st.integers(0, 30))):
        obj = {n: draw(json_values) for n in names}
        if draw(st.integers(0, 20)) == 0:
            obj.pop(names[-1])
        if draw(st.integers(0, 30)) == 0:
            obj["extra"] = 1
        text = json.dumps(obj, ensure_ascii=draw(st.booleans()))
        lines.append((draw(st.sampled_from(["", " ", "\r"])) and text + "\r") or text)
        if draw(st.integers(0, 25)) == 0:
            lines.append("   ")
    ending = "\n" if draw(st.booleans()) else ""
    return kinds, ("\n".join(lines) + ending).encode("utf-8")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    case=ndjson_files(),
    block=st.sampled_from([1, 16, 200, 1 << 20]),
    limit=st.sampled_from([400, 100_000]),
)
def test_fast_path_matches_exact_path(tmp_path_factory, case, block, limit):
    kinds, data = case
    plan = plan_for(kinds)
    path = tmp_path_factory.mktemp("nd") / "f.ndjson"
    path.write_bytes(data)
    try:
        expected = exact_sql(data, plan, limit)
    except (WidenError, BadInputError) as exc:
        with pytest.raises((type(exc), FastPathUnsupportedError)):
            fast_sql(path, plan, limit, block)
        return
    try:
        got = fast_sql(path, plan, limit, block)
    except FastPathUnsupportedError:
        # only for what the exact reader must explain or stream differently
        assert b"\r" in data or b"\\ud" in data or b"extra" in data
        return
    assert got == expected


def test_plain_file_stays_on_the_fast_path(tmp_path, monkeypatch):
    def refuse(*_a, **_k):
        raise AssertionError("exact path used")

    monkeypatch.setattr(fastndjson._Blocks, "exact", refuse)
    rows = [
        {"id": i, "name": f'O\'Neil "{i}" 中🙂\n', "score": i / 7 if i % 5 else i, "note": None}
        for i in range(3000)
    ]
    data = "".join(json.dumps(r, ensure_ascii=i % 2 == 0) + "\n" for i, r in enumerate(rows))
    path = tmp_path / "f.ndjson"
    path.write_text(data, encoding="utf-8")
    plan = plan_for((INTEGER, TEXT, REAL, TEXT))
    got = fast_sql(path, plan, 100_000, 4096)
    assert got == exact_sql(data.encode(), plan, 100_000)
    assert got.count(b"NULL") == 3000


def test_big_integers_read_as_json_does(tmp_path):
    """orjson reads 2**64 as a float; the exact reader's int must win (here: it widens)."""
    path = tmp_path / "f.ndjson"
    path.write_text('{"id": 1, "name": 2.5}\n{"id": 2, "name": 18446744073709551616}\n')
    plan = plan_for((INTEGER, REAL))
    with pytest.raises(WidenError):
        exact_sql(path.read_bytes(), plan, 100_000)
    with pytest.raises((WidenError, FastPathUnsupportedError)):
        fast_sql(path, plan, 100_000, 1 << 20)


def test_not_null_column_refuses_a_null(tmp_path):
    path = tmp_path / "f.ndjson"
    path.write_text('{"id": "a", "name": "x"}\n{"id": null, "name": "y"}\n')
    plan = plan_for((TEXT, TEXT), pk="id")
    with pytest.raises(BadInputError, match="NOT NULL"):
        fast_sql(path, plan, 100_000, 1 << 20)


def test_worker_processes_write_the_same_bytes(tmp_path):
    """Parallel mode (spawned workers) = one process, also around blocks on the exact path."""
    lines = []
    for i in range(6000):
        obj = {"id": i, "name": f"n'{i}\"", "score": i / 3, "note": None if i % 3 else "x"}
        if i % 1500 == 7:
            obj["name"] = "nul\x00"  # the fast path declines the block: the exact path writes it
        lines.append(json.dumps(obj))
    path = tmp_path / "f.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    plan = plan_for((INTEGER, TEXT, REAL, TEXT))
    outs = []
    for workers in (0, 2):
        out = io.BytesIO()
        stats = convert_ndjson(
            path,
            out.write,
            table="t",
            columns=list(plan.columns),
            column_types=[TYPE_NAMES[k] for k in plan.kinds],
            coerce=plan.coerce_value,
            block_size=16 * 1024,
            workers=workers,
        )
        assert stats.rows == 6000
        outs.append(out.getvalue())
    assert outs[0] == outs[1] == exact_sql(path.read_bytes(), plan, 100_000)
