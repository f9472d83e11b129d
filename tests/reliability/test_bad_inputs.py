"""Bad-input corpus: every file gives a clear error or imports exactly, and never hurts the target.

Each input goes through the headless path (``prepare_file`` then ``run_import`` against the
emulator over HTTP). On an error the message must name the file (and line, row, column where
the case says) and what to do, and the database file must be byte-for-byte as it was; on
success the rows are read back with sqlite3. Files: ``bad_inputs/`` (text, committed) plus the
binary and large ones ``make_bad_inputs.py`` writes at test time.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import make_bad_inputs as corpus
import pytest
from import_runs import run
from test_client_helpers import make_client, start_emulator

from d1tui.api.client import D1Client
from d1tui.cli import main as cli_main
from d1tui.cli.deps import Deps
from d1tui.convert.detect import Format, ReadOptions
from d1tui.convert.prepare import Target, prepare_file
from d1tui.emulator import Emulator
from d1tui.errors import BadInputError, D1Error
from d1tui.events import DatabaseState, ImportFailed, ImportSucceeded
from d1tui.importer.prepared import PreparedImport

COMMITTED = Path(__file__).resolve().parent / "bad_inputs"


@dataclass(frozen=True)
class Bad:
    """Refused before sending: a ``BadInputError`` holding ``where`` and ``words``."""

    words: str
    where: tuple[str, ...] = ()
    hint: str = ""


@dataclass(frozen=True)
class Refused:
    """Sent, refused by D1, rolled back: ``ImportFailed`` with ``words``; tables as before."""

    words: str


@dataclass(frozen=True)
class Ok:
    """Imported: ``sql`` (``{t}`` is the case's table) run on the database file gives ``rows``."""

    sql: str
    rows: list[tuple[object, ...]]


Expect = Bad | Refused | Ok

ENCODING = "--encoding"
CASES: dict[str, Expect] = {
    # CSV
    "truncated_in_quote.csv": Bad("unexpected end of data", ("line 3", "column 3")),
    "truncated_mid_row.csv": Bad(
        "2 fields where the header has 3", ("line 3", "column 4"), "fix the rows"
    ),
    "ragged_short_row.csv": Bad(
        "2 fields where the header has 3", ("line 3", "column 4"), "delimiter"
    ),
    "ragged_long_row.csv": Bad(
        "4 fields where the header has 2", ("line 3", "column 5"), "delimiter"
    ),
    "ragged.tsv": Bad("1 fields where the header has 2", ("line 3", "column 2")),
    "empty.csv": Bad("the file is empty", (), "the file you meant"),
    "only_blank_lines.csv": Bad("no columns", (), "header row"),
    "header_only.csv": Ok(
        "SELECT COUNT(*), (SELECT COUNT(*) FROM pragma_table_info('{t}')) FROM {t}", [(0, 3)]
    ),
    "duplicate_headers.csv": Ok("SELECT name, name_2, NAME_3 FROM {t}", [("x", "y", "z")]),
    "blank_header.csv": Ok("SELECT * FROM {t}", [(1, "a", "b")]),
    "utf8_bom_crlf.csv": Ok("SELECT id, name FROM {t} ORDER BY id", [(1, "café"), (2, "naïve")]),
    "double_bom.csv": Ok("SELECT name FROM {t}", [("a",)]),
    "mixed_encodings.csv": Bad("not valid UTF-8", ("line 3", "column 5"), "--encoding"),
    "latin1_declared.csv": Bad("not valid UTF-8", ("line 2", "column 6"), "--encoding"),
    "mixed_newlines.csv": Ok(
        "SELECT id, name FROM {t} ORDER BY id", [(1, "a"), (2, "b"), (3, "c")]
    ),
    "quoted_newlines.csv": Ok(
        "SELECT note FROM {t} ORDER BY id", [("line one\nline two",), ('say "hi"',)]
    ),
    "stray_quote.csv": Bad("malformed CSV", ("line 3", "column 6")),
    "semicolons.csv": Ok("SELECT id, price FROM {t} ORDER BY id", [(1, "2,50"), (2, "3,75")]),
    "hostile_header.csv": Ok('SELECT "x""); DROP TABLE items;--", "_cf_KV" FROM {t}', [("a", "b")]),
    "sql_looking_values.csv": Ok(
        "SELECT body FROM {t} ORDER BY id", [("'); DROP TABLE items; --",), ("a;b",)]
    ),
    "whitespace_header.csv": Ok("SELECT COUNT(*) FROM {t}", [(1,)]),
    "unicode_header.csv": Ok('SELECT "ид", "名前", "emoji😀" FROM {t}', [(1, "a", "b")]),
    "pk_not_integer.csv": Ok("SELECT id FROM {t} ORDER BY rowid", [("1",), ("2",), ("three",)]),
    "nul_in_value.csv": Ok(
        "SELECT name, length(CAST(name AS BLOB)) FROM {t}", [("a\x00b", 3), ("c", 1)]
    ),
    "nul_in_header.csv": Bad("NUL character", ("line 1",)),
    "utf16le_bom.csv": Ok("SELECT id, name FROM {t} ORDER BY id", [(1, "café"), (2, "b")]),
    "utf16be_bom.csv": Ok("SELECT id, name FROM {t}", [(1, "café")]),
    "utf32_bom.csv": Ok("SELECT id, name FROM {t}", [(1, "x")]),
    "utf16_no_bom.csv": Ok("SELECT id, name FROM {t}", [(1, "a")]),
    "utf16be_no_bom.csv": Ok("SELECT id, name FROM {t}", [(1, "café")]),
    "png_named.csv": Bad("this is a PNG image", (), "data file"),
    "gzip_named.csv": Bad("this is a gzip archive", (), "gunzip"),
    "xlsx_named.csv": Bad("zip archive (or an Excel .xlsx workbook)", (), "save the sheet as CSV"),
    "nul_heavy.tsv": Bad("binary data, not text", (), "the file you meant"),
    "sqlite_named.csv": Ok("SELECT one FROM named", [(1,)]),
    "columns_101.csv": Bad("at most 100", ("line 1",), "split it"),
    "columns_100.csv": Ok("SELECT COUNT(*) FROM pragma_table_info('{t}')", [(100,)]),
    # JSON / NDJSON
    "object_not_array.json": Ok("SELECT id, name FROM {t}", [(1, "a")]),
    "scalar.json": Bad("not an array of objects", ("line 1",), "NDJSON"),
    "array_of_scalars.json": Bad("is a number, not an object", ("row 1",)),
    "truncated.json": Bad("Unterminated string", ("line 2", "column 12")),
    "trailing_comma.json": Bad("invalid JSON", ("line 3", "column 1")),
    "empty_array.json": Bad("no columns", (), "array of objects"),
    "mixed_keys.json": Ok(
        "SELECT id, a, b FROM {t} ORDER BY id", [(1, "x", None), (2, None, 2.5), (3, None, None)]
    ),
    "nested_values.json": Ok("SELECT json_extract(tags, '$[1]') FROM {t}", [("b",)]),
    "nan_value.json": Ok("SELECT COUNT(*) FROM {t}", [(1,)]),
    "huge_integer.json": Ok(
        "SELECT CAST(v AS TEXT) FROM {t}", [("123456789012345678901234567890",)]
    ),
    "duplicate_keys.json": Ok("SELECT id FROM {t}", [(2,)]),
    "row_not_object.json": Bad("is an array, not an object", ("row 2",)),
    "random_bytes.json": Bad("binary data, not text", (), "the file you meant"),
    "bad_line_3.ndjson": Bad("invalid JSON", ("line 3", "column 10")),
    "array_line.ndjson": Bad("is an array, not a JSON object", ("line 2",)),
    "blank_lines.ndjson": Ok("SELECT id FROM {t} ORDER BY id", [(1,), (2,)]),
    "truncated_last_line.ndjson": Bad("Unterminated string", ("line 2",)),
    # SQL dumps
    "begin_commit.sql": Ok("SELECT id, v FROM bc ORDER BY id", [(1, "a"), (2, "b")]),
    "sqlite_dot_dump.sql": Ok("SELECT v FROM dd ORDER BY id", [("semi;colon",), ("it's",)]),
    "attach.sql": Bad("ATTACH is not allowed", ("line 2", "column 1")),
    "forbidden_pragma.sql": Bad("PRAGMA journal_mode is not allowed", ("line 1", "column 1")),
    "allowed_pragma.sql": Ok("SELECT COUNT(*) FROM ap", [(2,)]),
    "cf_kv.sql": Ok("SELECT id, (SELECT COUNT(*) FROM _cf_KV WHERE key = 'k') FROM kv", [(7, 0)]),
    "unterminated_string.sql": Bad("unterminated string", ("line 2", "column 24")),
    "unterminated_comment.sql": Ok("SELECT COUNT(*) FROM uc", [(0,)]),
    "cut_mid_character.sql": Bad("middle of a UTF-8 character", ("line 2", "column 27")),
    "cut_mid_character.csv": Bad("not valid UTF-8", ("line 2", "column 6", "byte 13")),
    "cut_mid_character.ndjson": Bad("not valid UTF-8", ("line 1", "column 23")),
    "comments_only.sql": Bad("nothing to import", (), "only comments"),
    "syntax_error.sql": Refused('near "INSRT": syntax error'),
    "duplicate_key.sql": Refused("UNIQUE constraint failed: dk.id"),
    "vacuum_detach.sql": Bad("VACUUM is not allowed", ("line 2", "column 1")),
    "savepoint.sql": Ok("SELECT COUNT(*) FROM sp", [(0,)]),
    "writes_sqlite_master.sql": Ok("SELECT COUNT(*) FROM wm", [(0,)]),
    "nul_in_sql.sql": Bad("NUL character", ("line 2", "column 1"), "X'00'"),
    # SQLite files
    "good.sqlite": Ok(
        "SELECT COUNT(*), (SELECT COUNT(*) FROM sqlite_master WHERE name = 'people_name') "
        "FROM people",
        [(50, 1)],
    ),
    "corrupt.sqlite": Bad("malformed", (), ".recover"),
    "truncated.sqlite": Bad("cannot be read", (), ".recover"),
    "header_only.sqlite": Bad("not a database", (), ".recover"),
    "only_cf_tables.sqlite": Bad("nothing to import", (), "_cf_"),
    "bad_utf8_schema.sqlite": Bad("cannot be read", (), ".recover"),
    "bad_utf8_index.sqlite": Bad("cannot be read", (), ".recover"),
    "latin1_text.sqlite": Bad("cannot be read (table 'l')", (), ".recover"),
    "with_cf_kv.sqlite": Ok("SELECT name FROM pets ORDER BY id", [("Rex",), ("Tom",)]),
}
LARGE: dict[str, Expect] = {
    "value_3mb.csv": Bad("at most 2,000,000 per row", ("line 3", "row 2")),
    "bad_line_1000000.ndjson": Bad("invalid JSON", ("line 1000000", "column 15")),
}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every input file by name: committed text files plus the ones generated now."""
    generated = tmp_path_factory.mktemp("generated")
    files = {p.name: p for p in COMMITTED.iterdir() if p.is_file()}
    files.update(corpus.write_generated(generated))
    return files


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Emulator, D1Client]]:
    """One emulator for the module (each case uses its own table) and a client."""
    emu = start_emulator(tmp_path_factory.mktemp("target"), hold_seconds=0.02)
    emu.create_database("demo")
    with sqlite3.connect(emu.database_file("demo")) as con:
        con.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
        con.execute("INSERT INTO items VALUES (1, 'keep me'), (2, 'and me')")
    with make_client(emu) as client:
        yield emu, client
    emu.stop()


def fingerprint(emu: Emulator) -> tuple[str, list[str]]:
    """The database file's md5 and its full SQL dump (the dump says what differs)."""
    path = emu.database_file("demo")
    con = sqlite3.connect(path)
    try:
        dump = list(con.iterdump())
    finally:
        con.close()
    return hashlib.md5(path.read_bytes()).hexdigest(), dump


def table_for(name: str) -> str:
    """A table name of its own for every case."""
    return "t_" + "".join(c if c.isalnum() else "_" for c in name)


def prepare(path: Path, out: Path, table: str, **options: object) -> PreparedImport:
    """The headless prepare step; the last item is the PreparedImport."""
    items = list(prepare_file(path, ReadOptions(**options), Target(table, True), out_dir=out))  # type: ignore[arg-type]
    prepared = items[-1]
    assert isinstance(prepared, PreparedImport)
    return prepared


def check(
    name: str, path: Path, expect: Expect, target: tuple[Emulator, D1Client], out: Path
) -> None:
    """Run one input through prepare and import; assert the message and the database."""
    emu, client = target
    table = table_for(name)
    before = fingerprint(emu)
    try:
        prepared = prepare(path, out, table)
    except BadInputError as error:
        assert isinstance(expect, Bad), f"{name}: unexpected {error.describe()}"
        text = error.describe()
        assert path.name in text, text
        for place in expect.where:
            assert place in str(error.where), text
        assert expect.words in error.detail, text
        assert expect.hint in error.hint and error.hint, text
        assert error.exit_code == 3
        assert list(out.iterdir()) == []  # the partial SQL file was removed
        assert fingerprint(emu) == before
        return
    assert not isinstance(expect, Bad), f"{name}: expected {expect}, got {prepared}"
    events = run(client, prepared)
    end = events[-1]
    if isinstance(expect, Refused):
        assert isinstance(end, ImportFailed), f"{name}: {end}"
        assert expect.words in end.error.detail, end.error.describe()
        assert end.database in (DatabaseState.UNCHANGED, DatabaseState.ROLLED_BACK)
        assert end.error.hint
        assert fingerprint(emu)[1] == before[1]
        return
    assert isinstance(end, ImportSucceeded), getattr(end, "error", end)
    assert all(c.ok for c in end.counts), end.counts
    con = sqlite3.connect(emu.database_file("demo"))
    try:
        got = con.execute(expect.sql.replace("{t}", table))
        assert [tuple(r) for r in got.fetchall()] == expect.rows
        assert con.execute("SELECT * FROM items ORDER BY id").fetchall() == [
            (1, "keep me"),
            (2, "and me"),
        ]
    finally:
        con.close()


def test_the_corpus_is_large_and_the_committed_files_match_the_script(
    inputs: dict[str, Path], tmp_path: Path
) -> None:
    assert len(CASES) + len(LARGE) >= 50
    assert set(CASES) <= set(inputs)
    fresh = corpus.write_text(tmp_path)
    assert {n: p.read_bytes() for n, p in fresh.items()} == {
        n: (COMMITTED / n).read_bytes() for n in fresh
    }


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input(
    name: str,
    inputs: dict[str, Path],
    target: tuple[Emulator, D1Client],
    tmp_path: Path,
) -> None:
    check(name, inputs[name], CASES[name], target, tmp_path)


@pytest.mark.parametrize("name", sorted(LARGE))
def test_large_bad_input_is_generated_and_refused_with_its_place(
    name: str, target: tuple[Emulator, D1Client], tmp_path: Path
) -> None:
    path = corpus.write_large(tmp_path / "large")[name]
    out = tmp_path / "out"
    out.mkdir()
    check(name, path, LARGE[name], target, out)


def test_the_right_encoding_flag_imports_what_the_default_refuses(
    inputs: dict[str, Path], target: tuple[Emulator, D1Client], tmp_path: Path
) -> None:
    emu, client = target
    prepared = prepare(inputs["latin1_declared.csv"], tmp_path, "t_latin1", encoding="latin-1")
    assert isinstance(run(client, prepared)[-1], ImportSucceeded)
    with sqlite3.connect(emu.database_file("demo")) as con:
        assert con.execute("SELECT id, name FROM t_latin1").fetchall() == [(1, "café")]


# ---- through the CLI: pre-flight refusals and what the user reads ---------------------------


@pytest.fixture
def local_dir(tmp_path: Path) -> Path:
    """``--local`` databases under tmp (``main`` gives them a quick emulator)."""
    return tmp_path / "local"


QUICK = Deps(emulator_kwargs={"hold_seconds": 0.02})


def main(argv: list[str]) -> int:
    """``d1tui`` with a quick emulator behind --local."""
    return cli_main(argv, deps=QUICK)


def demo_dump(local_dir: Path) -> list[str]:
    """The local demo database as SQL."""
    con = sqlite3.connect(Emulator(local_dir).database_file("demo"))
    try:
        return list(con.iterdump())
    finally:
        con.close()


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: p.mkdir() or p, "is a folder, not a file"),
        (lambda p: p, "cannot read the file"),
    ],
    ids=["folder", "missing"],
)
def test_the_cli_refuses_what_is_not_a_readable_file(
    local_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], make: object, words: str
) -> None:
    assert main(
        ["import", str(tmp_path / "seed.csv"), "--local", "--data-dir", str(local_dir)]
    ) in (2, 3)
    capsys.readouterr()
    path = make(tmp_path / "data.csv")  # type: ignore[operator]
    args = ["import", str(path), "--local", "--data-dir", str(local_dir), "--create", "--yes"]
    assert main(args) == 3
    err = capsys.readouterr().err
    assert "Bad input" in err and "data.csv" in err and words in err


