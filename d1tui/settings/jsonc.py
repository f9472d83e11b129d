"""JSON with comments (``wrangler.jsonc``): strip comments and trailing commas, then parse."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from d1tui.errors import BadInputError, Location


def strip_jsonc(text: str) -> str:
    """Return ``text`` as plain JSON: comments and trailing commas outside strings removed.

    Removed characters become spaces (newlines are kept), so JSON error positions still point
    at the right line and column of the original text.
    """
    out = list(text)
    i, n = 0, len(text)
    in_string = False
    last_comma: int | None = None  # index of a comma that may turn out to be trailing
    while i < n:
        ch = text[i]
        if in_string:
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                in_string = False
            i += 1
            continue
        if ch == '"':
            in_string = True
            last_comma = None
        elif ch == "/" and text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            _blank(out, i, end)
            i = end
            continue
        elif ch == "/" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            _blank(out, i, end)
            i = end
            continue
        elif ch == ",":
            last_comma = i
        elif ch in "]}":
            if last_comma is not None:
                out[last_comma] = " "
            last_comma = None
        elif not ch.isspace():
            last_comma = None
        i += 1
    return "".join(out)


def _blank(out: list[str], start: int, end: int) -> None:
    for k in range(start, end):
        if out[k] != "\n":
            out[k] = " "


def loads(text: str, *, path: Path | None = None) -> Any:
    """Parse JSONC text; a syntax error becomes a ``BadInputError`` naming line and column."""
    try:
        return json.loads(strip_jsonc(text))
    except json.JSONDecodeError as exc:
        where = Location(path or Path("<jsonc>"), line=exc.lineno, column=exc.colno)
        raise BadInputError(
            f"not valid JSON: {exc.msg}", where=where, hint="fix the configuration file"
        ) from None


def load(path: Path) -> Any:
    """Read and parse a JSONC file (UTF-8, optional BOM)."""
    return loads(path.read_text(encoding="utf-8-sig"), path=path)
