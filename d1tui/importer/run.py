"""The one door: import a prepared SQL file into D1 as a generator of events.

``run_import`` runs the stages (``stages.run_stages``) in a worker thread and hands their events
over through a queue, so polls keep their pace (D1 cancels an import not polled for 15 s)
however slowly the caller consumes events. It never raises ``D1Error``: failures end in
``ImportFailed``; only unexpected exceptions propagate.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

from d1tui.api.client import D1Client
from d1tui.events import ImportEvent
from d1tui.importer.context import ImportRun
from d1tui.importer.options import ImportOptions
from d1tui.importer.prepared import PreparedImport
from d1tui.importer.stages import run_stages

__all__ = ["ImportOptions", "run_import"]

DEFAULT_OPTIONS = ImportOptions()
# A thread blocked on a lock runs Python signal handlers only once the wait ends (on Windows, or
# when the signal reached another thread): waits this long at most, so Ctrl-C is never held up.
WAKE_SECONDS = 0.25


class _End:
    """The stages finished (``error`` set when they crashed)."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


def run_import(
    client: D1Client,
    database_id: str,
    prepared: PreparedImport,
    *,
    options: ImportOptions = DEFAULT_OPTIONS,
    cancel: threading.Event | None = None,
    database_name: str = "",
) -> Iterator[ImportEvent]:
    """Import ``prepared`` into the database, yielding events; the last is the outcome.

    Set ``cancel`` to stop: during the upload nothing reaches the database; after ingest the
    import stops polling, waits ``options.rollback_wait`` and checks the tables by count (an
    import that committed all the same ends in ``ImportSucceeded`` with
    ``cancel_came_too_late``). Closing the generator early abandons the import (D1 then rolls
    it back by itself, or finishes it: the next run of the same file checks which).
    ``database_name`` is only for messages.
    """
    events: queue.SimpleQueue[ImportEvent | _End] = queue.SimpleQueue()
    abandoned = threading.Event()
    run = ImportRun(
        client,
        database_id,
        prepared,
        options,
        cancel=cancel or threading.Event(),
        abandoned=abandoned,
        sink=events.put,
        database_name=database_name,
    )

    def work() -> None:
        try:
            run_stages(run)
        except BaseException as exc:  # handed over to the consumer's thread
            events.put(_End(exc))
        else:
            events.put(_End())

    threading.Thread(target=work, name="d1tui-import", daemon=True).start()
    try:
        while True:
            try:
                item = events.get(timeout=WAKE_SECONDS)
            except queue.Empty:  # the caller's thread wakes so its signal handlers (Ctrl-C) run
                continue
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            yield item
    finally:
        abandoned.set()
