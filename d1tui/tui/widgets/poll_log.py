"""Every answer of the import service, one line per message, as it arrives."""

from __future__ import annotations

import textwrap
import time

from textual.widgets import Log

from d1tui.events import PollResult, Retrying
from d1tui.humanize import safe_text, short_id


def poll_lines(result: PollResult, width: int | None = None) -> list[str]:
    """Lines for one poll answer: time, status, each message, and the bookmark.

    With ``width``, long messages wrap under their column and the bookmark moves to a line of
    its own when it would not fit (the log does not wrap, it would cut them off).
    """
    clock = time.strftime("%H:%M:%S", time.localtime(result.timestamp))
    messages = list(result.messages) or ([result.error] if result.error else [""])
    if result.error and result.error not in messages:
        messages.append(result.error)
    indent = " " * 24  # as wide as the time, number and status head
    lines = []
    for index, message in enumerate(messages):
        head = f"{clock}  #{result.number:<3} {result.status:<9}" if index == 0 else indent
        parts = [message]
        if width is not None and width > 44:
            parts = textwrap.wrap(message, width - 25) or [""]
        lines.append(f"{head} {parts[0]}".rstrip())
        lines += [f"{indent} {part}" for part in parts[1:]]
    if result.at_bookmark:
        suffix = f"   at {short_id(result.at_bookmark, 31)}"
        if width is not None and len(lines[-1]) + len(suffix) > width:
            lines.append(f"{indent} {suffix.lstrip()}")
        else:
            lines[-1] += suffix
    return lines


def retry_line(event: Retrying, now: float | None = None) -> str:
    """A line saying a call is retried and why."""
    clock = time.strftime("%H:%M:%S", time.localtime(now if now is not None else time.time()))
    what = f"retry {event.stage.value} #{event.attempt} in {event.delay:.1f} s"
    return f"{clock}  {what}: {event.reason}"


class PollLog(Log):
    """A plain-text log of poll results (batched writes)."""

    DEFAULT_CSS = "PollLog { overflow-x: hidden; overflow-y: auto; }"

    def add_poll(self, result: PollResult) -> list[str]:
        """Append one poll answer, wrapped to fit; returns its lines unwrapped (the saved log)."""
        width = self.scrollable_content_region.width
        self.write_lines([safe_text(line) for line in poll_lines(result, width or None)])
        return poll_lines(result)
