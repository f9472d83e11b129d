"""Yes/no dialogs: before an import starts, and before one is cancelled."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from d1tui.humanize import plural
from d1tui.tui.text import markup, plain


class ConfirmDialog(ModalScreen[bool]):
    """A question with an explanation; ``y``/enter says yes, ``n``/escape says no."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "yes"),
        Binding("n,escape", "answer(False)", "no"),
    ]

    def __init__(self, title: str, body: str, *, yes: str, no: str, danger: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.yes = yes
        self.no = no
        self.danger = danger

    def compose(self) -> ComposeResult:
        """Title, explanation, two buttons."""
        with Vertical(id="dialog") as box:
            box.border_title = markup(self.title_text)
            yield Static(plain(self.body), id="dialog-body")
            with Horizontal(id="dialog-buttons"):
                yield Button(
                    self.yes, id="yes", variant="error" if self.danger else "primary", compact=True
                )
                yield Button(self.no, id="no", compact=True)

    def on_mount(self) -> None:
        """Focus the safe answer when the action is dangerous."""
        self.query_one("#no" if self.danger else "#yes", Button).focus()

    def action_answer(self, answer: bool) -> None:
        """Close with the answer."""
        self.dismiss(answer)

    @on(Button.Pressed, "#yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def _no(self) -> None:
        self.dismiss(False)


def confirm_import(database: str, rows: int, statements: int, size: str) -> ConfirmDialog:
    """The question asked before anything is sent."""
    return ConfirmDialog(
        f"Import into {database}?",
        f"{plural(rows, 'row')} · {plural(statements, 'statement')} · {size} will be uploaded "
        "and run.\n\n"
        "The database is unavailable while importing: other reads and writes wait until "
        "it is done. If a statement fails, D1 rolls the whole import back.\n\nProceed?",
        yes="Import (y)",
        no="Back (n)",
    )


def confirm_cancel(*, quitting: bool = False) -> ConfirmDialog:
    """The question asked before an import is abandoned (``quitting``: and d1tui closed)."""
    then = (
        "d1tui closes once the rollback is confirmed."
        if quitting
        else "d1tui waits for that, then counts the rows to show the database is as it was."
    )
    return ConfirmDialog(
        "Cancel the import and quit?" if quitting else "Cancel the import?",
        "d1tui stops polling. D1 rolls back an import that is not polled for 15 s (one that"
        f" finishes sooner stays, and the counts will say so); {then}"
        "\n\nCancel the import?",
        yes="Cancel import (y)",
        no="Keep going (n)",
        danger=True,
    )


class NewDatabaseDialog(ModalScreen[str | None]):
    """Asks for a new database's name; enter creates, escape cancels (``None``)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]

    def compose(self) -> ComposeResult:
        """Explanation, the name field, two buttons."""
        with Vertical(id="dialog") as box:
            box.border_title = "New database"
            yield Static(
                "A new, empty D1 database in this account (letters, digits, - and _).",
                id="dialog-body",
            )
            yield Input(placeholder="database name", id="new-database", compact=True)
            yield Static("", id="new-database-error")
            with Horizontal(id="dialog-buttons"):
                yield Button("Create (enter)", id="create", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    @on(Input.Submitted, "#new-database")
    @on(Button.Pressed, "#create")
    def _create(self) -> None:
        name = self.query_one("#new-database", Input).value.strip()
        if not name:
            self.query_one("#new-database-error", Static).update("✘ type a name first")
            return
        self.dismiss(name)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without creating anything."""
        self.dismiss(None)
