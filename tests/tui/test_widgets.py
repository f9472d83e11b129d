"""The TUI's building blocks on their own: formatting, error text, stage list, summary."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from rich.cells import cell_len
from screen_dump import screen_text
from textual.app import App, ComposeResult

from d1tui.errors import AuthError, BadInputError, ImportCancelledError, Location
from d1tui.events import (
    DatabaseState,
    ImportFailed,
    ImportSucceeded,
    PollResult,
    Stage,
    TableCount,
)
from d1tui.humanize import eta, human_bytes, plural, short_id
from d1tui.tui.screens.preview import cell
from d1tui.tui.text import for_display
from d1tui.tui.widgets.error_panel import ErrorPanel, describe_error
from d1tui.tui.widgets.poll_log import poll_lines
from d1tui.tui.widgets.stage_list import StageList, StageState
from d1tui.tui.widgets.summary import failure_lines, success_lines


def test_units() -> None:
    assert human_bytes(0) == "0 B"
    assert human_bytes(999) == "999 B"
    assert human_bytes(38_200_000) == "38.2 MB"
    assert human_bytes(None) == "?"
    assert plural(1, "table") == "1 table"
    assert plural(12_041, "row") == "12,041 rows"
    assert short_id("7fd5a5ce-79e7-4c34") == "7fd5a5ce…"
    assert eta(50, 100, 10.0) == "0:05"
    assert eta(100, 100, 10.0) == "--"


def test_auth_error_text_has_title_code_and_hint() -> None:
    error = AuthError("Authentication error", codes=(10000,), http_status=403)
    text = describe_error(error).plain
    assert text.startswith("✘ Authentication failed [10000] — Authentication error")
    assert "Account › D1 › Edit" in text


def test_bad_input_names_file_and_line() -> None:
    where = Location(Path("data/x.csv"), line=3, column=2)
    text = describe_error(BadInputError("3 fields, 2 expected", where=where)).plain
    assert "data/x.csv, line 3, column 2: 3 fields, 2 expected" in text


def test_poll_lines_show_status_messages_and_bookmark() -> None:
    result = PollResult(
        number=4,
        status="active",
        messages=("Starting import...", "Processed 160 queries."),
        at_bookmark="00000001-00000005-00004e2b-c977a6f2aaaaaaaaaaaaaaaaaaaaaaaa",
        queries_done=160,
        queries_total=412,
        http_status=200,
        timestamp=0.0,
    )
    first, second = poll_lines(result)
    assert "#4" in first and "active" in first and first.endswith("Starting import...")
    assert "Processed 160 queries." in second and "at 00000001-00000005-00004e2b-c977" in second
    narrow = poll_lines(replace(result, messages=("x " * 40,)), width=60)
    assert all(len(line) <= 60 for line in narrow) and narrow[-1].strip().startswith("at 0000")
    assert " ".join(line[25:] for line in narrow[:-1]).split() == ["x"] * 40


def test_summaries() -> None:
    ok = ImportSucceeded(
        num_queries=412,
        duration_ms=2730,
        rows_read=0,
        rows_written=120_000,
        size_after=52_100_000,
        final_bookmark="b-after",
        at_bookmark="b-before",
        counts=(TableCount("customers", 0, 120_000, 120_000),),
    )
    lines = success_lines(ok, "prod-users")
    assert lines[0] == (
        "✔ 412 queries in 2.73 s · 120,000 rows written · 0 read · database 52.1 MB"
    )
    assert '"customers": 0 → 120,000 rows (expected +120,000) ✔' in lines
    assert "undo: wrangler d1 time-travel restore prod-users --bookmark=b-before" in lines
    failed = ImportFailed(
        stage=Stage.POLL,
        error=ImportCancelledError("cancelled while importing"),
        database=DatabaseState.UNCHANGED,
        counts=(TableCount("TargetD1Table", 5, 5, 3),),
    )
    lines = failure_lines(failed)
    assert lines[0] == "✘ Import cancelled — cancelled while importing (during poll)"
    assert "database: unchanged (checked by query) ✔" in lines
    assert '"TargetD1Table": 5 → 5 rows — as before ✔' in lines


class _Widgets(App[None]):
    def compose(self) -> ComposeResult:
        yield StageList(id="stages")
        yield ErrorPanel(id="error")


async def test_stage_list_and_error_panel_render() -> None:
    app = _Widgets()
    async with app.run_test(size=(80, 12)) as pilot:
        stages = app.query_one(StageList)
        stages.set(Stage.PREPARE, state=StageState.DONE, detail="1.0 KB", seconds=0.5)
        stages.set(Stage.UPLOAD, state=StageState.DONE, bar=(10, 10), detail="stored")
        stages.set(Stage.INIT, state=StageState.SKIPPED, detail="already uploaded")
        stages.fail_running(Stage.INGEST)
        panel = app.query_one(ErrorPanel)
        assert not panel.display or not panel.has_class("shown")
        panel.show_error(AuthError("bad token", codes=(10000,)))
        await pilot.pause()
        text = screen_text(app)
        assert "✔ prepare 1.0 KB" in text and "0.5 s" in text
        assert "– init    already uploaded" in text
        assert "✘ ingest" in text and "◌ verify" in text
        assert "Authentication failed [10000]" in text
        panel.clear()
        await pilot.pause()
        assert "Authentication failed" not in screen_text(app)


def test_emoji_sequences_are_shown_at_the_width_rich_measures() -> None:
    assert for_display("👨\u200d👩\u200d👧 fam") == "👨 fam"
    assert for_display("👍🏽") == "👍"
    assert for_display("🇫🇷") == "FR"
    assert for_display("❤️") == "❤"
    assert for_display("a\x1b[31m") == "a\\x1b[31m"
    long = cell("日本" * 30)
    assert cell_len(long.plain) <= 40 and long.plain.endswith("…")
    assert cell("[bold]x[/]").plain == "[bold]x[/]"  # data is never markup
