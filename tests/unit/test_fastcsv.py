"""The block-wise CSV converter writes exactly the bytes of the exact per-value path."""

from __future__ import annotations

import csv
import hashlib
import io
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from d1tui.convert.fast import csv_block as csvblock
from d1tui.convert.fast.csv_convert import convert_csv
from d1tui.convert.fast.pack import FastPathUnsupportedError
from d1tui.convert.schema import INTEGER, REAL, TEXT, TYPE_NAMES, ColumnStats
from d1tui.convert.sql.inserts import InsertWriter
from d1tui.convert.values import WidenError, new_table_plan
from d1tui.errors import BadInputError

COLUMNS = ("id", "name", "score", "note")


def coerce_by_type(types: tuple[str, ...]):
    """A total value conversion: the declared type when the text parses, else the text."""

    def coerce(text: str, column: int, where: object) -> object:
        if text == "":
            return None
        kind = types[column]
        try:
            if kind == "INTEGER":
                return int(text)
            if kind == "REAL":
                return float(text)
        except ValueError:
            return text
        return text

    return coerce


def exact_sql(data: bytes, types, *, limit: int, select=None, width=None) -> bytes:
    """Reference: strict ``csv`` parsing (blank lines skipped), the same conversion, packing.

    Raises ValueError where the exact reader reports bad input (ragged rows, bad quoting).
    """
    text = data.decode("utf-8-sig")
    try:
        records = [r for r in csv.reader(io.StringIO(text, newline=""), strict=True) if r]
    except csv.Error as exc:
        raise ValueError("malformed") from exc
    sel = select or list(range(len(types)))
    names = [COLUMNS[i] for i in range(len(sel))]
    out = io.BytesIO()
    w = InsertWriter(out.write, "t", names, limit=limit)
    coerce = coerce_by_type(tuple(types))
    for r in records[1:]:
        if len(r) != (width or len(types)):
            raise ValueError("ragged")
        w.add_row([coerce(r[k], j, None) for j, k in enumerate(sel)])
    w.close()
    return out.getvalue()


def fast_sql(path: Path, types, *, limit: int, block: int, select=None, width=None) -> bytes:
    """The converter under test, returning what it wrote (its md5 checked on the way)."""
    out = io.BytesIO()
    sel = select or list(range(len(types)))
    stats = convert_csv(
        path,
        out.write,
        table="t",
        columns=[COLUMNS[i] for i in range(len(sel))],
        column_types=list(types),
        select=select,
        width=width,
        coerce=coerce_by_type(tuple(types)),
        limit=limit,
        block_size=block,
    )
    data = out.getvalue()
    assert stats.md5 == hashlib.md5(data).hexdigest()
    assert stats.bytes_written == len(data)
    return data


def _statements_fit(sql: bytes, limit: int) -> None:
    for stmt in sql.split(b";\n")[:-1]:
        assert len(stmt) + 1 <= limit


ints = st.one_of(
    st.integers(-(2**63), 2**63 - 1).map(str),
    st.sampled_from(["0", "-0", "007", "+5", " 5", "-", "", "9" * 19, "1" * 30, "12a", "1_000"]),
)
reals = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.floats(-1e6, 1e6).map(lambda f: f"{f:.2f}"),
    st.sampled_from(["1e3", "-0.0", "1.50", ".5", "5.", "nan", "inf", "1e999", "", "1,5", "7"]),
)
texty = st.lists(
    st.sampled_from(
        [*"ab ,;\"'\n\r\t", "\r\n", "é", "中", "🙂", "\x00", "\x01", "\x05", "\x07", "é'"]
    ),
    max_size=12,
).map("".join)
KINDS = {"INTEGER": ints, "REAL": reals, "TEXT": texty}


