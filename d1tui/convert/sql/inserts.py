"""Exact SQL literals and identifiers, and multi-row INSERTs packed under D1's statement limit.

This module is the reference writer: any faster converter must produce the same bytes.

Canonical form of one statement (UTF-8, no spaces other than those shown)::

    INSERT INTO "t" ("a","b") VALUES (1,'x'),(2,NULL);\\n

``STATEMENT_LIMIT`` counts every byte from ``INSERT`` through ``;``; the ``\\n`` after it is a
separator and not counted. Rows are packed greedily: a row joins the current statement when the
statement still fits with it, otherwise the statement is written and a new one starts.

Literals (``sql_literal``):

- ``None`` → ``NULL``; ``bool`` → ``1``/``0``; ``int`` in 64-bit range → its digits.
- ``int`` beyond 64 bits → a text literal of its digits (SQLite has no wider integer and REAL
  would lose digits; text keeps every one).
- ``float``: SQLite's decimal parser is not correctly rounded (3.40 misreads about 1 in 6,000
  random short decimals such as ``51.27239282695``), so decimal text cannot promise the same
  double back. Floats are written in a form every SQLite evaluates exactly, from the shortest
  ``repr``: an integral value as ``<digits>.0`` (``-0.0`` kept) when it has at most 15 digits;
  a ``repr`` of at most 15 significant digits (no exponent) as the decimal fraction
  ``(<digits>.0/<10**f>)``, e.g. ``2855.63`` → ``(285563.0/100)`` (both operands are exact
  doubles, and IEEE division rounds their quotient to the nearest double: the one the ``repr``
  stands for); anything else as ``m·2**e`` with ``m`` odd — an integral value below 2**53 as
  ``<digits>.0``, else ``(<m>.0/<2**k>)`` or ``(<m>.0*<2**k>)``, powers above 2**62 split into
  a chain of ``/4611686018427387904`` (or ``*``) steps, the 2**62 steps first. ``inf`` →
  ``9e999``, ``-inf`` → ``-9e999``. NaN → ``NULL``: SQLite stores every NaN as NULL anyway.
- ``str`` → ``'…'`` with ``'`` doubled, everything else verbatim; text holding a NUL character
  cannot live in a literal and becomes ``CAST(X'<utf-8 hex>' AS TEXT)``.
- ``bytes``/``bytearray``/``memoryview`` → ``X'<hex>'``. Hex digits are lower case.

Long rows: a row whose own INSERT would exceed the limit, but whose values total at most
``ROW_LIMIT`` bytes (text as UTF-8, blobs as bytes, numbers 8), is inserted with its longest
text/blob values empty, then completed by ``UPDATE "t" SET "c" = "c" || '…' WHERE <key>;``
statements, each under the limit (text split on character boundaries; NUL-holding text appends
``CAST(X'…' AS TEXT)``, blobs ``SET "c" = CAST("c" || X'…' AS BLOB)``). The key is the
``key_column`` value when given and not NULL; otherwise ``rowid = last_insert_rowid()``, which
is right for rowid tables because UPDATEs do not change ``last_insert_rowid()`` (a WITHOUT ROWID
table must name its key column). The rowid alias is ``rowid``, or ``_rowid_``/``oid`` when a
column already has that name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence

from d1tui.errors import BadInputError, Location

STATEMENT_LIMIT = 100_000
ROW_LIMIT = 2_000_000

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_EXACT_INT_FLOAT = 2**53
MAX_DECIMAL_DIGITS = 15  # below 2**53: exact as a double, and a repr of them reads back as is
MAX_DECIMAL_PLACES = 18  # 10**18 is an exact 64-bit integer literal
_STEP = 62  # 2**62 is the largest power of two an SQLite integer literal holds
_STEP_LITERAL = str(2**_STEP)


def quote_identifier(name: str) -> str:
    """Double-quote an SQL identifier, doubling any ``"`` inside it."""
    if "\x00" in name:
        raise BadInputError(f"a name cannot contain a NUL character: {name!r}")
    return '"' + name.replace('"', '""') + '"'


def float_literal(value: float) -> str:
    """Write a float so that SQLite evaluates it to exactly the same double (see module doc)."""
    if math.isnan(value):
        return "NULL"
    if math.isinf(value):
        return "9e999" if value > 0 else "-9e999"
    return decimal_literal(repr(value)) or _binary_literal(value)


def decimal_literal(text: str) -> str | None:
    """The exact literal of the float whose ``repr`` is ``text``, as a decimal (see module doc).

    None when ``text`` has an exponent, more than 15 significant digits, or more than 18
    after the point: the binary form is needed then.
    """
    if "e" in text:
        return None
    whole, frac = text.split(".")
    if frac == "0":
        return text if len(whole.lstrip("-")) <= MAX_DECIMAL_DIGITS else None
    digits = (whole.lstrip("-") + frac).lstrip("0")
    if len(digits) > MAX_DECIMAL_DIGITS or len(frac) > MAX_DECIMAL_PLACES:
        return None
    return f"({'-' if whole[0] == '-' else ''}{digits}.0/1{'0' * len(frac)})"


