"""How import events look: wrangler-style lines, the live line, and JSON lines."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from d1tui.cli.import_cmd import check_size
from d1tui.cli.render import JsonRenderer, TextRenderer, count_line
from d1tui.errors import BadInputError, Location, SQLError
from d1tui.events import (
    DatabaseState,
    ImportFailed,
    ImportSucceeded,
    PollResult,
    Retrying,
    Stage,
    StageFinished,
    StageSkipped,
    StageStarted,
    TableCount,
    UploadProgress,
)
from d1tui.humanize import human_bytes
from d1tui.importer.prepared import MAX_IMPORT_BYTES, PreparedImport

BEFORE = "00000001-00000005-00004e2b-c977a6f2726e175274a1c75055c23607"
AFTER = "00000001-00000006-000050c3-4c9b79f83b33d11cc7eeb237b05be331"


def text_renderer(live: bool = False) -> tuple[TextRenderer, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    r = TextRenderer(out, err, live=live, database_name="forest-jobs")
    r.file_name, r.file_size, r.queries_total = "data.sql", 12_300_000, 5
    return r, out, err


def succeeded() -> ImportSucceeded:
    return ImportSucceeded(
        num_queries=5,
        duration_ms=4.48,
        rows_read=5,
        rows_written=1000,
        size_after=40960,
        final_bookmark=AFTER,
        at_bookmark=BEFORE,
        counts=(TableCount("t", 0, 1000, 1000),),
        seconds=1.5,
    )


def test_success_lines_follow_wrangler_and_add_the_undo_command() -> None:
    r, out, _ = text_renderer()
    r.event(StageStarted(Stage.UPLOAD))
    r.event(StageFinished(Stage.UPLOAD, 0.5))
    r.event(
        PollResult(
            1, "active", ("Starting import...", "Processed 5 queries."), BEFORE, 5, 5, 202, 0.0
        )
    )
    r.event(succeeded())
    text = out.getvalue()
    assert "🌀 Uploading data.sql (12.3 MB of SQL)" in text
    assert "🌀 Uploading complete." in text
    assert "🌀 Processed 5 queries." in text
    assert "🚣 Executed 5 queries in 4.48ms (5 rows read, 1,000 rows written)" in text
    assert '"t": 0 → 1,000 rows (expected +1,000) ✔' in text
    assert f"Database is currently at bookmark {AFTER}." in text
    assert f"wrangler d1 time-travel restore forest-jobs --bookmark={BEFORE}" in text


def test_skipped_upload_and_retry_lines() -> None:
    r, out, _ = text_renderer()
    r.event(StageSkipped(Stage.UPLOAD, "already uploaded"))
    r.event(Retrying(Stage.POLL, 2, 1.5, "HTTP 429"))
    assert "🌀 File already uploaded. Processing." in out.getvalue()
    assert "retrying in 1.5 s (attempt 2)" in out.getvalue()


def test_failure_goes_to_stderr_with_hint_and_database_state() -> None:
    r, out, err = text_renderer()
    error = SQLError("UNIQUE constraint failed: t.id: SQLITE_CONSTRAINT", codes=(7500,))
    r.event(ImportFailed(Stage.POLL, error, DatabaseState.UNCHANGED, at_bookmark=BEFORE))
    assert out.getvalue() == ""
    text = err.getvalue()
    assert "UNIQUE constraint failed" in text and "[code: 7500]" in text and "hint:" in text
    assert "unchanged (checked by query)" in text
    changed = ImportFailed(Stage.VERIFY, error, DatabaseState.CHANGED, at_bookmark=BEFORE)
    r.event(changed)
    assert f"--bookmark={BEFORE}" in err.getvalue()


def test_live_line_is_throttled_and_cleared_before_a_line() -> None:
    r, out, err = text_renderer(live=True)
    for sent in range(0, 1000, 10):
        r.event(UploadProgress(sent, 1000, 0.5))
    assert err.getvalue().count("Uploading ▕") <= 2  # ~10/s at most, not 100 redraws
    r.event(UploadProgress(1000, 1000, 1.0))  # the last one always shows
    assert "100%" in err.getvalue()
    r.line("next")
    assert err.getvalue().endswith("\r\033[K")
    assert out.getvalue() == "next\n"


def test_not_live_means_no_progress_output() -> None:
    r, out, err = text_renderer(live=False)
    r.event(UploadProgress(10, 1000, 0.5))
    assert out.getvalue() == err.getvalue() == ""


def test_json_lines_carry_type_fields_and_error_shape() -> None:
    buf = io.StringIO()
    r = JsonRenderer(buf)
    r.event(UploadProgress(500, 1000, 2.0))
    bad = BadInputError("unterminated string", where=Location(Path("f.sql"), line=3, column=7))
    r.event(ImportFailed(Stage.PREPARE, bad, DatabaseState.NOT_STARTED))
    r.result({"success": False, "error": bad})
    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    assert lines[0] == {
        "type": "upload_progress",
        "sent": 500,
        "total": 1000,
        "seconds": 2.0,
        "can_replace": True,
        "rate": 250.0,
    }
    err = lines[1]["error"]
    assert lines[1]["type"] == "import_failed" and lines[1]["database"] == "not started"
    assert {"title", "detail", "codes", "hint"} <= err.keys()
    assert err["where"] == "f.sql, line 3, column 7"
    assert lines[2]["result"]["error"]["title"] == "Bad input"


def test_small_formatters() -> None:
    assert human_bytes(999) == "999 B" and human_bytes(12_345_678) == "12.3 MB"
    assert count_line(TableCount("t", 5, 6, 2)).endswith("✘")
    assert count_line(TableCount("t", None, 6, 2)) == '"t": ? → 6 rows (expected +2)'


def test_sql_over_the_import_limit_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    huge = PreparedImport(tmp_path / "x.sql", "0" * 32, MAX_IMPORT_BYTES + 1, 1, source="x.csv")
    with pytest.raises(BadInputError) as info:
        check_size(huge, Path("x.csv"))
    assert f"({MAX_IMPORT_BYTES + 1:,} bytes)" in info.value.detail
    assert "at most 4.995 GiB" in info.value.detail and "--tables" in info.value.hint
    assert info.value.where is not None and info.value.where.path == Path("x.csv")
    check_size(PreparedImport(tmp_path / "y.sql", "0" * 32, MAX_IMPORT_BYTES, 1), Path("y"))
