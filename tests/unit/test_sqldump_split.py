"""The statement splitter: quotes, comments and trigger bodies never split; positions are right."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from d1tui.convert.sql.head import count_tuples, plain_insert, values_offset
from d1tui.convert.sql.split import iter_statements, split_lines, split_sql, value_tuples
from d1tui.errors import BadInputError

TRICKY = st.text(alphabet="ab;'\"`[]-/*\n é🎉()", max_size=12)


def _quoted(q: str, body: str) -> str:
    return q + body.replace(q, q + q) + q


FRAGMENT = st.one_of(
    st.sampled_from(["x", "1", "a.b", "(1, 2)", "CASE WHEN 1 THEN 2 END", "-3", "x/2", "'';"[:2]]),
    TRICKY.map(lambda s: _quoted("'", s)),
    TRICKY.map(lambda s: _quoted('"', s)),
    TRICKY.map(lambda s: _quoted("`", s)),
    TRICKY.filter(lambda s: "]" not in s).map(lambda s: "[" + s + "]"),
    TRICKY.filter(lambda s: "\n" not in s).map(lambda s: "-- " + s + "\n"),
    TRICKY.filter(lambda s: "*/" not in s).map(lambda s: "/* " + s + " */"),
)
SIMPLE = st.lists(FRAGMENT, min_size=1, max_size=6).map(lambda fs: "SELECT " + " ".join(fs))
TRIGGER = st.lists(SIMPLE, min_size=1, max_size=3).map(
    lambda body: "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  " + ";\n  ".join(body) + ";\nEND;"
)
STATEMENT = st.one_of(SIMPLE.map(lambda s: s + ";"), TRIGGER)
SEPARATOR = st.sampled_from(["\n", " ", "\n\n  ", " -- c;o'mment\n", "/* x; ' */\n", "\t"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(SEPARATOR, STATEMENT), min_size=1, max_size=6))
def test_generated_statements_split_back_exactly(pieces: list[tuple[str, str]]) -> None:
    text = ""
    expected = []
    for sep, statement in pieces:
        text += sep
        at = len(text)
        line = text.count("\n", 0, at) + 1
        column = at - (text.rfind("\n", 0, at) + 1) + 1
        expected.append((statement, line, column))
        text += statement
    got = [(s.text, s.line, s.column) for s in split_sql(text)]
    assert got == expected
    # The same text read in pieces cut anywhere inside lines splits the same way.
    pieces = []
    for line in text.splitlines(keepends=True):
        cuts = sorted({(len(line) * k) // 5 for k in range(1, 5)} | {1, len(line) - 1})
        bounds = [0, *[c for c in cuts if 0 < c < len(line)], len(line)]
        pieces += [line[a:b] for a, b in itertools.pairwise(bounds)]
    assert [(s.text, s.line, s.column) for s in split_lines(pieces)] == expected


def test_trigger_body_with_case_end_and_strings_is_one_statement() -> None:
    sql = (
        "CREATE TEMP TRIGGER IF NOT EXISTS tr AFTER UPDATE ON t BEGIN\n"
        "  SELECT CASE WHEN new.a = ';' THEN 'END;' END;\n"
        "  INSERT INTO log VALUES ('x'); -- END;\n"
        "END;\nSELECT 2;"
    )
    parts = split_sql(sql)
    assert [p.line for p in parts] == [1, 5]
    assert parts[0].text.endswith("\nEND;")
    assert parts[1].text == "SELECT 2;"


def test_last_statement_without_semicolon_and_trailing_comment() -> None:
    parts = split_sql("SELECT 1;\n  select 'a;b'\n-- done\n")
    assert [(p.text, p.line, p.column) for p in parts] == [
        ("SELECT 1;", 1, 1),
        ("select 'a;b'\n-- done", 2, 3),
    ]


def test_only_comments_and_blank_lines_give_no_statements() -> None:
    assert split_sql("-- a;\n/* b;\n c */\n\n") == []


def test_unterminated_string_names_the_line_and_column_of_the_quote(tmp_path: Path) -> None:
    f = tmp_path / "bad.sql"
    f.write_text("SELECT 1;\nINSERT INTO t VALUES (1, 'oops);\nSELECT 2;\n")
    with pytest.raises(BadInputError) as err:
        list(iter_statements(f))
    assert err.value.where is not None
    assert (err.value.where.path, err.value.where.line, err.value.where.column) == (f, 2, 26)
    assert "unterminated string" in str(err.value)


def test_non_utf8_bytes_name_line_and_column(tmp_path: Path) -> None:
    f = tmp_path / "latin1.sql"
    f.write_bytes("SELECT 1;\nSELECT 'café';\n".encode("latin-1"))
    with pytest.raises(BadInputError) as err:
        list(iter_statements(f))
    where = err.value.where
    assert where is not None
    assert (where.line, where.column, where.byte_offset) == (2, 12, 21)


def test_bom_and_crlf_are_handled(tmp_path: Path) -> None:
    f = tmp_path / "win.sql"
    f.write_bytes(b"\xef\xbb\xbfCREATE TABLE t(a);\r\nINSERT INTO t VALUES('x\r\ny');\r\n")
    parts = list(iter_statements(f))
    assert [(p.text, p.line, p.column) for p in parts] == [
        ("CREATE TABLE t(a);", 1, 1),
        ("INSERT INTO t VALUES('x\r\ny');", 2, 1),
    ]


def test_value_tuples_follow_nesting_strings_and_comments() -> None:
    text = "INSERT INTO t VALUES (1,'a)b'), /* ( */ (f(2, ')'), X'00') -- x\n, ([)]);"
    start = text.index("VALUES") + 6
    spans = value_tuples(text, start)
    assert spans is not None
    assert [text[a:b] for a, b in spans] == ["(1,'a)b')", "(f(2, ')'), X'00')", "([)])"]
    assert value_tuples("INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING;", 20) is None


@pytest.mark.parametrize(
    ("sql", "table", "rows"),
    [
        ('INSERT INTO "a""b" ("x", "y(") VALUES (1,\'),(\'),(2, ")")', 'a"b', 2),
        ('INSERT INTO "a""b" ("x","y") VALUES (1,\'),(\'),(2, \'--\');', 'a"b', 2),
        ("insert into main.[t t] values(1, (2)), (f(3), 4);", "t t", 2),
        ("INSERT INTO t VALUES (1) /* ( */, (2) -- )\n;", "t", 2),
        ("INSERT INTO t VALUES (1),(2) ON CONFLICT DO NOTHING;", "t", None),
        ("INSERT INTO `q` VALUES (replace('a\\nb','\\n',char(10)));", "q", 1),
    ],
)
def test_plain_insert_heads_and_row_counts(sql: str, table: str, rows: int | None) -> None:
    head = plain_insert(sql)
    if head is None:  # the token-based path handles the unusual heads
        offset = values_offset(sql)
        assert offset is not None
        head = (table, offset)
    assert head[0] == table
    assert count_tuples(sql, head[1]) == rows
