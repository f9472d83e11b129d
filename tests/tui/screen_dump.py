"""Golden-file snapshots of the app's screen: plain text compared, SVG written beside it."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

from rich.console import Console
from textual.app import App

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("D1TUI_UPDATE_SNAPSHOTS") == "1"

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_BOOKMARK_TAIL = re.compile(r"(?<=[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-)[0-9a-f]{1,32}")
_SHORT_UUID = re.compile(r"\b[0-9a-f]{8}…")
_CLOCK = re.compile(r"(?<=│ )\d\d:\d\d:\d\d(?=  )")  # poll-log times, not data
_SECONDS = re.compile(r"\b\d+\.\d+ s\b")
_RATE = re.compile(r"\b\d+(\.\d)? [KMG]?B/s")
_ETA = re.compile(r"ETA \d+:\d\d")


def _same_width(pattern: re.Pattern[str], mask: str, text: str) -> str:
    return pattern.sub(lambda m: (mask * len(m.group()))[: len(m.group())], text)


def normalise(text: str) -> str:
    """Mask what changes from run to run (ids, clocks, timings) without moving anything."""
    text = _same_width(_UUID, "u", text)
    text = _same_width(_BOOKMARK_TAIL, "b", text)
    text = _SHORT_UUID.sub("uuuuuuuu…", text)
    text = _same_width(_CLOCK, "h", text)
    text = _SECONDS.sub(lambda m: re.sub(r"\d", "9", m.group()), text)
    text = _RATE.sub(lambda m: re.sub(r"\d", "9", m.group()), text)
    text = _ETA.sub(lambda m: re.sub(r"\d", "9", m.group()), text)
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def screen_text(app: App[object]) -> str:
    """The screen as text, rendered the way ``export_screenshot`` renders it."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    screen_render = app.screen._compositor.render_update(
        full=True, screen_stack=app._background_screens
    )
    console.print(screen_render)
    return console.export_text()


def check_snapshot(app: App[object], name: str) -> None:
    """Compare the screen with ``snapshots/<name>.txt`` (D1TUI_UPDATE_SNAPSHOTS=1 rewrites)."""
    SNAPSHOTS.mkdir(exist_ok=True)
    golden = SNAPSHOTS / f"{name}.txt"
    actual = normalise(screen_text(app))
    if UPDATE or not golden.exists():
        svg = SNAPSHOTS / f"{name}.svg"
        # The SVG (for eyes only) shows unmasked ids: rewrite it only when the text changed.
        if not golden.exists() or golden.read_text(encoding="utf-8") != actual or not svg.exists():
            svg.write_text(app.export_screenshot(title=name), encoding="utf-8")
        golden.write_text(actual, encoding="utf-8")
        if not UPDATE:
            raise AssertionError(f"new snapshot written: {golden}; check it and rerun")
        return
    expected = golden.read_text(encoding="utf-8")
    if actual != expected:
        (SNAPSHOTS / f"{name}.actual.txt").write_text(actual, encoding="utf-8")
    assert actual == expected, f"screen differs from {golden} (see {name}.actual.txt)"
