"""Step 3: the first rows with types and mapping, warnings, the first SQL, and the totals."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

from rich.syntax import Syntax
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Input, Label, ProgressBar, Static
from textual.worker import get_current_worker

from d1tui.api.client import D1Client
from d1tui.convert.detect import Format
from d1tui.convert.target import FakeSpec, Target
from d1tui.events import PrepareProgress
from d1tui.humanize import human_bytes, plural
from d1tui.importer.prepared import PreparedImport
from d1tui.tui.messages import PrepareProgressed
from d1tui.tui.screens.base import FlowScreen
from d1tui.tui.screens.dialogs import confirm_import
from d1tui.tui.session import Source, TargetChoice
from d1tui.tui.target import build_target
from d1tui.tui.text import clipped, for_display, markup, plain
from d1tui.tui.widgets.error_panel import ErrorPanel
from d1tui.tui.widgets.top_bar import TopBar

if TYPE_CHECKING:
    from d1tui.convert.preview import Preview, TablePreview
    from d1tui.convert.schema import ColumnMapping, TableSchema

SQL_SHOWN = 1500  # characters of the first statement shown


def mapping_note(mapping: ColumnMapping | None) -> str | None:
    """How source columns land in an existing table, in one line (None for a new table)."""
    if mapping is None:
        return None
    note = f"{len(mapping.pairs)} columns matched by name"
    if mapping.unmatched_source:
        note += " · not imported: " + ", ".join(mapping.unmatched_source)
    if mapping.missing_target:
        note += " · left to their default: " + ", ".join(mapping.missing_target)
    return note


def headers(preview: Preview) -> list[str]:
    """Column headers: the target column's name over its type (``INTEGER pk``)."""
    names = preview.mapping.columns if preview.mapping else preview.schema.names
    width = len(preview.rows[0]) if preview.rows else len(names)
    if len(names) != width:  # a shape the data layer did not describe: number the columns
        return [f"column {i + 1}\n" for i in range(width)]
    out = []
    for name in names:
        column = preview.schema.column(name)
        kind = "" if column is None else (column.type or "ANY") + (" pk" if column.pk else "")
        out.append(f"{name}\n{kind}")
    return out


def schema_headers(schema: TableSchema) -> list[str]:
    """``name`` over its declared type (``INTEGER pk``) for each column of a table."""
    return [f"{c.name}\n{(c.type or 'ANY') + (' pk' if c.pk else '')}" for c in schema.columns]


def table_line(table: TablePreview) -> str:
    """``users · 7 rows · first 20 shown`` above a table's rows."""
    shown = f" · first {len(table.rows)} shown" if len(table.rows) < table.total else ""
    return f"{table.schema.name} · {plural(table.total, 'row')}{shown}"


def cell(value: object) -> Text:
    """How one value looks in the preview table (at most 40 cells wide, never markup)."""
    if value is None:
        return Text("NULL")
    if isinstance(value, bytes):
        return Text(f"<{len(value)} bytes>")
    return clipped(value, 40)


