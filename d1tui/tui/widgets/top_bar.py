"""The one-line bar at the top of every screen: product, step, and where requests go."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from d1tui.tui.text import plain


class TopBar(Static):
    """``d1tui · <step>`` on the left, ``● local emulator`` or the API host on the right."""

    def __init__(self, step: str, *, local: bool, target: str = "") -> None:
        super().__init__(id="top-bar")
        self.step = step
        self.local = local
        self.target = target

    def render(self) -> Text:
        """Left and right parts padded to the full width."""
        left = Text.assemble(("d1tui", "bold"), " · ", plain(self.step))
        right = Text("● local emulator") if self.local else plain(self.target)
        gap = max(1, self.size.width - left.cell_len - right.cell_len - 1)
        return Text.assemble(left, " " * gap, right)
