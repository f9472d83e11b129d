"""Row counts before and after an import, and the VERIFY stage that compares them."""

from __future__ import annotations

import time
from collections.abc import Callable

from d1tui.api.client import D1Client
from d1tui.api.models import ImportAnswer
from d1tui.errors import D1Error, ImportBusyError, VerificationError
from d1tui.events import (
    DatabaseState,
    ImportEvent,
    ImportFailed,
    Stage,
    StageFinished,
    StageSkipped,
    StageStarted,
    TableCount,
)
from d1tui.importer.outcome import describe_counts, succeeded_from, table_counts
from d1tui.importer.prepared import PreparedImport

_BUSY_PAUSE = 0.25


class Verifier:
    """Counts the rows of the tables a prepared file fills.

    Args:
        client: the API client.
        database_id: the target database.
        prepared: the file; ``prepared.rows`` names the tables and the rows expected.
        busy_wait: how long to keep asking while D1 refuses queries during an import.
    """

    def __init__(
        self,
        client: D1Client,
        database_id: str,
        prepared: PreparedImport,
        busy_wait: float,
    ) -> None:
        self.client = client
        self.db = database_id
        self.prepared = prepared
        self.busy_wait = busy_wait
        self.before: dict[str, int] | None = None

    def count_once(self) -> dict[str, int]:
        """``COUNT(*)`` of the file's tables now (0 for a missing table); raises D1Error."""
        return self.client.count_rows(self.db, list(self.prepared.rows))

    def count_before(self) -> None:
        """Remember the counts before the import (nothing to do for a file without counts)."""
        if self.prepared.rows:
            self.before = self.count_once()

    def count_when_free(self) -> dict[str, int]:
        """Count, asking again while D1 says an import holds the database (bounded)."""
        give_up = time.monotonic() + self.busy_wait
        while True:
            try:
                return self.count_once()
            except ImportBusyError:
                if time.monotonic() >= give_up:
                    raise
                time.sleep(_BUSY_PAUSE)

    def counts_after(self) -> tuple[TableCount, ...] | None:
        """Before/after/expected per table; None when the database could not be counted."""
        if not self.prepared.rows or self.before is None:
            return None
        try:
            after = self.count_when_free()
        except D1Error:
            return None
        return table_counts(self.before, after, self.prepared.rows)

    def verify(
        self,
        emit: Callable[[ImportEvent], None],
        answer: ImportAnswer,
        *,
        at_bookmark: str | None,
        queries_done: int | None,
        started: float,
        enabled: bool,
    ) -> None:
        """The VERIFY stage after a ``complete`` answer; emits the outcome."""

        def outcome(counts: tuple[TableCount, ...] = ()) -> ImportEvent:
            return succeeded_from(
                answer,
                at_bookmark=at_bookmark,
                queries_done=queries_done,
                seconds=time.monotonic() - started,
                counts=counts,
            )

        if not enabled:
            emit(StageSkipped(Stage.VERIFY, "verification is turned off"))
            return emit(outcome())
        if not self.prepared.rows or self.before is None:
            emit(StageSkipped(Stage.VERIFY, "the file's row counts are unknown"))
            return emit(outcome())
        start = time.monotonic()
        emit(StageStarted(Stage.VERIFY, "counting rows"))
        try:
            after = self.count_when_free()
        except D1Error as exc:
            error = VerificationError(
                f"D1 reports the import complete, but the rows could not be counted: {exc}"
            )
            return emit(self._failed(error, (), at_bookmark, started))
        counts = table_counts(self.before, after, self.prepared.rows)
        words = describe_counts(counts)
        if all(c.ok for c in counts):
            emit(StageFinished(Stage.VERIFY, time.monotonic() - start, words))
            return emit(outcome(counts))
        error = VerificationError(
            "D1 reports the import complete and the data was imported, but the row counts "
            f"do not add up: {words}"
        )
        emit(self._failed(error, counts, at_bookmark, started))

    @staticmethod
    def _failed(
        error: D1Error, counts: tuple[TableCount, ...], at_bookmark: str | None, started: float
    ) -> ImportFailed:
        return ImportFailed(
            stage=Stage.VERIFY,
            error=error,
            database=DatabaseState.CHANGED,
            at_bookmark=at_bookmark,
            counts=counts,
            seconds=time.monotonic() - started,
        )
