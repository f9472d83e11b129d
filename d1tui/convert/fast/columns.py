"""Whole-column validation and rendering of SQL literals for the block-wise converters.

A renderer takes one column of a block as raw UTF-8 field values (``'`` already doubled, quoting
removed) and returns the SQL literal of each, or ``None`` when any value is outside what it
renders exactly the same way as ``sqlgen.sql_literal`` would after the exact path's conversion;
the block then goes through the exact path. Empty fields become ``NULL``. TEXT fields need no
renderer: ``row_blob`` puts their quotes into the separators of the one join that builds a block
(``text_literals`` quotes a column holding NULLs).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from itertools import compress, repeat
from operator import is_, not_
from typing import Any

import orjson

from d1tui.convert.fast.pack import ROW_SEP, FastPathUnsupportedError
from d1tui.convert.sql.inserts import MAX_DECIMAL_DIGITS, float_literal

SEP = b"\x06"  # joins values while a column is processed whole; absent from accepted blocks
_NULL = b"NULL"
_BOUNDARY = b")" + ROW_SEP + b"("
_DIGITS = b"0123456789"
_INT_CHARS = _DIGITS + b"-" + SEP
_REAL_CHARS = _DIGITS + b".-+eE" + SEP
_MAX_SAFE_DIGITS = 18  # every integer of up to 18 digits fits in 64 bits
_LONG = MAX_DECIMAL_DIGITS + 1  # longer reprs may hold more digits than a decimal literal may
# ".0/100)" + SEP for a fraction of 2 digits: how a (<digits>.0/<10**f>) literal ends
_DIVIDE_BY = [b".0/1" + b"0" * f + b")" + SEP for f in range(_LONG)]
_ZERO_WHOLES = frozenset((b"0", b"-0"))

# searched in SEP + joined: a pattern without alternation is ~6x faster than (?:^|\x06)…
_LEADING_ZERO = re.compile(b"\x06[+-]?0[0-9]")
# A column of texts that are their own float repr (when at most 16 bytes long: 15 digits or
# fewer): no leading zeros, a point, no trailing zeros but "x.0", nothing below 0.0001.
_REPR = rb"-?(?:0\.(?:0|(?!0000)[0-9]*[1-9])|[1-9][0-9]*\.(?:0|[0-9]*[1-9]))"
_REPR_COLUMN = re.compile(_REPR + rb"(?:\x06" + _REPR + rb")*")

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
    A column written as ``repr`` writes floats (``2855.63``, ``-0.5``, ``12.0``) needs no
    float at all: its texts are their own ``repr``, from which the literal is built.
    """
    joined = SEP + SEP.join(col)
    if joined.translate(None, _REAL_CHARS) or _LEADING_ZERO.search(joined):
        return None
    longest = max(map(len, col))
    if longest > _MAX_SAFE_DIGITS - 3 and any(map(_big_integer, col)):
        return None
    empties = col.count(b"")
    values = [v or b"0.0" for v in col] if empties else col
    if longest <= MAX_DECIMAL_DIGITS + 1 and (
        _REPR_COLUMN.fullmatch(SEP.join(values)) if empties else _REPR_COLUMN.fullmatch(joined, 1)
    ):
        out = decimal_literals(values)
    else:
        floats = parse_floats(values)
        found = None if floats is None else float_literals(floats)
        if found is None:
            return None
        out = found
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
    text = "\x06".join(map(float.__repr__, floats))
    if "n" in text:  # nan, inf: the exact path writes them
        return None
    reprs = text.encode().split(SEP)
    scientific = []
    if "e" in text:
        scientific = list(compress(range(len(reprs)), map(bytes.__contains__, reprs, repeat(b"e"))))
        for i in scientific:
            reprs[i] = b"0.0"
    out = decimal_literals(reprs)
    for i in scientific:
        out[i] = float_literal(floats[i]).encode()
    return out


def decimal_literals(reprs: list[bytes]) -> list[bytes]:
    """``sqlgen.float_literal`` of the floats whose ``repr`` (without exponent) is ``reprs``.

    Most become ``(<whole><frac>.0/1<0 * len(frac)>)`` in one join; values below 1 (leading
    zeros to drop), integral ones (written as they are) and long ones (maybe more than 15
    digits) are written one by one.
    """
    n = len(reprs)
    texts = reprs
    long = list(compress(range(n), map(_LONG.__lt__, map(len, reprs))))
    if long:
        texts = list(reprs)
        for i in long:
            texts[i] = b"0.0"  # a placeholder: written below
    parts = SEP.join(texts).replace(b".", SEP).split(SEP)
    whole, frac = parts[0::2], parts[1::2]
    pieces = [b"("] * (4 * n)
    pieces[1::4] = whole
    pieces[2::4] = frac
    pieces[3::4] = map(_DIVIDE_BY.__getitem__, map(len, frac))
    out = b"".join(pieces)[:-1].split(SEP)
    for i in compress(range(n), map(_ZERO_WHOLES.__contains__, whole)):
        digits = frac[i].lstrip(b"0")  # 0.05 → (5.0/100); 0.0 and -0.0 are integral, below
        if digits:
            out[i] = (b"(-" if whole[i] == b"-0" else b"(") + digits + _DIVIDE_BY[len(frac[i])][:-1]
    for i in compress(range(n), map(b"0".__eq__, frac)):
        out[i] = texts[i]
    for i in long:
        out[i] = float_literal(float(reprs[i])).encode()
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
