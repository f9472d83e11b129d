"""Every answer of the import service, one line per message, as it arrives."""

from __future__ import annotations

import time

from textual.widgets import Log

from d1tui.d1.events import PollResult, Retrying
from d1tui.tui.units import short_id


def poll_lines(result: PollResult) -> list[str]:
    """Lines for one poll answer: time, status, each message, and the bookmark."""
    clock = time.strftime("%H:%M:%S", time.localtime(result.timestamp))
    messages = list(result.messages) or ([result.error] if result.error else [""])
    if result.error and result.error not in messages:
        messages.append(result.error)
    lines = []
    for index, message in enumerate(messages):
        head = f"{clock}  #{result.number:<3} {result.status:<9}" if index == 0 else " " * 25
        lines.append(f"{head} {message}".rstrip())
    if result.at_bookmark:
        lines[-1] += f"   at {short_id(result.at_bookmark, 31)}"
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
        """Append the lines of one poll answer; returns them (for the saved log)."""
        lines = poll_lines(result)
        self.write_lines(lines)
        return lines
