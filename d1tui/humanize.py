"""How d1tui writes sizes, durations, counts, ids and untrusted names, in every front end."""

from __future__ import annotations

import re
import unicodedata


def human_bytes(n: int | float | None) -> str:
    """``12.3 MB``-style size: decimal units spelled as Cloudflare reports them (``kB``)."""
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{value:.0f} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"  # pragma: no cover - the loop always returns


def seconds(s: float) -> str:
    """Fixed-width wall time, e.g. `` 1.2 s``."""
    return f"{s:5.1f} s"


def short_id(value: str | None, keep: int = 8) -> str:
    """The head of a long id (uuid, bookmark) followed by an ellipsis."""
    if not value:
        return ""
    return value if len(value) <= keep + 1 else value[:keep] + "…"


def eta(sent: int | float, total: int | float, rate: float) -> str:
    """Time left at the current rate (``m:ss``), or ``--`` when it cannot be told."""
    if rate <= 0 or total <= sent:
        return "--"
    left = (total - sent) / rate
    return f"{int(left // 60)}:{int(left % 60):02d}"


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 statement``, ``2 statements`` (with thousands separators); ``nouns`` if not noun+s."""
    return f"{count:,} " + (noun if count == 1 else nouns or noun + "s")


# C0 controls, DEL, C1 controls, and the bidi/line-separator formatting characters a terminal
# may act on. Printable text (any script, emoji) passes unchanged.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape_one(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def safe_text(value: object) -> str:
    """Untrusted text (a table or file name) for a terminal: control characters shown as ``\\x1b``.

    A backslash is doubled only where it would otherwise read as one of these escapes, so
    ordinary names (Windows paths included) print as they are.
    """
    text = str(value)
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(_escape_one, text.replace("\\x", "\\\\x").replace("\\u", "\\\\u"))


def cell_width(text: str) -> int:
    """Columns ``text`` takes in a terminal (wide East Asian and emoji 2, combining marks 0)."""
    return sum(_char_width(ch) for ch in text)


def _char_width(ch: str) -> int:
    if unicodedata.combining(ch) or ch in "\u200d\ufe0e\ufe0f" or unicodedata.category(ch) == "Cf":
        return 0
    if unicodedata.east_asian_width(ch) in ("W", "F") or 0x1F300 <= ord(ch) <= 0x1FAFF:
        return 2
    return 1


def fit(text: str, width: int) -> str:
    """``text`` cut (with ``…``) so that it takes at most ``width`` columns."""
    if cell_width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = _char_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"
