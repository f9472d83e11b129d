"""CSV/TSV rows, streamed: any codec (BOMs handled), CRLF/LF, quoted newlines, strict quoting.

A row with more or fewer fields than the header is an error naming its line and the next few
such lines (a file that is ragged in one place usually is in more). Blank lines are skipped.
Without a header the columns are ``col1`` … ``colN``, N taken from the first row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from itertools import chain, islice
from typing import TYPE_CHECKING

from d1tui.convert.detect import FileFacts, ReadOptions
from d1tui.convert.readers.csv_locate import scan_file_record
from d1tui.convert.readers.rowsource import ObjectRow, RowSource, TextRow, locate_decode_error
from d1tui.convert.schema import unique_names
from d1tui.convert.sql.inserts import ROW_LIMIT
from d1tui.errors import BadInputError, Location

if TYPE_CHECKING:
    from _csv import Reader

_MORE_RAGGED = 4  # further ragged lines named in the error
_RAGGED_SCAN = 100_000  # rows looked at for them

FIELD_LIMIT = 4 * ROW_LIMIT  # longer fields cannot be imported: sqlgen says why


def allow_long_fields() -> None:
    """Let ``csv`` read fields of up to ``FIELD_LIMIT`` characters (its default is 128 KiB)."""
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))


allow_long_fields()


def read_csv(facts: FileFacts, options: ReadOptions) -> RowSource:
    """Open a CSV/TSV file described by ``facts`` (see the module docstring)."""
    path = facts.path
    codec = facts.encoding or "utf-8"
    quote = options.quotechar or '"'
    raw = path.open("rb")
    text = io.TextIOWrapper(raw, encoding=codec, errors="strict", newline="")
    reader = csv.reader(
        text,
        delimiter=facts.delimiter or ",",
        quotechar=quote,
        strict=True,
    )
    records = _records(reader, facts, codec, quote)
    try:
        first = next(records, None)
    except BaseException:
        raw.close()
        raise
    warnings: list[str] = []
    if first is None:
        columns: list[str] = []
        body: Iterator[tuple[int | None, TextRow]] = iter(())
    elif facts.has_header:
        columns, warnings = unique_names(first[1])
        body = records
    else:
        columns = [f"col{i}" for i in range(1, len(first[1]) + 1)]
        body = chain([first], records)
    if not columns and first is not None:
        raw.close()
        raise BadInputError("the header row is empty", where=Location(path, line=first[0]))

    def close() -> None:
        text.close()

    rows: Iterator[tuple[int | None, TextRow | ObjectRow]] = _checked(
        body, len(columns), facts, quote
    )
    return RowSource(path, columns, rows, False, raw.tell, close, warnings)


def _records(
    reader: Reader, facts: FileFacts, codec: str, quote: str
) -> Iterator[tuple[int | None, TextRow]]:
    """``(start line, fields)`` for every non-blank record; decode and quoting errors located."""
    line = 0
    try:
        for fields in reader:
            start, line = line + 1, reader.line_num
            if fields:
                yield start, fields
    except UnicodeDecodeError:
        raise locate_decode_error(facts.path, codec) from None
    except csv.Error as exc:
        scan = scan_file_record(facts.path, codec, line + 1, facts.delimiter or ",", quote)
        err_line, column = scan.error or (line + 1, None)
        where = Location(facts.path, line=err_line, column=column)
        raise BadInputError(f"malformed CSV: {exc}", where=where) from None


def _checked(
    rows: Iterator[tuple[int | None, TextRow]], width: int, facts: FileFacts, quote: str
) -> Iterator[tuple[int | None, TextRow | ObjectRow]]:
    """Pass rows through, raising on the first with a different field count."""
    for line, fields in rows:
        if len(fields) != width:
            raise _ragged(line, len(fields), width, rows, facts, quote=quote)
        yield line, fields


def _ragged(
    line: int | None,
    got: int,
    width: int,
    rows: Iterator[tuple[int | None, TextRow]],
    facts: FileFacts,
    *,
    quote: str,
) -> BadInputError:
    where = Location(facts.path, line=line)
    if line is not None:  # the column of the first extra field, or of the early line break
        scan = scan_file_record(
            facts.path, facts.encoding or "utf-8", line, facts.delimiter or ",", quote
        )
        at = scan.starts[width] if got > width and len(scan.starts) > width else scan.end
        if at is not None and scan.error is None:
            where = Location(facts.path, line=at[0], column=at[1])
    others: list[str] = []
    try:
        for other_line, fields in islice(rows, _RAGGED_SCAN):
            if len(fields) != width:
                others.append(f"{other_line} ({len(fields)})")
                if len(others) == _MORE_RAGGED:
                    break
    except BadInputError:
        pass
    expected = "the header has" if facts.has_header else "the first row has"
    detail = f"{got} fields where {expected} {width}"
    if others:
        detail += "; also lines " + ", ".join(others)
    return BadInputError(
        detail,
        where=where,
        hint="fix the rows named (a missing or extra delimiter, or an unclosed quote)",
    )
