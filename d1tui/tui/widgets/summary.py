"""The end of an import: what the service reports, verified counts, and how to undo."""

from __future__ import annotations

import textwrap

from rich.text import Text
from textual.widgets import Static

from d1tui.events import DatabaseState, ImportFailed, ImportSucceeded, TableCount
from d1tui.humanize import human_bytes, plural, safe_text
from d1tui.tui.widgets.error_panel import describe_error

_STATE_WORDS = {
    DatabaseState.UNCHANGED: "unchanged (checked by query) ✔",
    DatabaseState.ROLLED_BACK: "rolled back (the service says so; not checked)",
    DatabaseState.NOT_STARTED: "untouched: nothing reached the database ✔",
    DatabaseState.CHANGED: "CHANGED: row counts differ from before ✘",
    DatabaseState.UNKNOWN: "unknown: it could not be checked",
}


def count_line(count: TableCount) -> str:
    """``"t": 0 → 10 rows (expected +10) ✔`` for one table."""
    before = "?" if count.before is None else f"{count.before:,}"
    after = "?" if count.after is None else f"{count.after:,}"
    expected = "" if count.expected is None else f" (expected +{count.expected:,})"
    mark = {True: " ✔", False: " ✘", None: ""}[count.ok]
    return f'"{count.table}": {before} → {after} rows{expected}{mark}'


def success_lines(event: ImportSucceeded, database: str) -> list[str]:
    """The summary of a completed import, as plain lines."""
    lines = [
        f"✔ {plural(event.num_queries, 'query', 'queries')}"
        f" in {event.duration_ms / 1000:.2f} s"
        f" · {plural(event.rows_written, 'row')} written · {event.rows_read:,} read"
        f" · database {human_bytes(event.size_after)}"
    ]
    lines += [count_line(c) for c in event.counts]
    if event.final_bookmark:
        lines.append(f"bookmark after: {event.final_bookmark}")
    if event.at_bookmark:
        lines.append(
            f"undo: wrangler d1 time-travel restore {database} --bookmark={event.at_bookmark}"
        )
    return lines


def failure_lines(event: ImportFailed) -> list[str]:
    """The summary of a failed or cancelled import, as plain lines."""
    first, *rest = describe_error(event.error).plain.splitlines()
    lines = [f"{first} (during {event.stage.value})", *rest]
    lines.append(f"database: {_STATE_WORDS.get(event.database, event.database.value)}")
    for count in event.counts:
        same = count.before is not None and count.before == count.after
        mark = " — as before ✔" if same else ""
        before = "?" if count.before is None else f"{count.before:,}"
        after = "?" if count.after is None else f"{count.after:,}"
        lines.append(f'"{count.table}": {before} → {after} rows{mark}')
    if event.at_bookmark:
        lines.append(f"bookmark before the import: {event.at_bookmark}")
    return lines


def hanging_wrap(line: str, width: int) -> list[str]:
    """``line`` cut to ``width``, its continuation lines indented two more than it is."""
    if len(line) <= width or width < 20:
        return [line]
    lead = " " * (len(line) - len(line.lstrip()))
    return textwrap.wrap(
        line.lstrip(),
        width,
        initial_indent=lead,
        subsequent_indent=lead + "  ",
        break_on_hyphens=False,
        drop_whitespace=True,
    ) or [line]


class Summary(Static):
    """Hidden while the import runs; then the outcome."""

    DEFAULT_CSS = "Summary { display: none; height: auto; } Summary.shown { display: block; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[list[str], bool] | None = None

    def show_lines(self, lines: list[str], *, ok: bool) -> None:
        """Show the outcome lines, the first one styled by success or failure."""
        self._shown = (lines, ok)
        self.add_class("shown")
        self.set_class(not ok, "failed")
        self._render_lines()

    def on_resize(self) -> None:
        """Wrap again for the new width."""
        if self._shown is not None:
            self._render_lines()

    def _render_lines(self) -> None:
        assert self._shown is not None
        lines, ok = self._shown
        theme = self.app.theme_variables
        colour = theme.get("success", "green") if ok else theme.get("error", "red")
        width = self.scrollable_content_region.width or self.app.size.width - 4
        text = Text()
        for index, line in enumerate(lines):
            for part in hanging_wrap(line, width):
                if text:
                    text.append("\n")
                text.append(safe_text(part), style=f"bold {colour}" if index == 0 else "")
        self.update(text)
