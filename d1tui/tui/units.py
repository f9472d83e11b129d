"""How the TUI writes sizes, durations, counts and ids."""

from __future__ import annotations


def human_bytes(n: int | float | None) -> str:
    """``12.3 MB``-style size (decimal units, as Cloudflare reports them)."""
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if abs(value) < 1000 or unit == "GB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
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


def eta(sent: int, total: int, rate: float) -> str:
    """Time left at the current rate, or ``--`` when it cannot be told."""
    if rate <= 0 or total <= sent:
        return "--"
    left = (total - sent) / rate
    return f"{int(left // 60)}:{int(left % 60):02d}"


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 statement``, ``2 statements`` (with thousands separators); ``nouns`` if not noun+s."""
    return f"{count:,} " + (noun if count == 1 else nouns or noun + "s")
