"""prepare_file/prepare_fake end to end: the .sql runs in real SQLite and gives the rows back."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from d1tui.convert import tabular as table_rows
from d1tui.convert.detect import ReadOptions
from d1tui.convert.fast import csv_convert as fastcsv
from d1tui.convert.fast import ndjson_convert as fastndjson
from d1tui.convert.fast import pool as blockpool
from d1tui.convert.prepare import FakeSpec, Target, prepare_fake, prepare_file
from d1tui.convert.preview import preview_fake
from d1tui.convert.schema import TARGET_D1_TABLE, Column, TableSchema
from d1tui.convert.sql.inserts import STATEMENT_LIMIT
from d1tui.errors import BadInputError, ImportCancelledError
from d1tui.events import PrepareProgress
from d1tui.importer.prepared import PreparedImport

DATA = Path(__file__).parent.parent / "fixtures" / "data"


def _prepare(path: Path, out_dir: Path, target: Target, **options: object) -> PreparedImport:
    items = list(prepare_file(path, ReadOptions(**options), target, out_dir=out_dir))  # type: ignore[arg-type]
    assert all(isinstance(i, PrepareProgress) for i in items[:-1])
    prepared = items[-1]
    assert isinstance(prepared, PreparedImport)
    return prepared


def _statements(prepared: PreparedImport) -> list[str]:
    """Split the file into statements the way SQLite sees them; check sizes and the count."""
    out, pending = [], ""
    text = prepared.path.read_bytes().decode("utf-8")
    for line in text.split("\n")[:-1]:  # only "\n" ends a line: "\r" may be inside a value
        pending += line + "\n"
        if sqlite3.complete_statement(pending):
            assert len(pending.rstrip("\n").encode()) <= STATEMENT_LIMIT
            out.append(pending)
            pending = ""
    assert pending == ""
    assert len(out) == prepared.statements
    return out


def _run(prepared: PreparedImport, conn: sqlite3.Connection | None = None) -> sqlite3.Connection:
    data = prepared.path.read_bytes()
    assert hashlib.md5(data).hexdigest() == prepared.md5
    assert len(data) == prepared.size
    conn = conn or sqlite3.connect(":memory:")
    for stmt in _statements(prepared):
        conn.execute(stmt)
    return conn


def test_excel_csv_round_trips_with_exact_types(tmp_path: Path) -> None:
    prepared = _prepare(DATA / "excel_utf8_bom_crlf.csv", tmp_path, Target("people", True))
    assert prepared.rows == {"people": 3}
    assert prepared.created_tables == ("people",)
    assert prepared.temporary and prepared.path.parent == tmp_path
    conn = _run(prepared)
    got = conn.execute(
        "SELECT id, name, zip, price, typeof(price), joined FROM people ORDER BY id"
    ).fetchall()
    assert got == [
        (1, "O'Brien, Pat", "02134", 19.99, "real", "2024-01-05"),
        (2, 'Say "hi"\r\nsecond line', "00501", 5.0, "real", "2024-02-29"),
        (3, "Zoë 😀", "90210", None, "null", "2023-12-31"),
    ]
    sql = conn.execute("SELECT sql FROM sqlite_master").fetchone()[0]
    assert '"zip" TEXT' in sql and '"price" REAL' in sql and '"id" INTEGER' in sql


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def test_late_values_widen_types_over_the_whole_file(tmp_path: Path) -> None:
    n = 3000
    rows = [["id", "count", "late", "code", "ratio"]]
    for i in range(n):
        rows.append([str(i), str(i * 7), "", str(i), f"{i}.5"])
    rows[-1] = [str(n), "many", "42", "0042", "007.5"]  # every column but id widens at the end
    path = tmp_path / "w.csv"
    _write_csv(path, rows)
    conn = _run(_prepare(path, tmp_path, Target("w", True)))
    types = {r[1]: r[2] for r in conn.execute("PRAGMA table_info(w)")}
    assert types == {"id": "INTEGER", "count": "TEXT", "late": "INTEGER", "code": "TEXT",
                     "ratio": "TEXT"}  # fmt: skip
    assert conn.execute("SELECT count(*) FROM w").fetchone() == (n,)
    assert conn.execute("SELECT count, typeof(count), code FROM w WHERE id = 1").fetchone() == (
        "7",
        "text",
        "1",
    )
    assert conn.execute("SELECT late, typeof(late) FROM w WHERE id = ?", (n,)).fetchone() == (
        42,
        "integer",
    )


@pytest.mark.parametrize(
    "late",
    ["2.5", "-0", "1e05", "+.5", "1.", "007.5", "1e999", "9007199254740993", "nan", ""],
)
def test_fast_path_and_exact_path_write_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, late: str
) -> None:
    # Odd numbers late in a REAL column: accepted alike, or widened to TEXT alike.
    rows = [["id", "name", "score", "note"]]
    rows += [[str(i), f"n'{i}\n😀", f"{i}.25", "" if i % 3 else f"x,{i}"] for i in range(1500)]
    rows[1200][2] = late
    path = tmp_path / "f.csv"
    _write_csv(path, rows)
    calls: list[int] = []
    real = fastcsv.convert_csv

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(fastcsv, "convert_csv", counting)
    fast = _prepare(path, tmp_path, Target("f", True))
    assert calls, "the block-wise converter was not used"
    monkeypatch.setattr(table_rows, "FAST_KINDS", frozenset())
    used = len(calls)
    exact = _prepare(path, tmp_path, Target("f", True))
    assert len(calls) == used
    assert fast.path.read_bytes() == exact.path.read_bytes()
    assert (fast.md5, fast.statements, fast.rows) == (exact.md5, exact.statements, exact.rows)
    assert _run(exact).execute("SELECT count(*) FROM f").fetchone() == (1500,)


def test_types_widening_after_the_head_of_a_file_big_enough_for_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The retry after widening starts its own workers (the first ones are closed by then)."""
    monkeypatch.setattr(blockpool, "PARALLEL_MIN_BYTES", 1024)  # workers for a small file
    started: list[int] = []
    real_init = blockpool.WorkerPool.__init__

    def counting_init(self: blockpool.WorkerPool, *args: Any) -> None:
        real_init(self, *args)
        started.append(len(self.procs))

    monkeypatch.setattr(blockpool.WorkerPool, "__init__", counting_init)
    n = 3000
    rows = [["id", "score"]] + [[str(i), f"{i}.5"] for i in range(n)] + [[str(n), "n/a"]]
    path = tmp_path / "w.csv"
    _write_csv(path, rows)
    conn = _run(_prepare(path, tmp_path, Target("w", True)))
    assert len(started) == 2 and all(started)  # spawned early, used and closed; new for the retry
    assert [r[2] for r in conn.execute("PRAGMA table_info(w)")] == ["INTEGER", "TEXT"]
    assert conn.execute("SELECT count(*), max(score) FROM w").fetchone() == (n + 1, "n/a")