def test_the_cli_shows_file_line_column_and_hint_and_leaves_the_database(
    local_dir: Path, inputs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--local", "--data-dir", str(local_dir), "--create", "--yes", "--table", "t"]
    assert main(["import", str(inputs["blank_lines.ndjson"]), *base]) == 0
    before = demo_dump(local_dir)
    capsys.readouterr()
    assert main(["import", str(inputs["mixed_encodings.csv"]), *base]) == 3
    err = capsys.readouterr().err
    assert "mixed_encodings.csv, line 3, column 5" in err
    assert "hint: give the file's encoding (e.g. --encoding cp1252)" in err
    assert demo_dump(local_dir) == before


def test_a_reserved_table_name_is_refused_and_nothing_changes(
    local_dir: Path, inputs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--local", "--data-dir", str(local_dir), "--create", "--yes"]
    assert main(["import", str(inputs["blank_lines.ndjson"]), *base, "--table", "ok"]) == 0
    before = demo_dump(local_dir)
    for table in ("_cf_KV", "sqlite_x", "_CF_other"):
        capsys.readouterr()
        code = main(["import", str(inputs["blank_lines.ndjson"]), *base, "--table", table])
        assert code == 3
        err = capsys.readouterr().err
        assert "blank_lines.ndjson" in err and f"{table!r} is reserved" in err
        assert "hint: pick another table name" in err
        assert demo_dump(local_dir) == before


def test_only_typed_errors_escape_for_every_input(inputs: dict[str, Path], tmp_path: Path) -> None:
    # Every file again with its format forced wrong: a typed error or a file, nothing else.
    for path in inputs.values():
        for fmt in ("csv", "json", "ndjson", "sql", "sqlite"):
            try:
                prepare(path, tmp_path, "t", format=Format(fmt))
            except D1Error as error:
                assert str(error) and error.exit_code in (3, 5)
