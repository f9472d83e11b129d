"""How patient an import is: deadlines, poll pacing, progress throttling, rollback wait."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ImportOptions:
    """Tunables of ``run_import``.

    Args:
        deadline: overall seconds before giving up (``ImportTimeoutError``).
        verify: compare ``COUNT(*)`` before/after with the rows sent.
        progress_interval: least seconds between two upload progress events.
        rollback_wait: after a cancel, seconds to wait without polling before checking the
            database (D1 rolls back an import not polled for 15 s). It is also the poll
            window: after this long without an answer D1 has finished or dropped the import.
        max_poll_gap: polls are never further apart than this, retries included.
        poll_floor: least seconds between polls when D1 answers at once (0.5 s keeps polling
            at 600 requests per 5 minutes, half of Cloudflare's 1,200 budget).
        busy_wait: how long to keep asking while D1 says an import holds the database.
        patience: how long to keep trying while the API cannot be reached during an import
            (polls, then the counts that tell the outcome); the CLI's ``--patience``.
        force: import even when an earlier interrupted import of the same file committed.
        records_dir: where each import records what it is about to do (None: the user
            state dir, ``settings.paths.import_records_dir``).
    """

    deadline: float = 6 * 3600
    verify: bool = True
    progress_interval: float = 0.1
    rollback_wait: float = 16.0
    max_poll_gap: float = 5.0
    poll_floor: float = 0.5
    busy_wait: float = 60.0
    patience: float = 60.0
    force: bool = False
    records_dir: Path | None = None
