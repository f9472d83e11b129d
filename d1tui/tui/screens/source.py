"""Step 2: what to import (a file, or fake rows) and into which table."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import (
    Button,
    DataTable,
    DirectoryTree,
    Footer,
    Input,
    Label,
    RadioButton,
    RadioSet,
    Static,
)

from d1tui.api.client import D1Client, TableInfo
from d1tui.convert.detect import FOLDER_NOT_FILE, FileFacts, Format, ReadOptions, detect
from d1tui.convert.schema import TARGET_D1_TABLE
from d1tui.convert.target import FakeSpec
from d1tui.humanize import human_bytes
from d1tui.importer.target import default_table_name
from d1tui.tui.screens.base import FlowScreen
from d1tui.tui.screens.reading import ReadingOptionsDialog, options_summary
from d1tui.tui.session import Source, TargetChoice
from d1tui.tui.text import ControlPictures, for_display, markup, plain
from d1tui.tui.widgets.error_panel import ErrorPanel, describe_error
from d1tui.tui.widgets.file_browser import DataFileTree, PathSuggester
from d1tui.tui.widgets.top_bar import TopBar

table_name_for = default_table_name  # the CLI's rule: one function names every file


def column_summary(table: TableInfo) -> str:
    """``id INTEGER PRIMARY KEY · text TEXT …`` for the selected table."""
    parts = []
    for column in table.columns:
        flags = " PRIMARY KEY" if column.pk else ""
        flags += " NOT NULL" if column.notnull and not column.pk else ""
        parts.append(f"{column.name} {column.type or 'ANY'}{flags}")
    return "\n".join(parts)


READING_HINT = "^o reading options (delimiter, encoding …)"
FAKE_ROWS = 100
FAKE_SEED = 0
FAKE_COLUMNS_NOTE = (
    "an existing table gives its columns; a new table gets TargetD1Table's (id, text, date_added)"
)


def fake_new_table_columns() -> str:
    """The columns fake rows give a new table, one per line, as the preview will create them."""
    lines = []
    for column in TARGET_D1_TABLE.columns:
        lines.append(f"{column.name} {column.type}{' PRIMARY KEY' if column.pk else ''}")
    return "\n".join(lines)


class SourceScreen(FlowScreen):
    """File browser or fake-row settings on the left; target table on the right."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "continue", "continue", priority=True),
        Binding("ctrl+f", "toggle_source", "file/fake", priority=True),
        Binding("ctrl+e", "toggle_target", "existing/new", priority=True),
        Binding("ctrl+o", "reading_options", "reading options", priority=True),
        Binding("escape", "back", "back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[TableInfo] = []
        self.facts: FileFacts | None = None
        self.read_options = ReadOptions()
        self.sqlite_tables: list[str] = []
        self._auto_name = ""

    def compose(self) -> ComposeResult:
        """Source pane and target pane side by side, then Continue."""
        settings = self.session.settings
        yield TopBar(f"source and target · {self.session.database_label}", local=settings.local)
        with Horizontal(id="panes"):
            with Vertical(id="source-pane", classes="panel") as left:
                left.border_title = "Source"
                with RadioSet(id="mode", compact=True):
                    yield RadioButton("file", value=True, id="mode-file")
                    yield RadioButton("fake rows", id="mode-fake")
                with Vertical(id="file-box"):
                    yield Input(
                        placeholder="path: type or paste (→ completes)",
                        id="path",
                        compact=True,
                        suggester=PathSuggester(),
                        highlighter=ControlPictures(),
                    )
                    yield DataFileTree(self.d1app.start_dir, id="tree")
                    yield Static("pick a file or type its path", id="facts")
                    yield Static(READING_HINT, id="reading")
                with Vertical(id="fake-box"):
                    for label, field_id, value, kind in (
                        # The same defaults as `d1tui fake` (--rows 100 --seed 0).
                        ("rows", "fake-rows", str(FAKE_ROWS), "integer"),
                        ("seed", "fake-seed", str(FAKE_SEED), "integer"),
                        ("locale", "fake-locale", "en_US", "text"),
                    ):
                        with Horizontal(classes="field"):
                            yield Label(label, classes="field-label")
                            yield Input(value, id=field_id, type=kind, compact=True)  # type: ignore[arg-type]
                    yield Static(FAKE_COLUMNS_NOTE, id="fake-note", classes="src")
            with Vertical(id="target-pane", classes="panel") as right:
                right.border_title = f"Target table in {markup(self.session.database_label)}"
                with RadioSet(id="target-mode", compact=True):
                    yield RadioButton("existing", id="target-existing")
                    yield RadioButton("new", value=True, id="target-new")
                yield Input(placeholder="new table name", id="new-name", compact=True)
                table: DataTable[str] = DataTable(cursor_type="row", id="tables")
                table.add_column("table", key="name")
                table.add_column("rows", key="rows")
                table.add_column("columns", key="columns")
                yield table
                yield Static("loading tables …", id="columns")
                yield ErrorPanel(id="error")
        with Horizontal(id="actions"):
            yield Button("Back", id="back", compact=True)
            yield Button("Continue", id="continue", variant="success", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        """Load the tables and fill in what an earlier visit chose."""
        self.query_one("#fake-box").display = False
        self.reload_tables()
        source = self.session.source
        if source.fake is not None:
            self.press_radio("#mode-fake")
            self.query_one("#fake-rows", Input).value = str(source.fake.rows)
        elif source.path is not None:
            self.read_options = source.options or ReadOptions()
            self._show_reading()
            self.query_one("#path", Input).value = str(source.path)
        self.query_one("#path", Input).focus()

    def reload_tables(self) -> None:
        """List the target database's tables again (row counts change with each import)."""
        database = self.session.database
        if database is not None:
            self.query_one("#columns", Static).update("loading tables …")
            self.load_tables(self.d1app.client_for(self.session.settings), database.uuid)

    def reload_files(self) -> None:
        """Read the folder again (files saved since the last visit appear)."""
        self.query_one("#tree", DataFileTree).reload()

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="tables",
        name="tables",
        description="list the database's tables",
    )
    def load_tables(self, client: D1Client, database_id: str) -> list[TableInfo]:
        """Tables of the target database (``_cf_*`` and ``sqlite_*`` are hidden by the client)."""
        return client.list_tables(database_id)

    def tables_done(self, tables: list[TableInfo]) -> None:
        """Fill the table list; prefer an existing table when generating fake rows."""
        self.tables = [t for t in tables if not t.name.startswith(("_cf_", "sqlite_"))]
        table = self.query_one("#tables", DataTable)
        table.clear()
        for info in self.tables:
            columns = ", ".join(c.name for c in info.columns)
            rows = "?" if info.rows is None else f"{info.rows:,}"
            table.add_row(plain(info.name), rows, plain(columns), key=info.name)
        choice = self.session.target_choice
        if choice is not None and not choice.create:
            self._select_table(choice.table)
        elif choice is not None:
            self.query_one("#new-name", Input).value = choice.table
        elif self.query_one("#mode-fake", RadioButton).value and self.tables:
            self.press_radio("#target-existing")
        self._show_columns()

    def _select_table(self, name: str) -> None:
        for index, info in enumerate(self.tables):
            if info.name == name:
                self.query_one("#tables", DataTable).move_cursor(row=index)
                self.press_radio("#target-existing")

    @property
    def selected_table(self) -> TableInfo | None:
        """The existing table under the cursor."""
        row = self.query_one("#tables", DataTable).cursor_row
        return self.tables[row] if 0 <= row < len(self.tables) else None

    def _show_columns(self) -> None:
        columns = self.query_one("#columns", Static)
        own_tables = self.facts is not None and self.facts.format in (Format.SQL, Format.SQLITE)
        if own_tables and not self.query_one("#mode-fake", RadioButton).value:
            line = "this file defines its own tables: the target choice is not used"
            if self.sqlite_tables:
                chosen = self.read_options.tables or self.sqlite_tables
                line += (
                    f"\nimports {len(chosen)} of its {len(self.sqlite_tables)} tables: "
                    + ", ".join(chosen)
                    + "\n^o chooses the tables"
                )
            columns.update(line)
        elif self.query_one("#target-new", RadioButton).value:
            if self.query_one("#mode-fake", RadioButton).value:
                columns.update(
                    "a new table with the fake rows' columns (TargetD1Table's):\n"
                    + fake_new_table_columns()
                )
            else:
                columns.update("a new table: columns come from the source")
        elif (info := self.selected_table) is not None:
            columns.update(Text(for_display(f"columns of {info.name}:\n{column_summary(info)}")))
        else:
            columns.update("no tables yet: choose new")

    @on(DataTable.RowHighlighted, "#tables")
    def _table_highlighted(self) -> None:
        self._show_columns()

    @on(DataTable.RowSelected, "#tables")
    def _table_selected(self) -> None:
        if self.query_one("#target-new", RadioButton).value:
            # Never switch a new-table target to an existing table on a stray enter.
            self.notify("the target is a new table: ^e to add to an existing one instead")
            return
        self._show_columns()

    @on(RadioSet.Changed, "#mode")
    def _mode_changed(self) -> None:
        fake = self.query_one("#mode-fake", RadioButton).value
        self.query_one("#file-box").display = not fake
        self.query_one("#fake-box").display = fake
        self.refresh_bindings()
        if fake and self.tables and not self.query_one("#new-name", Input).value:
            self.press_radio("#target-existing")
        self._show_columns()

    @on(RadioSet.Changed, "#target-mode")
    def _target_mode_changed(self) -> None:
        self.query_one("#new-name", Input).disabled = not self.query_one(
            "#target-new", RadioButton
        ).value
        self._show_columns()

    def press_radio(self, selector: str) -> None:
        """Turn one radio button on; its RadioSet turns the one that was on off."""
        # Turning siblings off by hand races the RadioSet, which turns a button it sees switched
        # off back on. And inside a RadioSet.Changed handler the button's own Changed message is
        # dropped (the set posts ours under prevent), so the set would never hear of it: then
        # wait for the handler to end. Either way both buttons could end up on.
        if self._is_prevented(RadioButton.Changed):
            self.set_timer(0.001, lambda: self.press_radio(selector))
            return
        self.query_one(selector, RadioButton).value = True

    def action_toggle_source(self) -> None:
        """Switch between a file and fake rows."""
        fake = self.query_one("#mode-fake", RadioButton).value
        self.press_radio("#mode-file" if fake else "#mode-fake")
        self.query_one("#path" if fake else "#fake-rows").focus()

    def action_toggle_target(self) -> None:
        """Switch between an existing table and a new one, and focus what the choice needs."""
        new_name = self.query_one("#new-name", Input)
        if self.query_one("#target-new", RadioButton).value:
            self.press_radio("#target-existing")
            new_name.disabled = True
            self.query_one("#tables").focus()
        else:
            self.press_radio("#target-new")
            # Enabled here, not only when the RadioSet reports the change: focus() refuses a
            # disabled widget, and the keys typed next must reach the name.
            new_name.disabled = False
            new_name.focus()

    @on(DirectoryTree.FileSelected, "#tree")
    def _file_selected(self, event: DirectoryTree.FileSelected) -> None:
        self.query_one("#path", Input).value = str(event.path)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Reading options are offered (footer, key) only for a file."""
        if action == "reading_options":
            return not self.query_one("#mode-fake", RadioButton).value
        return True

    def action_reading_options(self) -> None:
        """Open the reading options (the CLI's reading flags) for the file."""
        if self.query_one("#mode-fake", RadioButton).value:
            self.notify("reading options are for a file: ^f switches to one", severity="warning")
            return

        def chosen(options: ReadOptions | None) -> None:
            if options is None:
                return
            self.read_options = options
            self._show_reading()
            self._redetect()

        self.app.push_screen(
            ReadingOptionsDialog(self.read_options, facts=self.facts, tables=self.sqlite_tables),
            chosen,
        )

    def _show_reading(self) -> None:
        summary = options_summary(self.read_options)
        self.query_one("#reading", Static).update(
            f"reading: {summary} · ^o" if summary else READING_HINT
        )

    def _redetect(self) -> None:
        text = self.query_one("#path", Input).value.strip()
        if text:
            self.query_one("#facts", Static).update("…")
            self.detect_file(Path(text).expanduser(), self.read_options)

    @on(Input.Changed, "#path")
    def _path_changed(self, event: Input.Changed) -> None:
        text = event.value.strip()
        self.facts = None
        self.sqlite_tables = []
        if self.read_options.tables:  # the tables of another file
            self.read_options = replace(self.read_options, tables=())
            self._show_reading()
        if not text:
            self.query_one("#facts", Static).update("pick a file or type its path")
            return
        path = Path(text).expanduser()
        new_name = self.query_one("#new-name", Input)
        if not new_name.value or new_name.value == self._auto_name:
            self._auto_name = table_name_for(path)
            new_name.value = self._auto_name
        self.query_one("#facts", Static).update("…")
        self.detect_file(path, self.read_options)

    @on(Input.Submitted, "#path")
    def _path_entered(self) -> None:
        target = "#new-name" if self.query_one("#target-new", RadioButton).value else "#tables"
        self.query_one(target).focus()

    @on(Input.Submitted, "#new-name")
    def _name_entered(self) -> None:
        self.action_continue()

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="facts",
        name="facts",
        description="detect the file's format",
    )
    def detect_file(
        self, path: Path, options: ReadOptions
    ) -> tuple[FileFacts, list[str]] | Path | str:
        """Format, encoding, delimiter (and an SQLite file's tables); a folder comes back as is."""
        if path.is_dir():
            return path
        if not path.is_file():
            return f"no such file: {path}"
        facts = detect(path, options)
        names: list[str] = []
        if facts.format == Format.SQLITE:
            from d1tui.convert.readers.sqlite_file import sqlite_tables  # noqa: PLC0415

            names = [t.name for t in sqlite_tables(path)]
        return facts, names

    def facts_done(self, result: tuple[FileFacts, list[str]] | Path | str) -> None:
        """Show the detected facts (or why there are none); a folder opens in the browser."""
        line = self.query_one("#facts", Static)
        if isinstance(result, str):
            line.update(plain(result))
            return
        if isinstance(result, Path):
            line.update(f"✘ {result} {FOLDER_NOT_FILE}: its files are in the browser")
            tree = self.query_one("#tree", DataFileTree)
            if tree.path != result:
                tree.path = result
            return
        facts, self.sqlite_tables = result
        self.facts = facts
        line.update(plain(f"{facts.summary} · {human_bytes(facts.size)}"))
        self._show_columns()

    def worker_failed(self, name: str, error: BaseException) -> None:
        """Detection errors (with their hint) go on the facts line; the rest into the panel."""
        if name == "facts":
            self.query_one("#facts", Static).update(describe_error(error))
            self._show_columns()
            return
        super().worker_failed(name, error)

    def action_back(self) -> None:
        """Back to the credentials."""
        self.app.pop_screen()

    @on(Button.Pressed, "#back")
    def _back_pressed(self) -> None:
        self.action_back()

    @on(Button.Pressed, "#continue")
    def action_continue(self) -> None:
        """Check the choices, keep them in the session and go to the preview."""
        source = self._source()
        target = self._target()
        if source is None or target is None:
            return
        self.session.source = source
        self.session.target_choice = target
        self.d1app.show_preview()

    def _source(self) -> Source | None:
        if self.query_one("#mode-fake", RadioButton).value:
            try:
                rows = int(self.query_one("#fake-rows", Input).value)
                seed = int(self.query_one("#fake-seed", Input).value or str(FAKE_SEED))
            except ValueError:
                self.notify("rows and seed must be whole numbers", severity="error")
                return None
            if rows <= 0:
                self.notify("rows must be at least 1", severity="error")
                return None
            locale = self.query_one("#fake-locale", Input).value.strip() or "en_US"
            return Source(fake=FakeSpec(rows=rows, seed=seed, locale=locale))
        text = self.query_one("#path", Input).value.strip()
        path = Path(text).expanduser() if text else None
        if path is not None and path.is_dir():
            self.notify(f"{path} {FOLDER_NOT_FILE}: pick a file in it", severity="error")
            return None
        if path is None or not path.is_file():
            self.notify("pick a file to import (or switch to fake rows)", severity="error")
            return None
        return Source(path=path, options=self.read_options)

    def _target(self) -> TargetChoice | None:
        if self.query_one("#target-new", RadioButton).value:
            name = self.query_one("#new-name", Input).value.strip()
            if not name:
                self.notify("name the new table", severity="error")
                return None
            existing = next((t for t in self.tables if t.name == name), None)
            return TargetChoice(table=name, create=existing is None, existing=existing)
        info = self.selected_table
        if info is None:
            self.notify("pick a table, or choose new", severity="error")
            return None
        return TargetChoice(table=info.name, create=False, existing=info)
