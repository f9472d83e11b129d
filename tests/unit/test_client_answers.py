"""Import answers: the three failure shapes, progress lines, final figures."""

from __future__ import annotations

import pytest

from d1tui.api.models import NOT_IMPORTING, ImportAnswer
from d1tui.importer.counts import succeeded_from

BOOKMARK = "00000001-00000005-00004e2b-c977a6f2726e175274a1c75055c23607"


@pytest.mark.parametrize(
    "result",
    [
        {"success": False, "error": "UNIQUE constraint failed: t.id: SQLITE_CONSTRAINT"},
        {
            "success": True,
            "type": "import",
            "status": "error",
            "at_bookmark": BOOKMARK,
            "messages": [],
            "error": "UNIQUE constraint failed: t.id: SQLITE_CONSTRAINT",
        },
        {
            "success": True,
            "type": "import",
            "status": "error",
            "at_bookmark": BOOKMARK,
            "messages": [],
            "errors": ["UNIQUE constraint failed: t.id: SQLITE_CONSTRAINT"],
        },
        {
            "success": False,
            "status": "error",
            "errors": [
                {"code": 7500, "message": "UNIQUE constraint failed: t.id: SQLITE_CONSTRAINT"}
            ],
        },
    ],
)
def test_every_failure_shape_is_a_failure_with_its_text(result: dict[str, object]) -> None:
    answer = ImportAnswer(200, result)
    assert answer.failed and not answer.complete and not answer.not_importing
    assert answer.error_text == "UNIQUE constraint failed: t.id: SQLITE_CONSTRAINT"


def test_active_and_complete_answers() -> None:
    active = ImportAnswer(
        202,
        {
            "success": True,
            "status": "active",
            "at_bookmark": BOOKMARK,
            "messages": ["Starting import...", "Processed 10 queries.", "Processed 25 queries."],
        },
    )
    assert not active.failed and not active.complete
    assert active.queries_processed == 25 and active.at_bookmark == BOOKMARK
    complete = ImportAnswer(
        200,
        {
            "success": True,
            "status": "complete",
            "at_bookmark": BOOKMARK,
            "messages": [],
            "result": {
                "num_queries": 9,
                "final_bookmark": "b2",
                "meta": {
                    "duration": 2.5,
                    "rows_read": 13,
                    "rows_written": 12,
                    "size_after": 40960,
                    "served_by_region": "WEUR",
                },
            },
        },
    )
    assert complete.complete and complete.queries_processed is None
    done = succeeded_from(complete, at_bookmark=BOOKMARK, queries_done=None, seconds=1.0)
    assert (
        done.num_queries,
        done.duration_ms,
        done.rows_read,
        done.rows_written,
        done.size_after,
    ) == (9, 2.5, 13, 12, 40960)
    assert done.final_bookmark == "b2" and done.served_by_region == "WEUR"


def test_init_answers() -> None:
    needs = ImportAnswer(
        200, {"filename": "db.0123456789abcdef.sql", "upload_url": "http://x/upload"}
    )
    assert needs.upload_url == "http://x/upload" and needs.filename == "db.0123456789abcdef.sql"
    assert not needs.failed and needs.status is None
    busy = ImportAnswer(
        200,
        {
            "success": False,
            "error": "Currently processing a long-running import. Cannot start another import"
            " until that completes or times out.",
        },
    )
    assert busy.busy and busy.failed and busy.upload_url is None


def test_not_importing_is_recognised_and_odd_shapes_tolerated() -> None:
    assert ImportAnswer(200, {"success": False, "error": NOT_IMPORTING}).not_importing
    odd = ImportAnswer(
        200, {"messages": "not a list", "error": {"message": "object error"}, "success": False}
    )
    assert odd.messages == () and odd.error_text == "object error"
    assert ImportAnswer(200, {}).final == {} and ImportAnswer(200, {}).inner_success is None