@st.composite
def csv_files(draw):
    """A header and rows written by ``csv.writer`` with random quoting and line endings."""
    types = tuple(draw(st.lists(st.sampled_from(list(KINDS)), min_size=2, max_size=4)))
    rows = draw(st.lists(st.tuples(*(KINDS[t] for t in types)), max_size=40))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))
    if quoting == csv.QUOTE_NONNUMERIC:
        quoting = csv.QUOTE_MINIMAL
    buf = io.StringIO()
    w = csv.writer(buf, quoting=quoting, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    w.writerow(COLUMNS[: len(types)])
    w.writerows(rows)
    text = buf.getvalue()
    if rows and draw(st.booleans()):
        text = text.rstrip("\r\n")  # no newline after the last record
    bom = draw(st.booleans())
    return types, (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    case=csv_files(),
    block=st.sampled_from([1, 7, 64, 300, 1 << 20]),
    limit=st.sampled_from([200, 400, 100_000]),
)
def test_fast_path_matches_exact_path_on_csv_writer_output(tmp_path_factory, case, block, limit):
    types, data = case
    path = tmp_path_factory.mktemp("csv") / "f.csv"
    path.write_bytes(data)
    try:
        expected = exact_sql(data, types, limit=limit)
    except BadInputError:  # e.g. a row whose numbers alone exceed a tiny limit
        # the fast path reports it too, or declines (a lone CR) and the exact path reports it
        with pytest.raises((BadInputError, FastPathUnsupportedError)):
            fast_sql(path, types, limit=limit, block=block)
        return
    except ValueError:  # csv.writer leaves a lone CR unquoted: the file reads back ragged
        with pytest.raises(FastPathUnsupportedError):
            fast_sql(path, types, limit=limit, block=block)
        return
    try:
        got = fast_sql(path, types, limit=limit, block=block)
    except FastPathUnsupportedError:
        assert b"\r" in data  # a CR csv.writer left unquoted: refused, the exact path converts
        return
    assert got == expected
    if limit == 100_000:
        _statements_fit(got, limit)


raw_cells = st.sampled_from(
    [
        '"a"b',
        'a"b',
        '""',
        '""""',
        '"a""b"',
        '"x,y"',
        '"l1\nl2"',
        '"c\r\nd"',
        "\r",
        "",
        "5",
        "-0",
        '" 5"',
        "'",
        "é",
        '"',
        'x"',
        "\x00",
        "\x02",
    ]
)


@settings(max_examples=100, deadline=None)
@given(
    cells=st.lists(st.lists(raw_cells, min_size=2, max_size=3), max_size=12),
    block=st.sampled_from([1, 5, 64, 1 << 20]),
)
def test_hand_made_quoting_is_exact_or_refused(tmp_path_factory, cells, block):
    """Stray quotes, ragged rows, bare CRs: the same bytes as the exact path, or a refusal."""
    types = ("INTEGER", "TEXT", "TEXT")
    lines = ["id,name,note"] + [",".join(r + ["z"] * (3 - len(r))) for r in cells]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    path = tmp_path_factory.mktemp("raw") / "f.csv"
    path.write_bytes(data)
    try:
        expected = exact_sql(data, types, limit=100_000)
    except ValueError:
        with pytest.raises(FastPathUnsupportedError):
            fast_sql(path, types, limit=100_000, block=block)
        return
    try:
        got = fast_sql(path, types, limit=100_000, block=block)
    except FastPathUnsupportedError:
        return
    assert got == expected


def test_selected_columns_in_another_order(tmp_path):
    data = b'a,b,c\n1,"x,y",2.5\n2,,\n'
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    out = io.BytesIO()
    convert_csv(
        path,
        out.write,
        table="t",
        columns=["c", "a"],
        column_types=["REAL", "INTEGER"],
        select=[2, 0],
        width=3,
        coerce=coerce_by_type(("REAL", "INTEGER")),
    )
    assert out.getvalue() == b'INSERT INTO "t" ("c","a") VALUES ((25.0/10),1),(NULL,2);\n'


def test_output_loads_into_sqlite_with_every_value(tmp_path):
    rows = [[1, 'O\'Brien, "Jr"\nline2', "2.5", ""], [2, "中🙂", "-0.0", "x\r\ny"]]
    buf = io.StringIO()
    csv.writer(buf).writerows([COLUMNS, *rows])
    path = tmp_path / "f.csv"
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")
    types = ("INTEGER", "TEXT", "REAL", "TEXT")
    sql = fast_sql(path, types, limit=100_000, block=16)
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (id INTEGER, name TEXT, score REAL, note TEXT)")
    db.executescript(sql.decode())
    got = db.execute("SELECT id, name, score, note FROM t ORDER BY id").fetchall()
    assert got == [(1, 'O\'Brien, "Jr"\nline2', 2.5, None), (2, "中🙂", -0.0, "x\r\ny")]


def test_undecodable_bytes_refuse_the_fast_path(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"id,name\n1,\xff\xfe\n")
    with pytest.raises(FastPathUnsupportedError):
        fast_sql(path, ("INTEGER", "TEXT"), limit=100_000, block=1 << 20)


def test_writer_errors_reach_the_caller(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"id,name\n" + b"1,abc\n" * 50_000)

    def broken(_chunk: bytes) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        convert_csv(
            path,
            broken,
            table="t",
            columns=["id", "name"],
            column_types=["INTEGER", "TEXT"],
            coerce=coerce_by_type(("INTEGER", "TEXT")),
            block_size=4096,
        )


def test_ordinary_tricky_csv_stays_on_the_fast_path(tmp_path, monkeypatch):
    """Escaped quotes, quoted delimiters and line breaks, CRLF, empties: no exact-path block."""

    def refuse(*_a, **_k):
        raise AssertionError("exact path used")

    monkeypatch.setattr(csvblock.CsvBlock, "exact", refuse)
    rows = [
        [i, f'say "hi", {i}\r\nnext', f"{i}.25" if i % 3 else "", "" if i % 4 else "O'Neil 中🙂"]
        for i in range(2000)
    ]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([COLUMNS, *rows])
    path = tmp_path / "f.csv"
    data = buf.getvalue().encode()
    path.write_bytes(data)
    types = ("INTEGER", "TEXT", "REAL", "TEXT")
    got = fast_sql(path, types, limit=100_000, block=4096)
    assert got == exact_sql(data, types, limit=100_000)
    assert got.count(b"NULL") == sum(r[2] == "" for r in rows) + sum(r[3] == "" for r in rows)


KIND_OF = {"INTEGER": INTEGER, "REAL": REAL, "TEXT": TEXT}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=csv_files(), block=st.sampled_from([1, 64, 1 << 20]), pk=st.booleans())
def test_fast_path_matches_the_plans_conversion(tmp_path_factory, case, block, pk):
    """With ``Plan.coerce_text`` (the reader's own rules: widening, NOT NULL keys) on both sides."""
    types, data = case
    names = list(COLUMNS[: len(types)])
    stats = [ColumnStats(kind=KIND_OF[t]) for t in types]
    plan, _ = new_table_plan("t", names, stats, pk=names[1] if pk else None)
    path = tmp_path_factory.mktemp("plan") / "f.csv"
    path.write_bytes(data)
    try:
        text = data.decode("utf-8-sig")
        records = [r for r in csv.reader(io.StringIO(text, newline=""), strict=True) if r]
        out = io.BytesIO()
        w = InsertWriter(out.write, "t", plan.columns, key_column=plan.key_column)
        for r in records[1:]:
            if len(r) != len(names):
                raise ValueError("ragged")
            w.add_row(plan.text_row(r))
        w.close()
    except (csv.Error, ValueError):
        expected_error: tuple[type[BaseException], ...] = (FastPathUnsupportedError,)
    except (WidenError, BadInputError) as exc:
        expected_error = (type(exc), FastPathUnsupportedError)
    else:
        expected_error = ()
    got = io.BytesIO()
    run = lambda: convert_csv(  # noqa: E731
        path,
        got.write,
        table="t",
        columns=list(plan.columns),
        column_types=[TYPE_NAMES[k] for k in plan.kinds],
        key_column=plan.key_column,
        coerce=plan.coerce_text,
        block_size=block,
    )
    if expected_error:
        with pytest.raises(expected_error):
            run()
        return
    try:
        run()
    except FastPathUnsupportedError:
        assert b"\r" in data  # a CR csv.writer left unquoted: refused, the exact path converts
        return
    assert got.getvalue() == out.getvalue()


