"""How to read the file: the CLI's reading flags as fields, and the tables of an SQLite file."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, SelectionList, Static

from d1tui.convert.detect import FileFacts, ReadOptions, parse_read_options

# --encoding, --delimiter, --quotechar, --type, --pk: the same words go through
# parse_read_options as the CLI's flags do.
FIELDS = (
    ("encoding", "encoding", "detected", "cp1252, latin-1, utf-16 …"),
    ("delimiter", "delimiter", "detected", "; , | or tab"),
    ("quotechar", "quote char", '"', "one character"),
    ("types", "column types", "COL=TYPE, …", "price=REAL, zip=TEXT"),
    ("pk", "primary key", "none", "a column of a new table"),
)
# A comma that starts another COL=TYPE item (not one inside NUMERIC(10,2)).
_ITEM_SPLIT = re.compile(r"\s*,\s*(?=[^=,()]+=)")


def types_text(types: dict[str, str]) -> str:
    """``price=REAL, zip=TEXT`` for the field."""
    return ", ".join(f"{col}={kind}" for col, kind in types.items())


def options_summary(options: ReadOptions) -> str:
    """One line naming what the person set (empty when everything is detected)."""
    parts = []
    if options.encoding:
        parts.append(f"encoding {options.encoding}")
    if options.delimiter:
        shown = "tab" if options.delimiter == "\t" else f'"{options.delimiter}"'
        parts.append(f"delimiter {shown}")
    if options.quotechar:
        parts.append(f"quote {options.quotechar}")
    if options.has_header is False:
        parts.append("no header row")
    if options.types:
        parts.append("types " + types_text(options.types))
    if options.pk:
        parts.append(f"pk {options.pk}")
    if options.tables:
        parts.append("tables " + ", ".join(options.tables))
    return " · ".join(parts)


class ReadingOptionsDialog(ModalScreen[ReadOptions | None]):
    """Encoding, delimiter, quote char, header, types, key and SQLite tables; enter applies."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "cancel"),
        Binding("ctrl+s", "apply", "apply", priority=True),
        Binding("enter", "apply", "apply"),
    ]

    def __init__(self, options: ReadOptions, *, facts: FileFacts | None, tables: list[str]) -> None:
        super().__init__()
        self.options = options
        self.facts = facts
        self.tables = tables

    def compose(self) -> ComposeResult:
        """One line per option; the SQLite file's tables to tick; Apply and Cancel."""
        values = {
            "encoding": self.options.encoding or "",
            "delimiter": "tab" if self.options.delimiter == "\t" else self.options.delimiter or "",
            "quotechar": self.options.quotechar or "",
            "types": types_text(self.options.types),
            "pk": self.options.pk or "",
        }
        with Vertical(id="reading-dialog") as box:
            box.border_title = "Reading options"
            if self.facts is not None:
                yield Static(f"detected: {self.facts.summary}", id="reading-detected")
            if self.tables:  # an SQLite file: only which tables
                chosen = set(self.options.tables) or set(self.tables)
                yield Label("tables to import (space ticks or unticks):", id="opt-tables-label")
                yield SelectionList[str](
                    *((name, name, name in chosen) for name in self.tables), id="opt-tables"
                )
            else:
                for key, label, placeholder, flag in FIELDS:
                    with Horizontal(classes="reading-field"):
                        yield Label(label, classes="reading-label")
                        yield Input(
                            values[key], placeholder=placeholder, id=f"opt-{key}", compact=True
                        )
                        yield Static(flag, classes="src")
                yield Checkbox(
                    "no header row: the first row is data (columns col1, col2 …)",
                    value=self.options.has_header is False,
                    id="opt-no-headers",
                    compact=True,
                )
            yield Static("", id="reading-error")
            with Horizontal(id="reading-buttons"):
                yield Button("Apply (^s)", id="apply", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        """Start in the first field (the list of tables for an SQLite file)."""
        self.query_one("#opt-tables" if self.tables else "#opt-encoding").focus()

    def chosen(self) -> ReadOptions:
        """The options as typed (ValueError names a bad field)."""
        if self.tables:
            picked = set(self.query_one("#opt-tables", SelectionList).selected)
            if not picked:
                raise ValueError("tick at least one table to import")
            # All ticked means all tables: views are carried only then (as with no --tables).
            chosen = (
                ()
                if len(picked) == len(self.tables)
                else tuple(t for t in self.tables if t in picked)
            )
            return replace(self.options, tables=chosen)
        text = {key: self.query_one(f"#opt-{key}", Input).value.strip() for key, *_ in FIELDS}
        types = [t for t in _ITEM_SPLIT.split(text["types"]) if t] if text["types"] else []
        try:
            return parse_read_options(
                format=self.options.format.value if self.options.format else None,
                delimiter=text["delimiter"],
                quotechar=text["quotechar"],
                no_headers=self.query_one("#opt-no-headers", Checkbox).value,
                encoding=text["encoding"],
                types=types,
                pk=text["pk"],
            )
        except ValueError as exc:
            if "COL=TYPE" in str(exc):
                raise ValueError(f"column types: {exc}") from None
            raise

    def action_apply(self) -> None:
        """Close with the options, or say which field is wrong."""
        try:
            options = self.chosen()
        except ValueError as exc:
            self.query_one("#reading-error", Static).update(f"✘ {exc}")
            return
        self.dismiss(options)

    def action_cancel(self) -> None:
        """Close without changing anything."""
        self.dismiss(None)

    @on(Input.Submitted)
    @on(Button.Pressed, "#apply")
    def _apply(self) -> None:
        self.action_apply()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_cancel()
