"""A directory tree that only shows folders and files d1tui can import; a path suggester."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from rich.style import Style
from rich.text import Text, TextType
from textual import events
from textual.actions import SkipAction
from textual.binding import Binding, BindingType
from textual.suggester import Suggester
from textual.widgets import DirectoryTree
from textual.widgets.directory_tree import DirEntry
from textual.widgets.tree import TreeNode

from d1tui.tui.text import for_display

IMPORTABLE = frozenset(
    {".csv", ".tsv", ".json", ".ndjson", ".jsonl", ".sql", ".sqlite", ".sqlite3", ".db"}
)


class DataFileTree(DirectoryTree):
    """DirectoryTree filtered to importable files; hidden entries are left out.

    Typing narrows the entries to names holding the typed text (backspace erases it, escape
    clears it); backspace with no filter goes up to the parent folder.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("backspace", "back", "up a folder"),
        Binding("escape", "clear_filter", "clear filter", show=False),
    ]

    def __init__(self, path: str | Path, *, id: str | None = None) -> None:
        super().__init__(path, id=id)
        self.filter_text = ""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        """Keep folders and importable files (runs in Textual's loader thread: pure)."""
        needle = self.filter_text.lower()
        return [
            p
            for p in paths
            if not p.name.startswith(".")
            and (self._safe_is_dir(p) or p.suffix.lower() in IMPORTABLE)
            and needle in p.name.lower()
        ]

    def process_label(self, label: TextType) -> Text:
        """A file name as shown: control characters escaped, never read as markup."""
        if isinstance(label, str):
            label = Text(for_display(label, lines=False))
        return super().process_label(label)

    async def watch_path(self) -> None:
        """A new folder starts unfiltered."""
        self.filter_text = ""
        await super().watch_path()

    def render_label(self, node: TreeNode[DirEntry], base_style: Style, style: Style) -> Text:
        """The root's label also shows the filter typed so far."""
        label = super().render_label(node, base_style, style)
        if node is self.root and self.filter_text:
            label.append(f"  ⌕ {for_display(self.filter_text, lines=False)}", style="bold")
        return label

    def _show_filter(self) -> None:
        self.reload()

    def on_key(self, event: events.Key) -> None:
        """A printable key adds to the filter (not space, which opens folders, nor ``?``: keys)."""
        char = event.character
        if event.is_printable and char and char not in " ?" and len(char) == 1:
            event.stop()
            event.prevent_default()
            self.filter_text += char
            self._show_filter()

    def action_back(self) -> None:
        """Erase the filter's last character, or (with no filter) go up to the parent."""
        if self.filter_text:
            self.filter_text = self.filter_text[:-1]
            self._show_filter()
            return
        here = Path(self.path).expanduser().resolve()
        if here.parent != here:
            self.path = here.parent

    def action_clear_filter(self) -> None:
        """Drop the filter (with none, escape goes on to the screen: back)."""
        if not self.filter_text:
            raise SkipAction()
        self.filter_text = ""
        self._show_filter()


class PathSuggester(Suggester):
    """Completes a typed path with the first entry of its folder that starts the same way."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        """``data/pe`` → ``data/people.csv``; a folder gets its trailing slash."""
        if not value or value.endswith(os.sep + os.sep):
            return None
        typed = Path(value).expanduser()
        folder, prefix = (typed, "") if value.endswith(os.sep) else (typed.parent, typed.name)
        try:
            names = sorted(
                entry.name + (os.sep if entry.is_dir() else "")
                for entry in os.scandir(folder)
                if entry.name.startswith(prefix)
                and entry.name.isprintable()
                and (prefix.startswith(".") or not entry.name.startswith("."))
            )
        except OSError:
            return None
        names = [n for n in names if n != prefix]
        if not names:
            return None
        return value + names[0][len(prefix) :]
