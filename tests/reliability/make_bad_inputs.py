"""Write the bad-input corpus: awkward, broken and hostile files a user may try to import.

``python tests/reliability/make_bad_inputs.py [DIR]`` writes the small text files that are
committed in ``tests/reliability/bad_inputs/`` (DIR defaults to it). Binary and large inputs
(SQLite files, NUL bytes, UTF-16, the 3 MB value, the 1,000,000-line NDJSON) are not committed:
``write_generated(dir)`` makes them at test time.
"""

from __future__ import annotations

import codecs
import gzip
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent / "bad_inputs"

# name -> exact bytes; text files small enough to read in a review.
TEXT: dict[str, bytes] = {
    # --- CSV -----------------------------------------------------------------------------
    "truncated_in_quote.csv": b'id,name\n1,ok\n2,"never closed\n3,x\n',
    "truncated_mid_row.csv": b"id,name,city\n1,a,Oslo\n2,b",
    "ragged_short_row.csv": b"id,name,city\n1,a,Oslo\n2,b\n3,c,Lima\n",
    "ragged_long_row.csv": b"id,name\n1,a\n2,b,extra,more\n",
    "empty.csv": b"",
    "only_blank_lines.csv": b"\n\n\r\n\n",
    "header_only.csv": b"id,name,city\n",
    "duplicate_headers.csv": b"name,name,NAME\nx,y,z\n",
    "blank_header.csv": b"id,,name\n1,a,b\n",
    "utf8_bom_crlf.csv": codecs.BOM_UTF8 + b"id,name\r\n1,caf\xc3\xa9\r\n2,na\xc3\xafve\r\n",
    "double_bom.csv": codecs.BOM_UTF8 * 2 + b"id,name\n1,a\n",
    "mixed_encodings.csv": b"id,name\n1,caf\xc3\xa9\n2,na\xefve\n",
    "latin1_declared.csv": b"id,name\n1,caf\xe9\n",
    "mixed_newlines.csv": b"id,name\r\n1,a\n2,b\r3,c\r\n",
    "quoted_newlines.csv": b'id,note\n1,"line one\nline two"\n2,"say ""hi"""\n',
    "stray_quote.csv": b'id,name\n1,ab"cd\n2,"x"y\n',
    "semicolons.csv": b"id;price;name\n1;2,50;a\n2;3,75;b\n",
    "hostile_header.csv": b'id,"x""); DROP TABLE items;--",_cf_KV\n1,a,b\n',
    "sql_looking_values.csv": b'id,body\n1,\'); DROP TABLE items; --\n2,"a;b"\n',
    "whitespace_header.csv": b" id , name \n1, a \n",
    "unicode_header.csv": "ид,名前,emoji😀\n1,a,b\n".encode(),
    "ragged.tsv": b"id\tname\n1\ta\n2\n",
    "pk_not_integer.csv": b"id,name\n1,a\n2,b\nthree,c\n",
    # --- JSON / NDJSON -------------------------------------------------------------------
    "object_not_array.json": b'{"id": 1, "name": "a"}',
    "scalar.json": b"42",
    "array_of_scalars.json": b"[1, 2, 3]",
    "truncated.json": b'[{"id": 1, "name": "a"},\n {"id": 2, "na',
    "trailing_comma.json": b'[{"id": 1},\n {"id": 2},\n]',
    "empty_array.json": b"[]",
    "mixed_keys.json": b'[{"id": 1, "a": "x"}, {"id": 2, "b": 2.5}, {"id": 3}]',
    "nested_values.json": b'[{"id": 1, "tags": ["a", "b"], "meta": {"k": null}}]',
    "nan_value.json": b'[{"id": 1, "v": NaN}]',
    "huge_integer.json": b'[{"id": 1, "v": 123456789012345678901234567890}]',
    "duplicate_keys.json": b'[{"id": 1, "id": 2}]',
    "row_not_object.json": b'[{"id": 1}, [2], {"id": 3}]',
    "bad_line_3.ndjson": b'{"id": 1}\n{"id": 2}\n{"id": 3,,}\n{"id": 4}\n',
    "array_line.ndjson": b'{"id": 1}\n[2]\n',
    "blank_lines.ndjson": b'\n{"id": 1}\n\n{"id": 2}\n\n',
    "truncated_last_line.ndjson": b'{"id": 1}\n{"id": 2, "name": "b',
    # --- SQL dumps -----------------------------------------------------------------------
    "begin_commit.sql": (
        b"BEGIN TRANSACTION;\nCREATE TABLE bc (id INTEGER PRIMARY KEY, v TEXT);\n"
        b"INSERT INTO bc VALUES (1, 'a');\nINSERT INTO bc VALUES (2, 'b');\nCOMMIT;\n"
    ),
    "attach.sql": (
        b"CREATE TABLE att (id INTEGER);\n"
        b"ATTACH DATABASE '/tmp/other.db' AS other;\nINSERT INTO att VALUES (1);\n"
    ),
    "forbidden_pragma.sql": (
        b"PRAGMA journal_mode=WAL;\nCREATE TABLE fp (id INTEGER);\nINSERT INTO fp VALUES (1);\n"
    ),
    "allowed_pragma.sql": (
        b"PRAGMA foreign_keys=OFF;\nPRAGMA defer_foreign_keys=TRUE;\n"
        b"CREATE TABLE ap (id INTEGER);\nINSERT INTO ap VALUES (1), (2);\n"
    ),
    "cf_kv.sql": (
        b"CREATE TABLE _cf_KV (key TEXT PRIMARY KEY, value BLOB);\n"
        b"INSERT INTO _cf_KV VALUES ('k', X'00');\n"
        b"CREATE TABLE kv (id INTEGER PRIMARY KEY);\nINSERT INTO kv VALUES (7);\n"
    ),
    "sqlite_dot_dump.sql": (
        b"PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n"
        b"CREATE TABLE dd (id INTEGER PRIMARY KEY, v TEXT);\n"
        b"INSERT INTO dd VALUES(1,'semi;colon');\nINSERT INTO dd VALUES(2,'it''s');\n"
        b"CREATE TABLE sqlite_sequence(name,seq);\nCOMMIT;\n"
    ),
    "unterminated_string.sql": (
        b"CREATE TABLE us (v TEXT);\nINSERT INTO us VALUES ('never closed);\n"
    ),
    "unterminated_comment.sql": (
        b"CREATE TABLE uc (v TEXT);\n/* never closed\nINSERT INTO uc VALUES (1);\n"
    ),
    "cut_mid_character.sql": b"CREATE TABLE x (v TEXT);\nINSERT INTO x VALUES ('caf\xc3",
    "cut_mid_character.csv": b"id,name\n1,caf\xc3",
    "cut_mid_character.ndjson": b'{"id": 1, "name": "caf\xc3',
    "comments_only.sql": b"-- nothing here\n/* still nothing */\n",
    "syntax_error.sql": (
        b"CREATE TABLE se (id INTEGER);\nINSERT INTO se VALUES (1);\nINSRT INTO se VALUES (2);\n"
    ),
    "duplicate_key.sql": (
        b"CREATE TABLE dk (id INTEGER PRIMARY KEY);\nINSERT INTO dk VALUES (1);\n"
        b"INSERT INTO dk VALUES (1);\n"
    ),
    "vacuum_detach.sql": b"CREATE TABLE vd (id INTEGER);\nVACUUM;\nDETACH DATABASE other;\n",
    "savepoint.sql": b"SAVEPOINT a;\nCREATE TABLE sp (id INTEGER);\nRELEASE a;\n",
    "writes_sqlite_master.sql": b"CREATE TABLE wm (id INTEGER);\nDELETE FROM sqlite_master;\n",
}


