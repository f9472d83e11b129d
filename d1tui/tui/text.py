"""Untrusted names (tables, files, databases) for the screen: no raw control codes, no markup."""

from __future__ import annotations

import re

from rich.highlighter import Highlighter
from rich.markup import escape
from rich.text import Text

from d1tui.humanize import safe_text


def plain(value: object, style: str = "") -> Text:
    """``value`` as Rich Text (never parsed as markup), control characters shown escaped."""
    return Text(safe_text(value), style=style)


def markup(value: object) -> str:
    """``value`` for a place that parses markup (titles, ``Static("…")``): escaped both ways."""
    return escape(safe_text(value))


# Variation selector 16 and skin-tone modifiers; a joiner with the character it joins.
_MODIFIERS = re.compile("[\ufe0f\U0001f3fb-\U0001f3ff]")
_JOINED = re.compile("\u200d[^\u200d]?")
_REGIONAL = re.compile("[\U0001f1e6-\U0001f1ff]")


def for_display(value: object, *, lines: bool = True) -> str:
    """``value`` shown so that every terminal gives it the width Rich measures (display only).

    Terminals disagree on emoji sequences: a ZWJ family may take 2 cells or 6, a skin tone may
    be drawn as a second square, ``❤️`` may be 1 cell or 2, a flag 2 or 4. Such sequences are
    shown by their first emoji (``👨``, ``👍``, ``❤``) and a flag by its two letters (``FR``).
    With ``lines``, line breaks stay; otherwise they are escaped like other controls.
    """
    if lines:
        return "\n".join(for_display(line, lines=False) for line in str(value).split("\n"))
    text = safe_text(value)
    if text.isascii():
        return text
    text = _JOINED.sub("", _MODIFIERS.sub("", text))
    return _REGIONAL.sub(lambda m: chr(ord(m.group()) - 0x1F1E6 + ord("A")), text)


def clipped(value: object, width: int) -> Text:
    """``value`` for display, cut to ``width`` cells with an ellipsis (never parsed as markup)."""
    text = Text(for_display(value, lines=False), no_wrap=True, overflow="ellipsis")
    text.truncate(width, overflow="ellipsis")
    return text


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # ␛ for ESC, ␇ for BEL …
    return "\u2421" if code == 0x7F else "\ufffd"


class ControlPictures(Highlighter):
    """For an Input: each control character drawn as one visible symbol (``␛``), value kept."""

    def highlight(self, text: Text) -> None:
        """Replace control characters one for one (the cursor stays where it was)."""
        if _CONTROL.search(text.plain):
            text.plain = _CONTROL.sub(_picture, text.plain)
