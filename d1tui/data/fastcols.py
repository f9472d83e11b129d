"""Whole-column validation and rendering of SQL literals for the block-wise converters.

A renderer takes one column of a block as raw UTF-8 field values (``'`` already doubled, quoting
removed) and returns the SQL literal of each, or ``None`` when any value is outside what it
renders exactly the same way as ``sqlgen.sql_literal`` would after the exact path's conversion;
the block then goes through the exact path. Empty fields become ``NULL``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from itertools import compress, repeat
from operator import is_, itemgetter, not_
from typing import Any

import orjson

from d1tui.data.blockpack import ROW_SEP, FastPathUnsupportedError
from d1tui.data.sqlgen import float_literal

SEP = b"\x06"  # joins values while a column is processed whole; absent from accepted blocks
_NULL = b"NULL"
_BOUNDARY = b")" + ROW_SEP + b"("
_DIGITS = b"0123456789"
_INT_CHARS = _DIGITS + b"-" + SEP
_REAL_CHARS = _DIGITS + b".-+eE" + SEP
_MAX_SAFE_DIGITS = 18  # every integer of up to 18 digits fits in 64 bits
_MAX_DENOMINATOR = 2**62  # up to here a float renders as one (<m>.0/<2**k>) division

# searched in SEP + joined: a pattern without alternation is ~6x faster than (?:^|\x06)…
_LEADING_ZERO = re.compile(b"\x06[+-]?0[0-9]")

ColumnRenderer = Callable[[list[bytes]], list[bytes] | None]


def _with_nulls(joined: bytes, empty: bytes) -> bytes:
    """Replace every ``empty`` item of a SEP-joined column by NULL."""
    pad = SEP + joined + SEP
    old, new = SEP + empty + SEP, SEP + _NULL + SEP
    pad = pad.replace(old, new).replace(old, new)  # twice: neighbours share a separator
    return pad[1:-1]


def text_literals(col: list[bytes]) -> list[bytes]:
    """``'value'`` for every field (quotes already doubled); empty → NULL."""
    out = (b"'" + b"'\x06'".join(col) + b"'").split(SEP)
    for i in compress(range(len(col)), map(not_, col)):
        out[i] = _NULL
    return out


def render_integer(col: list[bytes]) -> list[bytes] | None:
    """The field itself when every value is a canonical 64-bit integer (no sign+0, no 0-prefix)."""
    joined = SEP + SEP.join(col)
    if joined.translate(None, _INT_CHARS):
        return None
    minus = joined.count(b"-")
    if minus and (
        joined.count(SEP + b"-") != minus or b"-0" in joined or b"-" + SEP in joined + SEP
    ):
        return None
    if joined.count(SEP + b"0") != col.count(b"0"):
        return None
    if max(map(len, col)) > _MAX_SAFE_DIGITS:
        return None
    if b"" in col:
        return _with_nulls(joined[1:], b"").split(SEP)
    return col


def _big_integer(value: bytes) -> bool:
    """An integer (no ``.``/exponent) a double might not hold exactly (the exact path widens)."""
    return len(value.lstrip(b"+-")) > 15 and not any(map(value.__contains__, (b".", b"e", b"E")))


def render_real(col: list[bytes]) -> list[bytes] | None:
    """``sqlgen.float_literal(float(value))`` for every field, computed in bulk.

    Only numbers as ``schema.classify_text`` reads them (INTEGER or REAL): no leading zeros,
    no spaces, underscores or words (``float`` would accept ``007.5``, ``1_0``, ``nan``), no
    integer of more than 15 digits (beyond 2**53 the exact path widens the column to TEXT).
    """
    joined = SEP + SEP.join(col)
    if joined.translate(None, _REAL_CHARS) or _LEADING_ZERO.search(joined):
        return None
    if max(map(len, col)) > _MAX_SAFE_DIGITS - 3 and any(map(_big_integer, col)):
        return None
    empties = col.count(b"")
    floats = parse_floats([v or b"0" for v in col] if empties else col)
    out = None if floats is None else float_literals(floats)
    if out is None:
        return None
    if empties:
        for i in compress(range(len(col)), map(not_, col)):
            out[i] = _NULL
    return out


def parse_floats(values: list[bytes]) -> list[float] | None:
    """``float(v)`` of every value (None if one is not a number), parsed in one ``orjson`` call.

    ``orjson`` rounds exactly as ``float`` does (as the NDJSON path relies on too) and is ~7x
    faster than ``float`` value by value; the few forms JSON lacks (``+1``, ``.5``, ``5.``)
    or reads as an integer (``-0``) are left to ``float``.
    """
    try:
        parsed: list[Any] = orjson.loads(b"[" + b",".join(values) + b"]")
    except orjson.JSONDecodeError:
        try:
            return list(map(float, values))
        except ValueError:
            return None
    for i in compress(range(len(parsed)), map(is_, map(type, parsed), repeat(int))):
        parsed[i] = float(values[i])
    return parsed


def float_literals(floats: list[float]) -> list[bytes] | None:
    """``sqlgen.float_literal`` of every float, computed in bulk; None if one is NaN or infinite."""
    try:
        ratios = list(map(float.as_integer_ratio, floats))
    except (ValueError, OverflowError):
        return None
    dens = list(map(itemgetter(1), ratios))
    if max(dens) > _MAX_DENOMINATOR:
        return [float_literal(f).encode() for f in floats]
    out = list(map(b"(%d.0/%d)".__mod__, ratios))
    if 1 in dens:
        for i in compress(range(len(dens)), map((1).__eq__, dens)):
            out[i] = float_literal(floats[i]).encode()
    return out


def row_blob(values: list[bytes], rows: int, quoted: Sequence[bool]) -> bytes:
    """Row-major ``values`` as ``(a,b),(c,d)`` rows in ``StatementPacker.add_blob``'s marked form.

    Values of ``quoted`` columns are wrapped in ``'…'`` (their quotes already doubled): the
    quotes go into the separators, so the whole block is one ``join``.
    """
    q = [b"'" if x else b"" for x in quoted]
    n = len(q)
    between = [q[j] + b"," + q[j + 1] for j in range(n - 1)] + [q[-1] + _BOUNDARY + q[0]]
    out = [b""] * (2 * rows * n + 1)
    out[1::2] = values
    out[2::2] = between * rows
    out[0], out[-1] = b"(" + q[0], q[-1] + b")"
    return b"".join(out)


def marked_rows(columns: Sequence[list[bytes]], rows: int) -> bytes:
    """Column literals as ``(a,b),(c,d)`` rows in ``StatementPacker.add_blob``'s marked form."""
    n = len(columns)
    values: list[bytes] = [b""] * (rows * n)
    for j, lits in enumerate(columns):
        values[j::n] = lits
    return row_blob(values, rows, [False] * n)


_RENDERERS: dict[str, ColumnRenderer | None] = {
    "TEXT": None,  # no rendering: the row builder quotes the field as it is
    "INTEGER": render_integer,
    "REAL": render_real,
}


def renderers_for(column_types: Sequence[str]) -> list[ColumnRenderer | None]:
    """One renderer per column type (None for TEXT); other types are not handled here."""
    out = []
    for t in column_types:
        if t.upper() not in _RENDERERS:
            raise FastPathUnsupportedError(f"column type {t!r}")
        out.append(_RENDERERS[t.upper()])
    return out
