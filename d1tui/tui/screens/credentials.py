"""Step 1: account, token and database — each with where it came from; verify; pick."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Footer, Input, Label, Static

from d1tui.humanize import safe_text
from d1tui.settings.config import Settings, Sourced
from d1tui.settings.profile import save_profile
from d1tui.settings.secret import Secret
from d1tui.tui.screens.base import FlowScreen
from d1tui.tui.screens.dialogs import NewDatabaseDialog
from d1tui.tui.text import plain
from d1tui.tui.widgets.database_picker import DatabasePicker
from d1tui.tui.widgets.error_panel import ErrorPanel
from d1tui.tui.widgets.top_bar import TopBar

if TYPE_CHECKING:
    from d1tui.api.client import D1Client, DatabaseInfo, TokenStatus

TYPED = "typed here"
NO_CREDENTIALS = "no account id or API token found · to try d1tui without an account: d1tui --local"


def _from(source: str) -> str:
    return source if source in ("not set", TYPED, "picked here") else f"from {source}"


class CredentialsScreen(FlowScreen):
    """Account id, API token (masked), verify, then the database picker."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+v", "verify", "verify", priority=True),
        Binding("ctrl+r", "reveal", "reveal token", priority=True),
        Binding("ctrl+n", "continue", "continue", priority=True),
        Binding("ctrl+t", "new_database", "new database", priority=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.verified: TokenStatus | None = None
        self._stale = False  # the later steps ran: sizes and tables may have changed

    def compose(self) -> ComposeResult:
        """Fields with their sources, the verify line, the picker, remember."""
        settings = self.session.settings
        yield TopBar("Cloudflare D1 import", local=settings.local, target=_host(settings))
        with Vertical(id="connect", classes="panel") as panel:
            panel.border_title = "Connect"
            with Horizontal(classes="field"):
                yield Label("Account ID", classes="field-label")
                yield Input(
                    settings.account_id.value or "",
                    placeholder="32 hex characters",
                    id="account",
                    compact=True,
                )
                yield Static(_from(settings.account_id.source), id="account-source", classes="src")
            with Horizontal(classes="field"):
                yield Label("API token", classes="field-label")
                token = settings.token.value
                yield Input(
                    token.reveal() if token else "",
                    placeholder="a token with Account › D1 › Edit",
                    password=True,
                    id="token",
                    compact=True,
                )
                yield Static(_from(settings.token.source), id="token-source", classes="src")
            with Horizontal(classes="field"):
                yield Label("", classes="field-label")
                yield Button("Verify", id="verify", variant="primary", compact=True)
                yield Static("not verified yet · ^v verify · ^r reveal", id="verify-status")
            yield ErrorPanel(id="error")
            with Horizontal(classes="field", id="database-line"):
                yield Label("Database", classes="field-label")
                yield Static(plain(self._database_hint()), id="database-source", classes="src")
            yield DatabasePicker(id="picker")
            with Horizontal(classes="field"):
                yield Checkbox(
                    "remember (not for the local emulator)"
                    if settings.local
                    else "remember (token goes to the system keyring)",
                    id="remember",
                    disabled=settings.local,
                    compact=True,
                )
                yield Button("New database", id="new-database-button", compact=True)
                yield Button(
                    "Continue", id="continue", variant="success", disabled=True, compact=True
                )
        yield Footer()

    def _database_hint(self) -> str:
        database = self.session.settings.database
        if database.value:
            return f"{database.value} {_from(database.source)} · verify to list databases"
        return "verify to list the account's databases"

    def fill_settings(self, settings: Settings) -> None:
        """The local emulator is up: show its account and token, ready to verify."""
        self.query_one("#account", Input).value = settings.account_id.value or ""
        token = settings.token.value
        self.query_one("#token", Input).value = token.reveal() if token else ""
        for field_id, sourced in (("account", settings.account_id), ("token", settings.token)):
            self.query_one(f"#{field_id}-source", Static).update(_from(sourced.source))
        self.query_one("#database-source", Static).update(plain(self._database_hint()))
        self.query_one("#verify-status", Static).update("not verified yet · ^v verify · ^r reveal")
        self.on_mount()

    def on_mount(self) -> None:
        """Start in the first empty field, or on Verify when everything is filled."""
        if self.d1app.starting_local:
            self.query_one("#verify-status", Static).update("starting the local emulator …")
            self.query_one("#verify", Button).focus()
            return
        empty = [f for f in ("account", "token") if not self.query_one(f"#{f}", Input).value]
        if len(empty) == 2 and not self.session.settings.local:
            self._status(NO_CREDENTIALS, ok=None)
        if empty:
            self.query_one(f"#{empty[0]}", Input).focus()
            return
        self.query_one("#verify", Button).focus()

    def settings_from_fields(self) -> Settings:
        """The settings as typed: a changed field is sourced "typed here"."""
        settings = self.session.settings
        account = self.query_one("#account", Input).value.strip()
        token = self.query_one("#token", Input).value.strip()
        if account != (settings.account_id.value or ""):
            settings = replace(settings, account_id=Sourced(account or None, TYPED))
        old = settings.token.value.reveal() if settings.token.value else ""
        if token != old:
            settings = replace(settings, token=Sourced(Secret(token) if token else None, TYPED))
        return settings

    @on(Input.Submitted, "#account")
    def _account_entered(self) -> None:
        self.query_one("#token", Input).focus()

    @on(Input.Submitted, "#token")
    @on(Button.Pressed, "#verify")
    def action_verify(self) -> None:
        """Check the token and list the databases (in a worker)."""
        if self.d1app.starting_local:
            self.notify("the local emulator is still starting: a moment")
            return
        settings = self.settings_from_fields()
        self.session.settings = settings
        for field_id, sourced in (("account", settings.account_id), ("token", settings.token)):
            self.query_one(f"#{field_id}-source", Static).update(_from(sourced.source))
        self.query_one(ErrorPanel).clear()
        self.verified = None
        self.query_one("#continue", Button).disabled = True
        if not settings.account_id.value or not settings.token.value:
            hint = "" if settings.local else " (or try the local emulator: d1tui --local)"
            self._status(f"✘ enter the account id and the API token first{hint}", ok=False)
            return
        self._status("… verifying the token", ok=None)
        self.run_verify(self.d1app.client_for(settings))

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="credentials",
        name="verify",
        description="verify the API token and list databases",
    )
    def run_verify(self, client: D1Client) -> tuple[TokenStatus, list[DatabaseInfo]]:
        """Token status, then (when it is active) every database of the account."""
        status = client.verify_token()
        if status.status != "active":
            return status, []
        return status, client.list_databases()

    def verify_done(self, result: tuple[TokenStatus, list[DatabaseInfo]]) -> None:
        """Show the token status and fill the picker."""
        status, databases = result
        if status.status != "active":
            self._status(f"✘ token {status.status} · {status.message or 'create a new one'}", False)
            return
        self.verified = status
        expiry = f"expires {status.expires_on}" if status.expires_on else "no expiry"
        count = f"{len(databases)} database" + ("" if len(databases) == 1 else "s")
        self._status(f"✔ token active · {expiry} · {count}", ok=True)
        self.show_databases(databases, preferred=self.session.settings.database.value)
        if databases:
            self.query_one("#db-table").focus()

    def show_databases(self, databases: list[DatabaseInfo], preferred: str | None) -> None:
        """Fill the picker (cursor on ``preferred``) and say what can be done with it."""
        self.query_one(DatabasePicker).set_databases(databases, preferred=preferred)
        self.query_one("#database-source", Static).update(
            "pick one: ↑↓ and enter · type to filter · ^t new"
            if databases
            else "no databases yet: ^t creates one"
        )
        self.query_one("#continue", Button).disabled = not databases

    def on_screen_resume(self) -> None:
        """Back from the later steps: list the databases again (imports change their sizes)."""
        if self._stale and self.verified is not None:
            self._stale = False
            self.refresh_databases(self.d1app.client_for(self.session.settings))

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="databases",
        name="databases",
        description="list the databases again",
    )
    def refresh_databases(
        self, client: D1Client, create: str | None = None
    ) -> tuple[DatabaseInfo | None, list[DatabaseInfo]]:
        """Every database of the account (after creating ``create``, when given)."""
        created = client.create_database(create) if create else None
        return created, client.list_databases()

    def databases_done(self, result: tuple[DatabaseInfo | None, list[DatabaseInfo]]) -> None:
        """Show the fresh list; a database just created is the one under the cursor."""
        created, databases = result
        picker = self.query_one(DatabasePicker)
        keep = created.uuid if created else (h.uuid if (h := picker.highlighted) else None)
        if created is not None:
            picker.query_one("#db-filter", Input).value = ""
        self.show_databases(databases, preferred=keep)
        if created is not None:
            self.query_one(ErrorPanel).clear()
            self._status(f"✔ created {safe_text(created.name)} · enter to continue", ok=True)
            self.query_one("#db-table").focus()

    @on(Button.Pressed, "#new-database-button")
    def action_new_database(self) -> None:
        """Ask for a name, create the database, list again and put the cursor on it."""
        if self.verified is None:
            self.notify("verify the token first (^v)", severity="warning")
            return

        def answered(name: str | None) -> None:
            if name:
                self._status(f"… creating {safe_text(name)}", ok=None)
                self.refresh_databases(self.d1app.client_for(self.session.settings), name)

        self.app.push_screen(NewDatabaseDialog(), answered)

    def worker_failed(self, name: str, error: BaseException) -> None:
        """A failed verify clears the status line and shows the error inline."""
        if name == "remember":
            self.app.notify(str(error), title="profile not saved", severity="error")
            return
        if name == "verify":
            self._status("✘ not verified", ok=False)
        if name == "databases":
            self._status("✘ the databases could not be listed or created", ok=False)
        super().worker_failed(name, error)

    def _status(self, message: str, ok: bool | None) -> None:
        theme = self.app.theme_variables
        colour = {True: theme.get("success"), False: theme.get("error"), None: None}[ok]
        self.query_one("#verify-status", Static).update(Text(message, style=colour or ""))

    def action_reveal(self) -> None:
        """Show or mask the token."""
        token = self.query_one("#token", Input)
        token.password = not token.password

    @on(DatabasePicker.Picked)
    def _picked(self, event: DatabasePicker.Picked) -> None:
        self.choose(event.database)

    @on(Button.Pressed, "#continue")
    def action_continue(self) -> None:
        """Go on with the highlighted database."""
        database = self.query_one(DatabasePicker).highlighted
        if self.verified is None or database is None:
            self.notify("verify the token and pick a database first", severity="warning")
            return
        self.choose(database)

    def choose(self, database: DatabaseInfo) -> None:
        """Keep the database (and the profile, when asked) and go to the source screen."""
        if self.verified is None:
            return
        settings = self.session.settings
        if settings.database.value not in (database.uuid, database.name):
            settings = replace(settings, database=Sourced(database.name, "picked here"))
        self.session.settings = settings
        self.session.database = database
        self._stale = True
        if self.query_one("#remember", Checkbox).value and not settings.local:
            self.remember(settings)
        self.d1app.show_source()

    @work(thread=True, exit_on_error=False, name="remember", description="save the profile")
    def remember(self, settings: Settings) -> str:
        """Save the profile (the token into the system keyring)."""
        path = save_profile(settings, remember_token=True)
        self.app.notify(f"profile saved to {path}", title="remember")
        return str(path)


def _host(settings: Settings) -> str:
    url = settings.base_url.value or ""
    return url.split("//", 1)[-1].split("/", 1)[0]
