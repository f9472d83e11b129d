"""The protocol stages with their state, detail, optional bar and wall time."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from rich.console import RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from d1tui.events import Stage
from d1tui.humanize import safe_text, seconds

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class StageState(Enum):
    """Where a stage is."""

    PENDING = "◌"
    RUNNING = "spinner"
    DONE = "✔"
    FAILED = "✘"
    SKIPPED = "–"


@dataclass
class StageRow:
    """What one line of the list shows."""

    state: StageState = StageState.PENDING
    detail: str = ""
    seconds: float | None = None
    bar: tuple[float, float] | None = None  # (done, total)


_STYLES = {
    StageState.PENDING: "dim",
    StageState.RUNNING: "bold {accent}",
    StageState.DONE: "{success}",
    StageState.FAILED: "bold {error}",
    StageState.SKIPPED: "dim",
}


class StageList(Widget):
    """Seven lines, one per Stage; a spinner turns while a stage runs."""

    DEFAULT_CSS = "StageList { height: auto; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: dict[Stage, StageRow] = {stage: StageRow() for stage in Stage}
        self._frame = 0

    def on_mount(self) -> None:
        """Turn the spinner ten times a second, only while something runs."""
        self.set_interval(0.1, self._tick)

    def _tick(self) -> None:
        if any(r.state is StageState.RUNNING for r in self.rows.values()):
            self._frame = (self._frame + 1) % len(SPINNER)
            self.refresh()

    def set(self, stage: Stage, **changes: object) -> None:
        """Change fields of one stage's row and redraw."""
        row = self.rows[stage]
        for key, value in changes.items():
            setattr(row, key, value)
        self.refresh(layout=True)

    def fail_running(self, stage: Stage) -> None:
        """Mark ``stage`` failed (and stop any other spinner)."""
        for name, row in self.rows.items():
            if row.state is StageState.RUNNING and name is not stage:
                row.state = StageState.PENDING
        self.set(stage, state=StageState.FAILED)

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        """One line per stage."""
        return len(self.rows)

    def _icon(self, row: StageRow) -> Text:
        if row.state is StageState.RUNNING:
            return Text(SPINNER[self._frame])
        return Text(row.state.value)

    def render(self) -> RenderableType:
        """A grid: icon, stage, detail (with a bar when known), seconds."""
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(width=1)
        grid.add_column(width=7)
        grid.add_column(ratio=1, overflow="ellipsis", no_wrap=True)
        grid.add_column(width=7, justify="right")
        theme = self.app.theme_variables
        for stage, row in self.rows.items():
            colour = _STYLES[row.state].format(
                accent=theme.get("accent", "cyan"),
                success=theme.get("success", "green"),
                error=theme.get("error", "red"),
            )
            detail: RenderableType = Text(safe_text(row.detail), no_wrap=True, overflow="ellipsis")
            if row.bar is not None:
                done, total = row.bar
                inner = Table.grid(padding=(0, 1))
                inner.add_column(width=20)
                inner.add_column()
                inner.add_row(
                    ProgressBar(total=max(total, 1), completed=min(done, total), width=20),
                    Text(safe_text(row.detail), no_wrap=True, overflow="ellipsis"),
                )
                detail = inner
            took = seconds(row.seconds) if row.seconds is not None else ""
            grid.add_row(
                Text(self._icon(row).plain, style=colour),
                Text(stage.value, style=colour),
                detail,
                Text(took, style="dim"),
            )
        return grid
