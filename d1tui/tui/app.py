"""The d1tui app: routes the four steps, holds the session, global keys and palette commands."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from d1tui.settings.config import Settings
from d1tui.tui.local_start import LocalStart
from d1tui.tui.screens.credentials import CredentialsScreen
from d1tui.tui.session import Session

if TYPE_CHECKING:
    from d1tui.api.client import D1Client
    from d1tui.events import ImportFailed, ImportSucceeded
    from d1tui.importer.run import ImportOptions

    ClientFactory = Callable[[Settings], D1Client]

# The later steps (and httpx, pygments, the data layer) load after the first paint: see preload.
# ruff: noqa: PLC0415


def default_client(settings: Settings) -> D1Client:
    """The real client for ``settings``."""
    from d1tui.api.local import make_client

    return make_client(settings)


class D1TuiApp(App[int]):
    """Credentials → source and target → preview → import, on a stack of screens."""

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    TITLE = "d1tui"
    SUB_TITLE = "Cloudflare D1 import"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "quit", priority=True),
        # F1 works everywhere; "?" only where it is not typed (a focused Input keeps it).
        Binding("f1", "toggle_keys", "keys", priority=True),
        Binding("question_mark", "toggle_keys", "keys", show=False),
    ]

    def __init__(
        self,
        settings: Settings,
        client_factory: ClientFactory = default_client,
        *,
        local_emulator: Any = None,
        start_dir: Path | None = None,
        log_dir: Path | None = None,
        import_options: ImportOptions | None = None,
        local_start: LocalStart | None = None,
    ) -> None:
        super().__init__()
        self.session = Session(settings)
        self.client_factory = client_factory
        self.local_emulator = local_emulator
        self.start_dir = start_dir or Path.cwd()
        self.log_dir = log_dir or Path.cwd()
        self._import_options = import_options
        self.last_outcome: ImportSucceeded | ImportFailed | None = None
        self._client: D1Client | None = None
        self._client_key: tuple[object, ...] | None = None
        self.local_start = local_start
        self._local_stack = ExitStack()
        self._local_lock = threading.Lock()
        self._local_closed = False

    def action_toggle_keys(self) -> None:
        """Show the keys panel of the current screen, or hide it when it is shown."""
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    @property
    def import_options(self) -> ImportOptions:
        """How imports run (the importer's defaults unless the app was given others)."""
        if self._import_options is None:
            from d1tui.importer.run import ImportOptions

            self._import_options = ImportOptions()
        return self._import_options

    def on_ready(self) -> None:
        """After the first paint: start the local emulator, load the later steps' modules."""
        if self.local_start is not None:
            self.start_local(self.local_start)  # then preload: both at once slow each other
        else:
            self.preload()

    @work(thread=True, exit_on_error=False, name="preload", description="load the later steps")
    def preload(self) -> None:
        """Import the other screens (and what they need) so that moving on is quick."""
        import d1tui.tui.screens.importing
        import d1tui.tui.screens.preview
        import d1tui.tui.screens.source  # noqa: F401

    @property
    def starting_local(self) -> bool:
        """True while the local emulator is being started (after the first paint)."""
        return self.local_start is not None

    def on_mount(self) -> None:
        """Start on the credentials screen."""
        self.push_screen(CredentialsScreen())

    @work(thread=True, exit_on_error=False, name="local", description="start the emulator")
    def start_local(self, start: LocalStart) -> tuple[Any, Settings]:
        """Enter the emulator's context (kept open until the app ends)."""
        with self._local_lock:
            started = self._local_stack.enter_context(start())
            if self._local_closed:  # the app ended while the emulator started: stop it now
                self._local_stack.close()
            return started

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The local emulator is up (or could not start)."""
        if event.worker.name != "local" or event.state not in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
        ):
            return
        self.local_start = None
        self.preload()
        screen = next((s for s in self.screen_stack if isinstance(s, CredentialsScreen)), None)
        if event.state is WorkerState.ERROR:
            message = f"the local emulator did not start: {event.worker.error}"
            self.notify(message, severity="error", timeout=30)
            return
        emu, settings = cast("tuple[Any, Settings]", event.worker.result)
        wanted = self.session.settings.database
        if wanted.source != settings.database.source:  # a --database flag
            settings = replace(settings, database=wanted)
        self.local_emulator = emu
        self.session.settings = settings
        if isinstance(screen, CredentialsScreen):
            screen.fill_settings(settings)

    def on_unmount(self) -> None:
        """Close the HTTP client, then stop a local emulator started here."""
        if self._client is not None:
            self._client.close()
        with self._local_lock:
            self._local_closed = True
            self._local_stack.close()

    def client_for(self, settings: Settings) -> D1Client:
        """The client for these settings (a new one when account, token or URL changed)."""
        token = settings.token.value
        key = (settings.account_id.value, token.reveal() if token else "", settings.base_url.value)
        if self._client is None or key != self._client_key:
            if self._client is not None:
                self._client.close()
            self._client = self.client_factory(settings)
            self._client_key = key
        return self._client

    def show_source(self) -> None:
        """Step 2: what and where."""
        from d1tui.tui.screens.source import SourceScreen

        self.push_screen(SourceScreen())

    def show_preview(self) -> None:
        """Step 3: what will be sent."""
        from d1tui.tui.screens.preview import PreviewScreen

        self.push_screen(PreviewScreen())

    def show_import(self) -> None:
        """Step 4: the live panel."""
        from d1tui.tui.screens.importing import ImportScreen

        self.push_screen(ImportScreen())

    def new_import(self) -> None:
        """Back to the source screen, with fresh table counts."""
        from d1tui.tui.screens.source import SourceScreen

        self.session.prepared = None
        stack = self.screen_stack
        sources = [i for i, s in enumerate(stack) if isinstance(s, SourceScreen)]
        if not sources:
            self.show_source()
            return
        for _ in range(len(stack) - 1 - sources[-1]):
            self.pop_screen()
        source = stack[sources[-1]]
        assert isinstance(source, SourceScreen)
        source.reload_tables()
        source.reload_files()

    def _on_screen(self, kind: type[Screen[Any]], action: str) -> Callable[[], None]:
        def run() -> None:
            if isinstance(self.screen, kind):
                getattr(self.screen, action)()
            else:
                self.notify(f"not available on this screen ({action.removeprefix('action_')})")

        return run

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The palette: the flow's main actions next to Textual's own (theme, keys, quit)."""
        from d1tui.tui.screens.importing import ImportScreen
        from d1tui.tui.screens.preview import PreviewScreen

        yield from super().get_system_commands(screen)
        if isinstance(screen, CredentialsScreen):
            yield SystemCommand(
                "Verify token", "Check the API token and list databases", screen.action_verify
            )
            yield SystemCommand("Reveal token", "Show or mask the token", screen.action_reveal)
        if isinstance(screen, PreviewScreen):
            yield SystemCommand("Start import", "Confirm, then import", screen.action_start_import)
            yield SystemCommand(
                "Regenerate fake rows", "New seed for fake rows", screen.action_regenerate
            )
        if isinstance(screen, ImportScreen):
            yield SystemCommand("Cancel import", "Stop and roll back", screen.action_cancel_import)
            yield SystemCommand(
                "Save log", "Write the import log to a file", screen.action_save_log
            )
            yield SystemCommand("New import", "Import another file", screen.action_new_import)


def make_app(
    settings: Settings,
    client_factory: ClientFactory = default_client,
    *,
    local_emulator: Any = None,
    start_dir: Path | None = None,
    log_dir: Path | None = None,
    import_options: ImportOptions | None = None,
    local_start: LocalStart | None = None,
) -> D1TuiApp:
    """Build the app; the CLI, the tests and the screenshot script all come through here."""
    return D1TuiApp(
        settings,
        client_factory,
        local_emulator=local_emulator,
        start_dir=start_dir,
        log_dir=log_dir,
        import_options=import_options,
        local_start=local_start,
    )


def run_app(
    settings: Settings,
    client_factory: ClientFactory = default_client,
    *,
    local_emulator: Any = None,
    start_dir: Path | None = None,
    log_dir: Path | None = None,
    import_options: ImportOptions | None = None,
    local_start: LocalStart | None = None,
) -> int:
    """Run the app in the terminal; returns the process exit code."""
    app = make_app(
        settings,
        client_factory,
        local_emulator=local_emulator,
        start_dir=start_dir,
        log_dir=log_dir,
        import_options=import_options,
        local_start=local_start,
    )
    result = app.run()
    return int(result or app.return_code or 0)
