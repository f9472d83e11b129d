"""The account's databases in a table, narrowed by typing into a filter."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input

from d1tui.humanize import human_bytes, plural
from d1tui.tui.text import plain

if TYPE_CHECKING:
    from d1tui.api.client import DatabaseInfo


class DatabasePicker(Vertical):
    """Filter input above a DataTable of databases (name, uuid, size, tables)."""

    class Picked(Message):
        """The person chose a database (enter on a row, or in the filter)."""

        def __init__(self, database: DatabaseInfo) -> None:
            super().__init__()
            self.database = database

    # While the filter has focus, ↑/↓ still move through the databases.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.databases: list[DatabaseInfo] = []
        self.shown: list[DatabaseInfo] = []

    def compose(self) -> ComposeResult:
        """Filter input, then the table."""
        yield Input(
            placeholder="type to filter databases",
            id="db-filter",
            compact=True,
            select_on_focus=False,  # typing on the list moves here: keep what was typed
        )
        table: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True, id="db-table")
        table.add_column("name", key="name")
        table.add_column("uuid", key="uuid")
        table.add_column("size", key="size")
        table.add_column("tables", key="tables")
        yield table

    def set_databases(self, databases: list[DatabaseInfo], preferred: str | None = None) -> None:
        """Fill the table; put the cursor on ``preferred`` (a name or uuid) when listed."""
        self.databases = sorted(databases, key=lambda d: d.name)
        self._refill(preferred)

    @property
    def highlighted(self) -> DatabaseInfo | None:
        """The database under the cursor, if any."""
        table = self.query_one("#db-table", DataTable)
        if not self.shown or table.cursor_row < 0 or table.cursor_row >= len(self.shown):
            return None
        return self.shown[table.cursor_row]

    def _refill(self, preferred: str | None = None) -> None:
        needle = self.query_one("#db-filter", Input).value.strip().lower()
        self.shown = [
            d for d in self.databases if needle in d.name.lower() or needle in d.uuid.lower()
        ]
        table = self.query_one("#db-table", DataTable)
        table.clear()
        for db in self.shown:
            tables = "?" if db.num_tables is None else plural(db.num_tables, "table")
            table.add_row(
                plain(db.name), plain(db.uuid), human_bytes(db.file_size), tables, key=db.uuid
            )
        if preferred:
            for index, db in enumerate(self.shown):
                if preferred in (db.name, db.uuid):
                    table.move_cursor(row=index)

    def on_key(self, event: events.Key) -> None:
        """Typing on the list goes to the filter (``?`` stays the keys panel's)."""
        field = self.query_one("#db-filter", Input)
        if field.has_focus:
            return
        char = event.character
        if event.is_printable and char and char not in " ?" and len(char) == 1:
            field.insert_text_at_cursor(char)
        elif event.key == "backspace" and field.value:
            field.action_delete_left()
        else:
            return
        event.stop()
        event.prevent_default()
        field.focus()

    def action_move(self, delta: int) -> None:
        """Move the table's cursor by ``delta`` rows."""
        table = self.query_one("#db-table", DataTable)
        table.move_cursor(row=max(0, table.cursor_row + delta))

    @on(Input.Changed, "#db-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._refill()

    @on(Input.Submitted, "#db-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if (db := self.highlighted) is not None:
            self.post_message(self.Picked(db))

    @on(DataTable.RowSelected, "#db-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if (db := self.highlighted) is not None:
            self.post_message(self.Picked(db))
