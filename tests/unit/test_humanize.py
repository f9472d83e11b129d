"""The one home of sizes, counts, ids and escaped names, shared by the CLI and the TUI."""

from __future__ import annotations

import io
from pathlib import Path

from d1tui.cli.render import TextRenderer
from d1tui.errors import BadInputError, Location
from d1tui.events import ImportSucceeded, PrepareProgress, TableCount
from d1tui.humanize import cell_width, fit, human_bytes, plural, safe_text


def test_sizes_are_decimal_and_spelled_as_cloudflare_does() -> None:
    assert human_bytes(999) == "999 B"
    assert human_bytes(16_384) == "16.4 kB"
    assert human_bytes(12_345_678) == "12.3 MB"
    assert human_bytes(2_500_000_000_000) == "2.5 TB"
    assert "KB" not in human_bytes(1_000)


def test_counts_are_pluralised_by_the_client() -> None:
    assert plural(1, "statement") == "1 statement"
    assert plural(2, "statement") == "2 statements"
    assert plural(1, "query", "queries") == "1 query"
    assert plural(1_000, "table") == "1,000 tables"


def test_safe_text_escapes_c0_c1_del_and_keeps_the_rest() -> None:
    assert safe_text("t\x1b[31m\x07x") == "t\\x1b[31m\\x07x"
    assert safe_text("a\x9b1mb\x7f") == "a\\x9b1mb\\x7f"
    assert safe_text("rtl\u202eevil") == "rtl\\u202eevil"
    assert safe_text("Zoë 日本 👍🏽 C:\\x\\data") == "Zoë 日本 👍🏽 C:\\x\\data"
    # An escape-like text next to a real control stays tellable apart from it.
    assert safe_text("\\x1b\x1b") == "\\\\x1b\\x1b"
    assert safe_text(safe_text("a\x1bb")) == safe_text("a\x1bb")


def test_error_messages_show_names_escaped() -> None:
    where = Location(path=Path("f\x07.csv"), line=3)
    err = BadInputError("no such table \x1b[2J", where=where)
    assert "\x1b" not in str(err) and "\x07" not in err.describe()
    assert "\\x1b[2J" in str(err) and "f\\x07.csv" in str(err)


def test_fit_cuts_by_terminal_cells() -> None:
    assert cell_width("日本") == 4
    assert fit("日本日本", 5) == "日本…"
    assert fit("short", 10) == "short"


def test_live_line_fits_a_narrow_terminal_and_clears_to_the_end(monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "30")
    out, err = io.StringIO(), io.StringIO()
    r = TextRenderer(out, err, live=True)
    r.event(PrepareProgress(5_000_000, 10_000_000, rows=123_456, statements=9, bytes_written=1))
    line = err.getvalue()
    assert line.startswith("\r") and line.endswith("\033[K")
    assert cell_width(line[1:-3]) <= 29


def test_summary_says_one_query_and_one_row() -> None:
    out, err = io.StringIO(), io.StringIO()
    r = TextRenderer(out, err, live=False, database_name="db")
    r.event(
        ImportSucceeded(
            num_queries=1,
            duration_ms=1.0,
            rows_read=1,
            rows_written=1,
            size_after=16_384,
            final_bookmark="",
            at_bookmark="",
            counts=(TableCount("t", 0, 1, 1),),
            seconds=0.1,
        )
    )
    text = out.getvalue()
    assert "Executed 1 query in" in text and "(1 row read, 1 row written)" in text
    assert "16.4 kB" in text
