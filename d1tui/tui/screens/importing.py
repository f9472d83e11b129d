"""Step 4: the live panel — stages, upload and query progress, every poll answer, the outcome."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Footer

from d1tui.api.client import D1Client
from d1tui.errors import D1Error
from d1tui.events import (
    DatabaseState,
    HashProgress,
    ImportEvent,
    ImportFailed,
    ImportSucceeded,
    PollResult,
    Retrying,
    Stage,
    StageFinished,
    StageSkipped,
    StageStarted,
    UploadProgress,
)
from d1tui.humanize import eta, human_bytes, plural, safe_text, short_id
from d1tui.importer.prepared import PreparedImport
from d1tui.importer.run import run_import
from d1tui.tui.messages import ImportEventPosted
from d1tui.tui.screens.base import FlowScreen
from d1tui.tui.screens.dialogs import ConfirmDialog, confirm_cancel
from d1tui.tui.text import markup
from d1tui.tui.widgets.error_panel import describe_error
from d1tui.tui.widgets.poll_log import PollLog, retry_line
from d1tui.tui.widgets.stage_list import StageList, StageState
from d1tui.tui.widgets.summary import Summary, failure_lines, success_lines
from d1tui.tui.widgets.top_bar import TopBar

COULD_NOT_CANCEL = "could not cancel: the import completed"
WAITING_TO_QUIT = (
    "cancel and quit: waiting for D1's rollback, then the row counts; then d1tui closes"
)


class ImportScreen(FlowScreen):
    """Runs ``run_import`` in a thread worker and shows each event as it arrives."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "cancel_import", "cancel"),
        Binding("s", "save_log", "save log"),
        Binding("n", "new_import", "new import"),
        Binding("q", "quit", "quit"),
        Binding("ctrl+q", "quit", "quit", show=False, priority=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.cancel_event = threading.Event()
        self.outcome: ImportSucceeded | ImportFailed | None = None
        self.lines: list[str] = []
        self.saved_to: Path | None = None
        self._cancel_dialog: ConfirmDialog | None = None
        self.quitting = False  # "cancel and quit" was confirmed: close once rolled back
        self._quit_asked = False

    def compose(self) -> ComposeResult:
        """Stages, server log, result."""
        session = self.session
        database = session.database
        uuid = short_id(database.uuid) if database else ""
        yield TopBar(f"import · {session.source.label}", local=session.settings.local)
        with Vertical(id="import-panel", classes="panel") as panel:
            panel.border_title = f"Importing into {markup(session.database_label)} ({uuid})"
            yield StageList(id="stages")
            log = PollLog(id="poll-log", max_lines=5000)
            log.border_title = "server"
            yield log
            summary = Summary(id="summary")
            summary.border_title = "result"
            yield summary
        yield Footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Cancel only while running; a new import only after (the footer follows)."""
        if action == "cancel_import":
            return self.running and not self.cancel_event.is_set()
        if action == "new_import":
            return not self.running
        return True

    @property
    def running(self) -> bool:
        """True until the importer reported its outcome."""
        return self.outcome is None

    def on_mount(self) -> None:
        """Mark the prepare stage done and start the import worker."""
        session = self.session
        prepared = session.prepared
        database = session.database
        if prepared is None or database is None:
            return
        self.note(f"import {session.source.label} into {session.database_label} ({database.uuid})")
        self.query_one(StageList).set(
            Stage.PREPARE,
            state=StageState.DONE,
            detail=f"{human_bytes(prepared.size)} · {plural(prepared.statements, 'statement')}",
            seconds=session.prepare_seconds,
        )
        self.note(f"prepare: {prepared.path.name}, {prepared.size} bytes, md5 {prepared.md5}")
        client = self.d1app.client_for(session.settings)
        self.import_worker(client, database.uuid, prepared, self.cancel_event)

    def on_unmount(self) -> None:
        """Leaving the screen stops the import (D1 then rolls it back)."""
        self.cancel_event.set()

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="import",
        name="import",
        description="import into D1",
    )
    def import_worker(
        self, client: D1Client, database_id: str, prepared: PreparedImport, cancel: threading.Event
    ) -> None:
        """Forward every event of ``run_import`` to the screen as a message."""
        try:
            for event in run_import(
                client, database_id, prepared, options=self.d1app.import_options, cancel=cancel
            ):
                self.post_message(ImportEventPosted(event))
        finally:
            if prepared.temporary:
                prepared.path.unlink(missing_ok=True)

    def note(self, line: str) -> None:
        """Keep a line for the saved log."""
        self.lines.append(f"{time.strftime('%H:%M:%S')}  {line}")

    def on_import_event_posted(self, message: ImportEventPosted) -> None:
        """Show one importer event."""
        self.show(message.event)

    def show(self, event: ImportEvent) -> None:
        """Update the stage list, the server log or the summary from ``event``."""
        stages = self.query_one(StageList)
        match event:
            case StageStarted(stage=stage, detail=detail):
                shown = detail or "…"
                if stage is Stage.VERIFY and self.cancel_event.is_set():  # the long why is logged
                    wait = self.d1app.import_options.rollback_wait
                    shown = f"waiting {wait:.0f} s for D1's rollback, then counting rows"
                stages.set(stage, state=StageState.RUNNING, detail=shown)
                self.note(f"{stage.value}: started {detail}")
            case StageFinished(stage=stage, seconds=took, detail=detail):
                row = stages.rows[stage]
                bar = (row.bar[1], row.bar[1]) if row.bar else None
                if stage is Stage.UPLOAD and row.bar:
                    detail = f"{human_bytes(row.bar[1])} · {detail}"
                elif stage is Stage.POLL and row.bar:
                    detail = f"{int(row.bar[1]):,} / {int(row.bar[1]):,} queries · {detail}"
                stages.set(
                    stage, state=StageState.DONE, seconds=took, bar=bar, detail=detail or row.detail
                )
                self.note(f"{stage.value}: done in {took:.2f} s {detail}")
            case StageSkipped(stage=stage, reason=reason):
                stages.set(stage, state=StageState.SKIPPED, detail=reason)
                self.note(f"{stage.value}: skipped ({reason})")
            case HashProgress(done=done, total=total):
                stages.set(
                    Stage.HASH,
                    bar=(done, total),
                    detail=f"{human_bytes(done)} / {human_bytes(total)}",
                )
            case UploadProgress(sent=sent, total=total):
                rate = event.rate
                stages.set(
                    Stage.UPLOAD,
                    bar=(sent, total),
                    detail=f"{human_bytes(sent)} / {human_bytes(total)} · "
                    f"{human_bytes(rate)}/s · ETA {eta(sent, total, rate)}",
                )
            case Retrying():
                line = retry_line(event)
                self.query_one(PollLog).write_line(safe_text(line))
                self.lines.append(line)
            case PollResult():
                self.show_poll(event)
            case ImportSucceeded():
                self.outcome = event
                self._close_cancel_dialog()
                lines = success_lines(event, self.session.database_label)
                if self.cancel_event.is_set():
                    lines.insert(0, COULD_NOT_CANCEL)
                self.query_one(Summary).show_lines(lines, ok=not self.cancel_event.is_set())
                self.lines += ["result:", *lines]
                self.d1app.last_outcome = event
                self.refresh_bindings()
                self._end_quit(event)
            case ImportFailed():
                self.outcome = event
                self._close_cancel_dialog()
                stages.fail_running(event.stage)
                stages.set(event.stage, detail=f"{event.error.title}: {event.error.detail}")
                lines = failure_lines(event)
                if self.cancel_event.is_set() and event.database is DatabaseState.CHANGED:
                    lines.insert(0, COULD_NOT_CANCEL)
                self.query_one(Summary).show_lines(lines, ok=False)
                self.lines += ["result:", *lines]
                self.d1app.last_outcome = event
                self.refresh_bindings()
                self._end_quit(event)

    def show_poll(self, result: PollResult) -> None:
        """One service answer: a log entry and the query bar on the poll stage."""
        self.lines += self.query_one(PollLog).add_poll(result)
        stages = self.query_one(StageList)
        done, total = result.queries_done, result.queries_total
        if stages.rows[Stage.POLL].state is StageState.PENDING:
            return
        if total:
            stages.set(
                Stage.POLL,
                bar=(done or 0, total),
                detail=f"{done or 0:,} / {total:,} queries · poll #{result.number}"
                f" · {result.status}",
            )
        else:
            stages.set(Stage.POLL, detail=f"poll #{result.number} · {result.status}")

    def action_cancel_import(self) -> None:
        """Ask, then stop polling; the importer waits for the rollback and checks the counts."""
        if not self.running:
            self.notify("the import is over: nothing to cancel")
            return
        if self.cancel_event.is_set():
            self.notify("already cancelling: waiting for D1's rollback")
            return

        def answered(yes: bool | None) -> None:
            if yes and self.running:
                self.cancel_event.set()
                line = "cancelling: no more polls; D1 rolls back, then the row counts are checked"
                self.query_one(PollLog).write_line(line)
                self.note(line)
                self.refresh_bindings()

        self._cancel_dialog = confirm_cancel()
        self.app.push_screen(self._cancel_dialog, answered)

    def action_save_log(self) -> None:
        """Write everything shown to a text file (never the token)."""
        path = self.d1app.log_dir / f"d1tui-import-{time.strftime('%Y%m%d-%H%M%S')}.log"
        text = "\n".join(self.lines) + "\n"
        token = self.session.settings.token.value
        if token and token.reveal():
            text = text.replace(token.reveal(), token.masked())
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as error:
            self.notify(f"could not write {path}: {error}", severity="error")
            return
        self.saved_to = path
        self.notify(f"log saved to {path}", title="save log")

    def action_new_import(self) -> None:
        """Back to the source screen for another import."""
        if self.running:
            self.notify("an import is running: c cancels it first", severity="warning")
            return
        self.d1app.new_import()

    def action_quit(self) -> None:
        """Leave d1tui; while an import runs, cancel it and close once the rollback is confirmed.

        While that is awaited, a second ``q`` warns, and a third leaves without waiting.
        """
        if not self.running:
            self.app.exit(0)
            return
        if self.quitting:
            if self._quit_asked:
                self.app.exit(0)
                return
            self._quit_asked = True
            self.notify(
                "waiting for D1's rollback to be confirmed by the row counts; "
                "q again leaves without knowing",
                title="quit",
                severity="warning",
            )
            return

        def answered(yes: bool | None) -> None:
            if not yes or not self.running:
                return
            self.quitting = True
            if not self.cancel_event.is_set():
                self.cancel_event.set()
            self.write_note(WAITING_TO_QUIT)
            self.query_one(StageList).set(Stage.VERIFY, detail=WAITING_TO_QUIT)
            self.refresh_bindings()

        self._cancel_dialog = confirm_cancel(quitting=True)
        self.app.push_screen(self._cancel_dialog, answered)

    def write_note(self, line: str) -> None:
        """A line of d1tui's own in the server log (and the saved log)."""
        self.query_one(PollLog).write_line(line)
        self.note(line)

    def _end_quit(self, outcome: ImportSucceeded | ImportFailed) -> None:
        """After "cancel and quit": close when the counts confirm the rollback, else stay."""
        if not self.quitting:
            return
        confirmed = isinstance(outcome, ImportFailed) and outcome.database in (
            DatabaseState.UNCHANGED,
            DatabaseState.NOT_STARTED,
        )
        if confirmed:
            self.app.exit(0)
            return
        self.quitting = False
        committed = isinstance(outcome, ImportSucceeded) or (
            outcome.database is DatabaseState.CHANGED
        )
        why = COULD_NOT_CANCEL if committed else "the rollback could not be confirmed"
        self.write_note(f"{why}: d1tui stays open so that you can see the result · q quits")
        self.notify(f"{why} · q quits", title="not closed", severity="warning", timeout=30)

    def _close_cancel_dialog(self) -> None:
        """The import ended while "cancel?" was asked: the question is moot, say so."""
        dialog, self._cancel_dialog = self._cancel_dialog, None
        if dialog is not None and dialog.is_active:
            dialog.dismiss(False)
            self.notify("the import ended before it could be cancelled", title="cancel")

    def worker_failed(self, name: str, error: BaseException) -> None:
        """An unexpected error in the worker (the importer itself never raises D1Error)."""
        self.query_one(Summary).show_lines(describe_error(error).plain.splitlines(), ok=False)
        self.outcome = ImportFailed(
            stage=Stage.POLL,
            error=error if isinstance(error, D1Error) else D1Error(str(error)),
            database=DatabaseState.UNKNOWN,
        )
        self.refresh_bindings()
