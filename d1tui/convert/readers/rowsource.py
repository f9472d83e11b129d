"""``RowSource``: a file's column names plus rows that know their line; decode-error locating."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from d1tui.errors import BadInputError, Location

TextRow = list[str]
ObjectRow = dict[str, object]


@dataclass
class RowSource:
    """Rows of one file, read lazily.

    ``rows`` yields ``(line, values)``: ``line`` is the 1-based line where the row starts (None
    when unknown, as for elements of a JSON array). Values are a list of strings for CSV/TSV
    (``typed`` False) or a dict of JSON values for JSON/NDJSON (``typed`` True), whose keys may
    go beyond ``columns`` (the names seen in the head of the file).
    """

    path: Path
    columns: list[str]
    rows: Iterator[tuple[int | None, TextRow | ObjectRow]]
    typed: bool
    position: Callable[[], int]
    close: Callable[[], None]
    warnings: list[str] = field(default_factory=list)

    def __enter__(self) -> RowSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def locate_decode_error(path: Path, codec: str) -> BadInputError:
    """Find the first undecodable byte of ``path``: its byte offset, line and column."""
    base, line, column, carry = 0, 1, 1, b""
    with path.open("rb") as f:
        while True:
            chunk = f.read(1 << 20)
            buf = carry + chunk
            try:
                text = buf.decode(codec)
                carry = b""
            except UnicodeDecodeError as exc:
                if chunk and exc.reason == "unexpected end of data" and exc.end == len(buf):
                    text, carry = buf[: exc.start].decode(codec), buf[exc.start :]
                else:
                    line, column = _advance(buf[: exc.start].decode(codec), line, column)
                    bad = buf[exc.start : max(exc.end, exc.start + 1)]
                    return BadInputError(
                        f"bytes {bad.hex(' ')} are not valid {codec.upper()}",
                        where=Location(
                            path, line=line, column=column, byte_offset=base + exc.start
                        ),
                        hint="give the file's encoding (e.g. {option} cp1252) or re-save it "
                        "as UTF-8",
                        option="encoding",
                    )
            if not chunk:
                break
            line, column = _advance(text, line, column)
            base += len(buf) - len(carry)
    return BadInputError(f"the file is not valid {codec.upper()}", where=Location(path))


def _advance(text: str, line: int, column: int) -> tuple[int, int]:
    breaks = text.count("\n")
    if breaks:
        return line + breaks, len(text) - text.rfind("\n")
    return line, column + len(text)