def test_existing_table_mapping_and_not_null(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    _write_csv(path, [["TEXT", "Date_Added", "extra"], ["hello", "2024-01-01", "dropped"]])
    target = Target("TargetD1Table", False, existing=TARGET_D1_TABLE)
    prepared = _prepare(path, tmp_path, target)
    assert prepared.created_tables == ()
    conn = sqlite3.connect(":memory:")
    conn.execute(TARGET_D1_TABLE.create_sql())
    conn.execute("INSERT INTO TargetD1Table VALUES (7, 'seed', 'x')")
    _run(prepared, conn)
    assert conn.execute("SELECT * FROM TargetD1Table ORDER BY id").fetchall() == [
        (7, "seed", "x"),
        (8, "hello", "2024-01-01"),
    ]
    strict = TableSchema(
        "s", (Column("id", "INTEGER", pk=True), Column("name", "TEXT", notnull=True))
    )
    path.write_text('name\nok\n\n""\n')
    with pytest.raises(BadInputError, match="'name' is NOT NULL") as info:
        _prepare(path, tmp_path, Target("s", False, existing=strict))
    assert info.value.where is not None and info.value.where.line == 4


def test_json_values_keep_their_types(tmp_path: Path) -> None:
    conn = _run(_prepare(DATA / "array.json", tmp_path, Target("j", True)))
    got = conn.execute(
        "SELECT id, n, typeof(n), big, typeof(big), ok, nested FROM j ORDER BY id"
    ).fetchall()
    assert got == [
        (1, 1.5, "real", "123456789012345678901234567890", "text", 1, '{"a":[1,2]}'),
        (2, 2.0, "real", "1", "text", 0, None),
    ]


def test_ndjson_key_after_the_head_adds_a_column(tmp_path: Path) -> None:
    path = tmp_path / "late.ndjson"
    lines = [json.dumps({"id": i, "name": f"n{i}"}) for i in range(1500)]
    lines.append(json.dumps({"id": 1500, "name": "last", "late": [1, {"x": None}]}))
    path.write_text("\n".join(lines) + "\n")
    conn = _run(_prepare(path, tmp_path, Target("nd", True)))
    assert [r[1] for r in conn.execute("PRAGMA table_info(nd)")] == ["id", "name", "late"]
    assert conn.execute("SELECT count(*), max(late) FROM nd").fetchone() == (
        1501,
        '[1,{"x":null}]',
    )


def test_ndjson_key_after_the_head_is_refused_for_an_existing_table(tmp_path: Path) -> None:
    path = tmp_path / "late.ndjson"
    lines = [json.dumps({"id": i, "text": f"t{i}"}) for i in range(1, 1501)]
    lines.append(json.dumps({"id": 1501, "text": "last", "date_added": "2024-01-01"}))
    path.write_text("\n".join(lines) + "\n")
    target = Target("TargetD1Table", False, existing=TARGET_D1_TABLE)
    with pytest.raises(BadInputError, match="'date_added' is not in the first rows") as info:
        _prepare(path, tmp_path, target)
    assert info.value.where is not None and info.value.where.line == 1501
    assert "first object" in info.value.hint
    assert list(tmp_path.glob("*.sql")) == []  # the partial file is gone, nothing to send


def test_long_values_and_a_primary_key(tmp_path: Path) -> None:
    big = "é'" * 120_000  # 360 KB of UTF-8 in one field
    path = tmp_path / "long.csv"
    _write_csv(path, [["key", "body"], ["a", big], ["b", "short"]])
    prepared = _prepare(path, tmp_path, Target("l", True), pk="key")
    conn = _run(prepared)
    assert conn.execute("SELECT key, body FROM l ORDER BY key").fetchall() == [
        ("a", big),
        ("b", "short"),
    ]
    assert (
        '"key" TEXT PRIMARY KEY NOT NULL'
        in conn.execute("SELECT sql FROM sqlite_master").fetchone()[0]
    )
    assert "WHERE \"key\" = 'a';" in prepared.path.read_text()


def test_bad_input_deletes_the_partial_file(tmp_path: Path) -> None:
    rows = [["a", "b"]] + [[str(i), "x"] for i in range(20_000)] + [["1", "2", "3"]]
    path = tmp_path / "in" / "r.csv"
    path.parent.mkdir()
    _write_csv(path, rows)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(BadInputError, match="3 fields where the header has 2") as info:
        _prepare(path, out, Target("r", True))
    assert info.value.where is not None and info.value.where.line == 20_002
    assert list(out.iterdir()) == []


def test_cancel_deletes_the_partial_file(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    _write_csv(path, [["a"]] + [[f"v{i}"] for i in range(20_000)])
    out = tmp_path / "out"
    out.mkdir()
    cancel = threading.Event()
    gen = prepare_file(path, ReadOptions(), Target("c", True), out_dir=out, cancel=cancel)
    cancel.set()
    with pytest.raises(ImportCancelledError):
        list(gen)
    assert list(out.iterdir()) == []


def test_progress_is_reported_and_ends_with_the_totals(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    _write_csv(path, [["a", "b"]] + [[str(i), "1.5"] for i in range(20_000)])
    items = list(prepare_file(path, ReadOptions(), Target("p", True), out_dir=tmp_path))
    progress = [i for i in items if isinstance(i, PrepareProgress)]
    assert progress, "no progress event"
    assert [p.rows for p in progress] == sorted(p.rows for p in progress)
    assert progress[-1].rows == 20_000
    assert progress[-1].bytes_written == items[-1].size  # type: ignore[union-attr]


def test_sql_dump_and_sqlite_file_are_delegated(tmp_path: Path) -> None:
    db = tmp_path / "src.sqlite"
    src = sqlite3.connect(db)
    src.executescript(
        "CREATE TABLE p (id INTEGER PRIMARY KEY, n TEXT);"
        "CREATE TABLE c (id INTEGER PRIMARY KEY, p INTEGER REFERENCES p(id));"
        "INSERT INTO p VALUES (1, 'a'), (2, 'b'); INSERT INTO c VALUES (1, 2);"
    )
    src.commit()
    dump = tmp_path / "dump.sql"
    dump.write_text("\n".join(src.iterdump()) + "\n")
    src.close()
    from_db = _prepare(db, tmp_path, Target("ignored", True))
    from_dump = _prepare(dump, tmp_path, Target("ignored", True))
    for prepared in (from_db, from_dump):
        conn = _run(prepared)
        assert conn.execute("SELECT count(*) FROM p").fetchone() == (2,)
        assert conn.execute("SELECT p FROM c").fetchone() == (2,)
        assert "BEGIN" not in prepared.path.read_text()
    assert from_db.rows == {"p": 2, "c": 1}


def test_fake_rows_match_their_preview(tmp_path: Path) -> None:
    target = Target("TargetD1Table", True, current_max_ids={"id": 10})
    spec = FakeSpec(rows=2500, seed=7)
    items = list(prepare_fake(spec, target, out_dir=tmp_path))
    prepared = items[-1]
    assert isinstance(prepared, PreparedImport)
    assert prepared.rows == {"TargetD1Table": 2500}
    conn = _run(prepared)
    assert conn.execute("SELECT count(*), min(id) FROM TargetD1Table").fetchone() == (2500, 11)
    preview = preview_fake(spec, target, limit=5)
    assert conn.execute("SELECT * FROM TargetD1Table ORDER BY id LIMIT 5").fetchall() == [
        tuple(r) for r in preview.rows
    ]
    assert preview.first_sql.startswith(TARGET_D1_TABLE.create_sql())


def test_out_path_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "mine.sql"
    items = list(prepare_file(DATA / "export.tsv", ReadOptions(), Target("t", True), out_path=out))
    prepared = items[-1]
    assert isinstance(prepared, PreparedImport)
    assert prepared.path == out and not prepared.temporary
    conn = _run(prepared)
    assert conn.execute("SELECT code, qty FROM t").fetchall() == [("007", 1), ("010", -2)]


def test_integer_primary_key_refuses_text_before_anything_is_sent(tmp_path: Path) -> None:
    path = tmp_path / "k.csv"
    path.write_text("id,text\n1,a\nabc,b\n")
    target = Target("TargetD1Table", False, existing=TARGET_D1_TABLE)
    with pytest.raises(BadInputError, match="'id' is the INTEGER PRIMARY KEY") as info:
        _prepare(path, tmp_path, target)
    assert info.value.where is not None and info.value.where.line == 3
    assert [p.name for p in tmp_path.iterdir()] == ["k.csv"]


@pytest.mark.parametrize(
    "late",
    ["2.5", "7", "12345678901234567890", "NaN", '"text"', "true", '{"a": [1]}', "null", "1e400"],
)
def test_ndjson_fast_and_exact_paths_write_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, late: str
) -> None:
    lines = [
        json.dumps({"id": i, "name": f"n'{i}\n😀", "score": i + 0.25, "n": i}, ensure_ascii=False)
        for i in range(1500)
    ]
    lines[1200] = lines[1200].replace(f'"score": {1200.25}', f'"score": {late}')
    path = tmp_path / "f.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert f'"score": {late}' in lines[1200]
    calls: list[int] = []
    real = fastndjson.convert_ndjson

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(fastndjson, "convert_ndjson", counting)
    fast = _prepare(path, tmp_path, Target("f", True))
    assert calls, "the block-wise converter was not used"
    monkeypatch.setattr(table_rows, "FAST_NDJSON", False)
    exact = _prepare(path, tmp_path, Target("f", True))
    assert fast.path.read_bytes() == exact.path.read_bytes()
    assert _run(exact).execute("SELECT count(*) FROM f").fetchone() == (1500,)


def test_lone_surrogate_in_json_text_is_bad_input_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "s.ndjson"
    path.write_text('{"a": "ok"}\n{"a": "\\ud800"}\n')
    with pytest.raises(BadInputError, match="surrogate") as info:
        _prepare(path, tmp_path, Target("s", True))
    assert info.value.where is not None and info.value.where.path == path
    assert [p.name for p in tmp_path.iterdir()] == ["s.ndjson"]