class PreviewScreen(FlowScreen):
    """What will be sent, before anything is."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "start_import", "import", priority=True),
        Binding("ctrl+n", "start_import", "import", show=False, priority=True),
        Binding("r", "regenerate", "regenerate"),
        Binding("ctrl+g", "regenerate", "regenerate", show=False, priority=True),
        Binding("escape", "back", "back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.preview: Preview | None = None
        self.prepared: PreparedImport | None = None

    def compose(self) -> ComposeResult:
        """Rows, warnings, SQL, totals."""
        session = self.session
        yield TopBar(f"preview · {session.database_label}", local=session.settings.local)
        with Vertical(id="preview", classes="panel") as panel:
            panel.border_title = self.title_line()
            yield DataTable(id="preview-rows", zebra_stripes=True, header_height=2)
            yield VerticalScroll(id="file-tables")
            with Horizontal(id="fake-controls", classes="field"):
                yield Label("rows", classes="field-label")
                yield Input(id="rows-count", type="integer", compact=True)
                yield Static("enter: use this many rows · ^g: new seed", classes="src")
            yield Static("", id="warnings")
            with VerticalScroll(id="sql-box") as box:
                box.border_title = "SQL · statement 1"
                yield Static("…", id="sql")
            yield ErrorPanel(id="error")
            with Horizontal(id="totals-line"):
                yield Static("preparing …", id="totals")
                yield ProgressBar(total=1, id="prepare-bar", show_eta=False)
        yield Footer()

    def title_line(self) -> str:
        """``people.csv → "people" (new table)``: what goes where."""
        choice = self.session.target_choice
        if choice is None:
            return markup(self.session.source.label)
        kind = "new table" if choice.create else "existing table"
        return f'{markup(self.session.source.label)} → "{markup(choice.table)}" ({kind})'

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Regenerate is offered (footer, keys) only for fake rows."""
        if action == "regenerate":
            return self.session.source.fake is not None
        return True

    def on_mount(self) -> None:
        """Show the fake-row controls when generating, then start the preview."""
        fake = self.session.source.fake
        self.query_one("#fake-controls").display = fake is not None
        if fake is not None:
            self.query_one("#rows-count", Input).value = str(fake.rows)
        self.query_one("#preview-rows", DataTable).focus()
        self.refresh_preview()

    def refresh_preview(self) -> None:
        """(Re)build the preview, then the full SQL file."""
        self._drop_prepared()
        self.query_one(ErrorPanel).clear()
        self.query_one("#totals", Static).update("reading …")
        bar = self.query_one("#prepare-bar", ProgressBar)
        bar.update(total=1, progress=0)
        bar.display = True
        database = self.session.database
        choice = self.session.target_choice
        if database is None or choice is None:
            return
        client = self.d1app.client_for(self.session.settings)
        self.load_preview(client, database.uuid, choice, self.session.source)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="preview",
        name="preview",
        description="read the first rows",
    )
    def load_preview(
        self, client: D1Client, database_id: str, choice: TargetChoice, source: Source
    ) -> tuple[Target, Preview]:
        """Target (with current max ids) and the first rows; never reads the whole file."""
        # Imported here, in the worker: the converters cost ~0.3 s of start-up.
        from d1tui.convert.preview import preview_fake, preview_file  # noqa: PLC0415

        target = build_target(client, database_id, choice)
        if source.fake is not None:
            return target, preview_fake(source.fake, target)
        assert source.path is not None and source.options is not None
        return target, preview_file(source.path, source.options, target)

    def preview_done(self, result: tuple[Target, Preview]) -> None:
        """Fill the table, warnings and SQL; start preparing the whole file."""
        target, preview = result
        self.session.target = target
        self.preview = preview
        if preview.facts is not None and preview.facts.format in (Format.SQL, Format.SQLITE):
            self.query_one(
                "#preview"
            ).border_title = f"{markup(self.session.source.label)} → the tables it defines"
        table = self.query_one("#preview-rows", DataTable)
        table.clear(columns=True)
        self._show_file_tables(preview)
        if not preview.tables:
            for index, label in enumerate(headers(preview)):
                table.add_column(Text(for_display(label)), key=f"c{index}")
            table.add_rows([cell(v) for v in row] for row in preview.rows[:50])
        warnings = self.query_one("#warnings", Static)
        notes = Text("\n".join(f"⚠ {w}" for w in preview.warnings))
        if (mapped := mapping_note(preview.mapping)) is not None:
            plain = self.app.theme_variables.get("foreground", "")
            notes = Text.assemble((f"↦ {mapped}", plain), "\n" if notes else "", notes)
        warnings.update(notes)
        warnings.display = bool(notes)
        sql = preview.first_sql
        if len(sql) > SQL_SHOWN:
            sql = sql[:SQL_SHOWN] + " …"
        self.query_one("#sql", Static).update(
            Syntax(
                for_display(sql),
                "sql",
                word_wrap=True,
                theme="ansi_dark",
                background_color="default",
            )
        )
        self.query_one("#totals", Static).update("preparing the SQL file …")
        self.run_prepare(self.session.source, target)

    def _show_file_tables(self, preview: Preview) -> None:
        """An SQLite file's tables, each with its declared types and first rows."""
        box = self.query_one("#file-tables", VerticalScroll)
        box.remove_children()
        self.query_one("#preview-rows").display = not preview.tables
        box.display = bool(preview.tables)
        widgets: list[Widget] = []
        for number, info in enumerate(preview.tables):
            widgets.append(Static(plain(table_line(info)), classes="file-table-title"))
            rows: DataTable[Text] = DataTable(
                id=f"file-table-{number}", classes="file-table", header_height=2
            )
            for index, label in enumerate(schema_headers(info.schema)):
                rows.add_column(Text(label), key=f"c{index}")
            rows.add_rows([cell(v) for v in row] for row in info.rows)
            widgets.append(rows)
        if widgets:
            box.mount_all(widgets)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="prepare",
        name="prepare",
        description="write the SQL file",
    )
    def run_prepare(self, source: Source, target: Target) -> tuple[PreparedImport, float]:
        """Write the whole SQL file, posting progress about ten times a second."""
        from d1tui.convert.prepare import prepare_fake, prepare_file  # noqa: PLC0415

        cancel = get_current_worker().cancelled_event
        started = time.monotonic()
        if source.fake is not None:
            items = prepare_fake(source.fake, target, cancel=cancel)
        else:
            assert source.path is not None and source.options is not None
            items = prepare_file(source.path, source.options, target, cancel=cancel)
        last_post = 0.0
        prepared: PreparedImport | None = None
        for item in items:
            if isinstance(item, PrepareProgress):
                now = time.monotonic()
                if now - last_post >= 0.1:
                    last_post = now
                    self.post_message(PrepareProgressed(item))
            else:
                prepared = item
        if prepared is None:
            raise RuntimeError("preparing produced no SQL file")
        return prepared, time.monotonic() - started

    def on_prepare_progressed(self, message: PrepareProgressed) -> None:
        """Advance the totals line and the bar."""
        p = message.progress
        self.query_one("#totals", Static).update(
            f"{plural(p.rows, 'row')} · {plural(p.statements, 'statement')} · "
            f"{human_bytes(p.bytes_written)}"
        )
        if p.total_bytes:  # an unknown total would animate forever
            self.query_one("#prepare-bar", ProgressBar).update(
                total=p.total_bytes, progress=p.bytes_read
            )

    def prepare_done(self, result: tuple[PreparedImport, float]) -> None:
        """Keep the SQL file for the import and show the totals."""
        prepared, took = result
        self.prepared = prepared
        self.session.prepared = prepared
        self.session.prepare_seconds = took
        self.query_one("#sql-box").border_title = f"SQL · statement 1 of {prepared.statements:,}"
        self.query_one("#totals", Static).update(
            f"✔ {plural(prepared.total_rows, 'row')} · "
            f"{plural(prepared.statements, 'statement')} · "
            f"{human_bytes(prepared.size)} · enter to import"
        )
        # A full bar says nothing the ✔ does not, and its room lets the line fit at 80 columns.
        self.query_one("#prepare-bar", ProgressBar).display = False

    def worker_failed(self, name: str, error: BaseException) -> None:
        """A bad file: say where, and that nothing was sent."""
        self.query_one("#totals", Static).update("✘ nothing was sent")
        super().worker_failed(name, error)

    def _drop_prepared(self) -> None:
        prepared = self.prepared
        self.prepared = None
        self.session.prepared = None
        if prepared is not None and prepared.temporary:
            prepared.path.unlink(missing_ok=True)

    def _typed_rows(self, fake: FakeSpec) -> int | None:
        """The row count in the field (None, with a word, when it is not a positive number)."""
        try:
            rows = int(self.query_one("#rows-count", Input).value)
        except ValueError:
            rows = 0
        if rows < 1:
            self.notify("rows must be a whole number, at least 1", severity="error")
            return None
        return rows

    def _use_fake(self, fake: FakeSpec) -> None:
        self.session.source = replace(self.session.source, fake=fake)
        self.query_one("#preview").border_title = self.title_line()
        self.refresh_preview()

    def action_regenerate(self) -> None:
        """New fake rows: the next seed (and the row count typed)."""
        fake = self.session.source.fake
        if fake is None:
            self.notify("regenerate is for fake rows", severity="warning")
            return
        rows = self._typed_rows(fake)
        if rows is not None:
            self._use_fake(FakeSpec(rows, fake.seed + 1, fake.locale))

    def apply_rows(self) -> bool:
        """Use the row count typed, with the same seed; False when there was nothing to apply."""
        fake = self.session.source.fake
        if fake is None:
            return False
        rows = self._typed_rows(fake)
        if rows is None:
            return True
        if rows == fake.rows:
            return False
        self._use_fake(FakeSpec(rows, fake.seed, fake.locale))
        return True

    def action_start_import(self) -> None:
        """Ask first (the database is unavailable while importing), then import."""
        # Enter in the row count applies a changed count (same seed); an unchanged one imports.
        if (
            isinstance(self.focused, Input)
            and self.focused.id == "rows-count"
            and self.apply_rows()
        ):
            return
        prepared = self.prepared
        if prepared is None:
            self.notify("the SQL file is not ready yet", severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.d1app.show_import()

        self.app.push_screen(
            confirm_import(
                self.session.database_label,
                prepared.total_rows,
                prepared.statements,
                human_bytes(prepared.size),
            ),
            answered,
        )

    def action_back(self) -> None:
        """Back to the source (the SQL file is dropped)."""
        self._drop_prepared()
        self.app.pop_screen()
