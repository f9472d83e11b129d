"""What every step of the flow shares: the session, and the one place worker outcomes land."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from textual.css.query import NoMatches
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from d1tui.tui.widgets.error_panel import ErrorPanel

if TYPE_CHECKING:
    from d1tui.tui.app import D1TuiApp
    from d1tui.tui.session import Session


class FlowScreen(Screen[None]):
    """A step of the flow.

    Thread workers are named; when one ends, ``<name>_done(result)`` is called on the screen, and
    a failure (a ``D1Error`` or anything unexpected) is shown in the screen's ErrorPanel.
    """

    @property
    def d1app(self) -> D1TuiApp:
        """The app, typed."""
        return cast("D1TuiApp", self.app)

    @property
    def session(self) -> Session:
        """The choices made so far."""
        return self.d1app.session

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Route a finished worker's result or error (also after teardown: empty-safe)."""
        worker: Worker[Any] = event.worker
        if event.state is WorkerState.SUCCESS:
            handler = getattr(self, f"{worker.name}_done", None)
            if handler is not None and self.is_attached:
                handler(worker.result)
        elif event.state is WorkerState.ERROR and worker.error is not None:
            self.worker_failed(worker.name, worker.error)

    def worker_failed(self, name: str, error: BaseException) -> None:
        """Show ``error`` in this screen's error panel (or as a notification)."""
        try:
            self.query_one(ErrorPanel).show_error(error)
        except NoMatches:
            self.app.notify(str(error), title="error", severity="error")