def test_worker_processes_write_the_same_bytes(tmp_path):
    """Parallel mode (spawned workers) = one process, also around blocks on the exact path."""
    rows = [
        [i, f'"q" {i},\n' if i % 1500 else "nul\x00here", f"{i}.5" if i % 2000 else "007", "ok"]
        for i in range(8_000)
    ]
    buf = io.StringIO()
    csv.writer(buf).writerows([COLUMNS, *rows])
    path = tmp_path / "f.csv"
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")
    types = ("INTEGER", "TEXT", "REAL", "TEXT")
    outs = []
    for workers in (0, 2):
        out = io.BytesIO()
        stats = convert_csv(
            path,
            out.write,
            table="t",
            columns=list(COLUMNS),
            column_types=list(types),
            coerce=coerce_by_type(types),
            block_size=16 * 1024,
            workers=workers,
        )
        assert stats.rows == 8_000
        outs.append(out.getvalue())
    assert outs[0] == outs[1]
    assert outs[0] == exact_sql(path.read_bytes(), types, limit=100_000)


@pytest.mark.parametrize("workers", [0, 2])
def test_an_error_after_fast_blocks_names_its_true_line(tmp_path, workers):
    """Lines after rendered blocks holding quoted line breaks are counted right (both modes)."""
    rows = [[i, f"two\nlines {i}", f"{i}.5", "x"] for i in range(6_000)]
    rows[5_000][1] = ""  # NOT NULL column: the exact path reports it
    buf = io.StringIO()
    csv.writer(buf).writerows([COLUMNS, *rows])
    path = tmp_path / "f.csv"
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")
    base = coerce_by_type(("INTEGER", "TEXT", "REAL", "TEXT"))

    def coerce(text: str, column: int, where):
        if column == 1 and text == "":
            raise BadInputError("name is empty", where=where)
        return base(text, column, where)

    with pytest.raises(BadInputError, match="name is empty") as info:
        convert_csv(
            path,
            io.BytesIO().write,
            table="t",
            columns=list(COLUMNS),
            column_types=["INTEGER", "TEXT", "REAL", "TEXT"],
            coerce=coerce,
            block_size=16 * 1024,
            workers=workers,
        )
    where = info.value.where
    assert where is not None and where.row == 5_001
    assert where.line == 1 + 2 * 5_000 + 1  # header, two lines per earlier row, then this one