def _utf16(text: str, codec: str) -> bytes:
    return text.encode(codec)


def _sqlite_file(path: Path, fill: Callable[[sqlite3.Connection], None]) -> bytes:
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    try:
        fill(con)
        con.commit()
    finally:
        con.close()
    return path.read_bytes()


def _good_db(con: sqlite3.Connection) -> None:
    con.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    con.executemany("INSERT INTO people VALUES (?, ?)", [(i, f"p{i}") for i in range(1, 51)])
    con.execute("CREATE INDEX people_name ON people(name)")


def _cf_db(con: sqlite3.Connection) -> None:
    con.execute("CREATE TABLE _cf_KV (key TEXT PRIMARY KEY, value BLOB)")
    con.execute("INSERT INTO _cf_KV VALUES ('k', x'00')")
    con.execute("CREATE TABLE pets (id INTEGER PRIMARY KEY, name TEXT)")
    con.execute("INSERT INTO pets VALUES (1, 'Rex'), (2, 'Tom')")


def binary_inputs(scratch: Path) -> dict[str, bytes]:
    """Small binary inputs, made on the fly (SQLite pages, NULs, other encodings)."""
    scratch.mkdir(parents=True, exist_ok=True)
    good = _sqlite_file(scratch / "good.db", _good_db)
    return {
        "nul_in_value.csv": b"id,name\n1,a\x00b\n2,c\n",
        "nul_in_header.csv": b"id,na\x00me\n1,a\n",
        "utf16le_bom.csv": _utf16("\ufeffid,name\r\n1,café\r\n2,b\r\n", "utf-16-le"),
        "utf16be_bom.csv": _utf16("\ufeffid,name\n1,café\n", "utf-16-be"),
        "utf32_bom.csv": _utf16("\ufeffid,name\n1,x\n", "utf-32-le"),
        "utf16_no_bom.csv": _utf16("id,name\n1,a\n", "utf-16-le"),
        "utf16be_no_bom.csv": _utf16("id,name\n1,café\n", "utf-16-be"),
        "png_named.csv": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
        "gzip_named.csv": gzip.compress(b"id,name\n1,a\n" * 50, mtime=0),
        "xlsx_named.csv": b"PK\x03\x04\x14\x00\x06\x00" + b"[Content_Types].xml" + bytes(64),
        "nul_heavy.tsv": b"id\tname\n" + b"\x00\x01\x02\x00" * 200,
        "random_bytes.json": bytes((i * 131 + 7) % 256 for i in range(3000)),
        "good.sqlite": good,
        "corrupt.sqlite": good[:100] + b"\xde\xad\xbe\xef" * ((len(good) - 100) // 4),
        "truncated.sqlite": good[:150],
        "header_only.sqlite": b"SQLite format 3\x00",
        "only_cf_tables.sqlite": _sqlite_file(
            scratch / "cf.db", lambda c: c.execute("CREATE TABLE _cf_KV (k TEXT)")
        ),
        "with_cf_kv.sqlite": _sqlite_file(scratch / "cfkv.db", _cf_db),
        "bad_utf8_schema.sqlite": _sqlite_file(
            scratch / "schema.db", lambda c: c.execute("CREATE TABLE zzzzname (v TEXT)")
        ).replace(b"zzzzname", b"\x80zzzname"),
        # SQLite's own error message then holds the bad byte (found by the reader fuzzer).
        "bad_utf8_index.sqlite": _sqlite_file(
            scratch / "index.db",
            lambda c: c.executescript("CREATE TABLE a (t TEXT); CREATE INDEX ix ON a(t);"),
        ).replace(b"ON a(t)", b"ON a(\x80)"),
        "latin1_text.sqlite": _sqlite_file(
            scratch / "latin1.db",
            lambda c: c.executescript(
                "CREATE TABLE l (v TEXT); INSERT INTO l VALUES (CAST(X'63616680' AS TEXT));"
            ),
        ),
        "sqlite_named.csv": _sqlite_file(
            scratch / "named.db", lambda c: c.execute("CREATE TABLE named AS SELECT 1 AS one")
        ),
        "nul_in_sql.sql": b"CREATE TABLE ns (v TEXT);\nINSERT INTO ns VALUES ('a\x00b');\n",
    }


def columns_101() -> bytes:
    """A CSV with 101 columns (D1 allows 100 per table)."""
    header = ",".join(f"c{i}" for i in range(101))
    row = ",".join(str(i) for i in range(101))
    return f"{header}\n{row}\n".encode()


def columns_100() -> bytes:
    """A CSV with exactly 100 columns: the most D1 allows."""
    header = ",".join(f"c{i}" for i in range(100))
    return f"{header}\n{','.join(['1'] * 100)}\n".encode()


def write_large(folder: Path) -> dict[str, Path]:
    """The large inputs, written into ``folder``: a 3 MB value and a bad line 1,000,000."""
    folder.mkdir(parents=True, exist_ok=True)
    big_value = folder / "value_3mb.csv"
    with big_value.open("wb") as fh:
        fh.write(b"id,blob\n1,small\n2,")
        fh.write(b"x" * (3 * 1024 * 1024))
        fh.write(b"\n3,small\n")
    ndjson = folder / "bad_line_1000000.ndjson"
    line = b'{"id":%d}\n'
    with ndjson.open("wb") as fh:
        block = 10_000
        for start in range(1, 1_000_000, block):
            stop = min(start + block, 1_000_000)
            fh.write(b"".join(line % i for i in range(start, stop)))
        fh.write(b'{"id":1000000 oops}\n')
    return {"value_3mb.csv": big_value, "bad_line_1000000.ndjson": ndjson}


def write_generated(folder: Path) -> dict[str, Path]:
    """Write the binary and computed inputs (not the large ones) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    files = dict(binary_inputs(folder / ".scratch"))
    files["columns_101.csv"] = columns_101()
    files["columns_100.csv"] = columns_100()
    out = {}
    for name, data in files.items():
        (folder / name).write_bytes(data)
        out[name] = folder / name
    return out


def write_text(folder: Path = HERE) -> dict[str, Path]:
    """Write the committed text inputs into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, data in TEXT.items():
        (folder / name).write_bytes(data)
        out[name] = folder / name
    return out


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    written = write_text(target)
    print(f"wrote {len(written)} files to {target}")
