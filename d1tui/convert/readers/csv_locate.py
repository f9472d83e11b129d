"""Where in a CSV record a problem is: the line and column ``csv`` does not report.

Used only once a record has been found bad (a quoting error, a wrong field count): the record is
read again from its first line and walked character by character with the rules of ``csv``'s
strict mode, so the error can name the exact line and column.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

Position = tuple[int, int]  # 1-based line and column (in characters)
SCAN_LIMIT = 4 << 20  # characters walked at most: a quote left open is named all the same


@dataclass
class RecordScan:
    """One record walked: where each field starts, where it ends, where quoting broke."""

    starts: list[Position] = field(default_factory=list)
    end: Position | None = None  # the line break (or end of file) closing the record
    error: Position | None = None  # a character after a closing quote, or an unclosed quote


def scan_record(lines: Iterable[str], first: int, delimiter: str, quotechar: str) -> RecordScan:
    """Walk the record starting at line ``first`` of ``lines`` (which start at that line)."""
    scan = RecordScan()
    state, opened = "start", (first, 1)
    line, col, walked = first, 0, 0
    for line, text in enumerate(lines, first):
        walked += len(text)
        if walked > SCAN_LIMIT:
            break
        for col, ch in enumerate(text, 1):
            if state == "start":
                scan.starts.append((line, col))
                if ch == quotechar:
                    state, opened = "quoted", (line, col)
                    continue
                state = "plain"
            if state == "plain":
                if ch == delimiter:
                    state = "start"
                elif ch in "\r\n":
                    scan.end = (line, col)
                    return scan
            elif state == "quoted":
                if ch == quotechar:
                    state = "closing"
            elif ch == quotechar:  # "closing": a doubled quote stays inside the field
                state = "quoted"
            elif ch == delimiter:
                state = "start"
            elif ch in "\r\n":
                scan.end = (line, col)
                return scan
            else:
                scan.error = (line, col)
                return scan
    else:
        if state == "start":
            scan.starts.append((line, col + 1))  # an empty last field before the end of the file
        scan.end = (line, col + 1)
    if state == "quoted":
        scan.error = opened
    return scan


def scan_file_record(
    path: Path, codec: str, first: int, delimiter: str, quotechar: str
) -> RecordScan:
    """``scan_record`` on the record starting at line ``first`` of the file."""
    with path.open(encoding=codec, errors="replace", newline="") as f:
        return scan_record(islice(f, first - 1, None), first, delimiter, quotechar)
