"""A directory tree that only shows folders and files d1tui can import."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual.widgets import DirectoryTree

IMPORTABLE = frozenset(
    {".csv", ".tsv", ".json", ".ndjson", ".jsonl", ".sql", ".sqlite", ".sqlite3", ".db"}
)


class DataFileTree(DirectoryTree):
    """DirectoryTree filtered to importable files; hidden entries are left out."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        """Keep folders and importable files (runs in Textual's loader thread: pure)."""
        return [
            p
            for p in paths
            if not p.name.startswith(".")
            and (self._safe_is_dir(p) or p.suffix.lower() in IMPORTABLE)
        ]