def _binary_literal(value: float) -> str:
    """``m·2**e`` with ``m`` odd, written with exact operands (see module doc)."""
    if value.is_integer() and abs(value) < _EXACT_INT_FLOAT:
        return f"{int(value)}.0"
    numerator, denominator = value.as_integer_ratio()
    if denominator == 1:
        shift = (numerator & -numerator).bit_length() - 1
        return _scaled(numerator >> shift, shift, "*")
    return _scaled(numerator, denominator.bit_length() - 1, "/")


def _scaled(mantissa: int, exponent: int, op: str) -> str:
    """``(<mantissa>.0 op 2**exponent)`` with the power split into exact integer literals."""
    steps, rest = divmod(exponent, _STEP)
    parts = [f"({mantissa}.0"]
    parts += [op + _STEP_LITERAL] * steps
    if rest:
        parts.append(f"{op}{2**rest}")
    return "".join(parts) + ")"


def text_literal(value: str) -> str:
    """Write text exactly: ``'…'`` with quotes doubled, or a UTF-8 hex cast when it holds a NUL."""
    if "\x00" in value:
        return "CAST(X'" + value.encode("utf-8").hex() + "' AS TEXT)"
    return "'" + value.replace("'", "''") + "'"


def sql_literal(value: object) -> str:
    """Write ``None``/``bool``/``int``/``float``/``str``/bytes as an exact SQLite literal."""
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return text_literal(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        if _INT64_MIN <= value <= _INT64_MAX:
            return str(value)
        return "'" + str(value) + "'"
    if isinstance(value, float):
        return float_literal(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return "X'" + bytes(value).hex() + "'"
    raise TypeError(f"no SQL literal for a {type(value).__name__} value: {value!r}")


def insert_prefix(table: str, columns: Sequence[str]) -> str:
    """The canonical ``INSERT INTO "t" ("a","b") VALUES `` that starts every statement."""
    names = ",".join(quote_identifier(c) for c in columns)
    return f"INSERT INTO {quote_identifier(table)} ({names}) VALUES "


def render_row(values: Sequence[object]) -> bytes:
    """One row as the UTF-8 bytes ``(v1,v2,…)``."""
    text = "(" + ",".join(map(sql_literal, values)) + ")"
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadInputError(f"text is not valid Unicode (lone surrogate): {exc.reason}") from exc


def row_size(values: Sequence[object]) -> int:
    """Stored size of a row as measured against ``ROW_LIMIT`` (text UTF-8, blobs, numbers 8)."""
    total = 0
    for v in values:
        if isinstance(v, str):
            total += len(v.encode("utf-8", "surrogatepass"))
        elif isinstance(v, bytes | bytearray | memoryview):
            total += len(v)
        elif v is not None:
            total += 8
    return total


class InsertWriter:
    """Packs rows into multi-row INSERTs of at most ``limit`` bytes and writes them out.

    Args:
        write: called with the bytes of each finished statement (``;\\n`` included).
        table: target table name.
        columns: column names, in the order of every row's values.
        key_column: the column identifying a row for the long-row UPDATEs (a primary key);
            ``None`` uses the rowid.
        limit: statement size limit in bytes (tests use smaller ones).
    """

    def __init__(
        self,
        write: Callable[[bytes], object],
        table: str,
        columns: Sequence[str],
        *,
        key_column: str | None = None,
        limit: int = STATEMENT_LIMIT,
    ) -> None:
        self._write = write
        self._table = table
        self._columns = tuple(columns)
        self._prefix = insert_prefix(table, self._columns).encode("utf-8")
        self._key_index = self._columns.index(key_column) if key_column is not None else None
        self._limit = limit
        self._pending: list[bytes] = []
        self._size = 0  # bytes of the pending statement without its ';'
        self.statements = 0
        self.rows = 0
        self.bytes_written = 0
        if len(self._prefix) + 32 > limit:
            raise BadInputError(f"the INSERT prefix for table {table!r} alone nears the limit")

    def add_row(self, values: Sequence[object], *, where: Location | None = None) -> None:
        """Add one row; ``where`` names it in errors (defaults to its number in this writer)."""
        if len(values) != len(self._columns):
            raise ValueError(f"row has {len(values)} values for {len(self._columns)} columns")
        self.add_rendered(render_row(values), values, where=where)

    def add_rendered(
        self, row: bytes, values: Sequence[object], *, where: Location | None = None
    ) -> None:
        """Add a row already rendered by ``render_row`` (``values`` are used for long rows)."""
        if self._pending:
            size = self._size + 1 + len(row)
            if size + 1 <= self._limit:
                self._pending.append(row)
                self._size = size
                self.rows += 1
                return
            self.flush()
        size = len(self._prefix) + len(row)
        if size + 1 <= self._limit:
            self._pending.append(row)
            self._size = size
            self.rows += 1
            return
        self._long_row(values, where)
        self.rows += 1

    def flush(self) -> None:
        """Write the pending statement, if any."""
        if not self._pending:
            return
        self._emit(self._prefix + b",".join(self._pending) + b";\n")
        self._pending = []
        self._size = 0

    def close(self) -> None:
        """Write whatever is pending; the writer can be used again afterwards."""
        self.flush()

    def _emit(self, statement: bytes) -> None:
        self._write(statement)
        self.statements += 1
        self.bytes_written += len(statement)

    def _fail(self, detail: str, where: Location | None) -> BadInputError:
        if where is None:
            detail = f"row {self.rows + 1} of table {self._table!r}: {detail}"
        return BadInputError(detail, where=where)

    def _long_row(self, values: Sequence[object], where: Location | None) -> None:
        """Insert a row too long for one statement, then append its long values by UPDATEs."""
        if len(values) != len(self._columns):
            raise ValueError("a row too long for one statement must come with its values")
        size = row_size(values)
        if size > ROW_LIMIT:
            raise self._fail(
                f"the row holds {size:,} bytes; D1 stores at most {ROW_LIMIT:,} per row", where
            )
        literals = [sql_literal(v).encode("utf-8") for v in values]
        candidates = sorted(
            (
                i
                for i, v in enumerate(values)
                if i != self._key_index and isinstance(v, str | bytes | bytearray | memoryview)
            ),
            key=lambda i: -len(literals[i]),
        )
        total = len(self._prefix) + 2 + sum(len(x) for x in literals) + len(literals) - 1
        deferred: list[int] = []
        for i in candidates:
            if total + 1 <= self._limit:
                break
            empty = b"''" if isinstance(values[i], str) else b"X''"
            total += len(empty) - len(literals[i])
            literals[i] = empty
            deferred.append(i)
        if total + 1 > self._limit:
            raise self._fail("its non-text values alone exceed the statement limit", where)
        self._emit(self._prefix + b"(" + b",".join(literals) + b");\n")
        condition = self._row_condition(values)
        for i in deferred:
            for statement in self._appends(self._columns[i], values[i], condition):
                self._emit(statement)

    def _row_condition(self, values: Sequence[object]) -> bytes:
        """``WHERE`` clause naming the row just inserted."""
        if self._key_index is not None and values[self._key_index] is not None:
            key = quote_identifier(self._columns[self._key_index])
            return f" WHERE {key} = {sql_literal(values[self._key_index])};\n".encode()
        taken = {c.lower() for c in self._columns}
        alias = next(a for a in ("rowid", "_rowid_", "oid") if a not in taken)
        return f" WHERE {alias} = last_insert_rowid();\n".encode()

    def _appends(self, column: str, value: object, condition: bytes) -> Iterator[bytes]:
        """UPDATE statements that append ``value`` to ``column`` piece by piece."""
        table = quote_identifier(self._table)
        col = quote_identifier(column)
        head = f"UPDATE {table} SET {col} = ".encode()
        fixed = len(head) + len(condition) - 1  # the '\n' is not counted
        if isinstance(value, str) and "\x00" not in value:
            start, end = f"{col} || '".encode(), b"'"
            room = self._limit - fixed - len(start) - len(end)
            for body in _text_pieces(value.encode("utf-8"), room):
                yield head + start + body + end + condition
            return
        if isinstance(value, str):
            start, end = f"{col} || CAST(X'".encode(), b"' AS TEXT)"
            data, boundaries = value.encode("utf-8"), True
        else:
            assert isinstance(value, bytes | bytearray | memoryview)
            start, end = f"CAST({col} || X'".encode(), b"' AS BLOB)"
            data, boundaries = bytes(value), False
        room = (self._limit - fixed - len(start) - len(end)) // 2
        for piece in _byte_pieces(data, room, boundaries):
            yield head + start + piece.hex().encode() + end + condition


def _char_start(data: bytes, pos: int, floor: int) -> int:
    """Move ``pos`` back to the start of a UTF-8 character (never below ``floor + 1``)."""
    while floor + 1 < pos < len(data) and (data[pos] & 0xC0) == 0x80:
        pos -= 1
    return pos


def _text_pieces(data: bytes, room: int) -> Iterator[bytes]:
    """Split UTF-8 text into quoted-literal bodies (``'`` doubled) of at most ``room`` bytes."""
    start = 0
    while start < len(data):
        end = min(len(data), start + room)
        while True:
            end = _char_start(data, end, start)
            piece = data[start:end]
            over = len(piece) + piece.count(b"'") - room
            if over <= 0:
                break
            end -= max(1, over // 2)  # each byte dropped shortens the body by 1 or 2
        yield piece.replace(b"'", b"''")
        start = end


def _byte_pieces(data: bytes, room: int, boundaries: bool) -> Iterator[bytes]:
    """Split bytes into pieces of at most ``room`` bytes, on UTF-8 boundaries when asked."""
    start = 0
    while start < len(data):
        end = min(len(data), start + room)
        if boundaries:
            end = _char_start(data, end, start)
        yield data[start:end]
        start = end
