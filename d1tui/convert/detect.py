"""Input formats and what the head of a file tells about it (format, encoding, dialect, header).

Detection reads at most ``HEAD_BYTES``: SQLite magic first, then byte-order marks, then the
extension, then the content (``[`` JSON array, ``{`` NDJSON, SQL keywords, else CSV). A CSV has a
header row unless its first row holds a number (``--no-headers``/``has_header`` overrides).
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from d1tui.convert.schema import INTEGER, REAL, classify_text
from d1tui.errors import BadInputError, Location

HEAD_BYTES = 64 * 1024
FOLDER_NOT_FILE = "is a folder, not a file"
SQLITE_MAGIC = b"SQLite format 3\x00"

_BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32 LE with BOM"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32 BE with BOM"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8 with BOM"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16 LE with BOM"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16 BE with BOM"),
)
_SQL_START = re.compile(
    r"(?:\s|--[^\n]*\n|/\*.*?\*/)*(?:CREATE|INSERT|PRAGMA|BEGIN|DROP|REPLACE|UPDATE|DELETE|"
    r"ALTER|WITH|SELECT)[\s;]",
    re.I | re.S,
)
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".sql": "sql",
}


class Format(StrEnum):
    """Supported input formats."""

    CSV = "csv"
    TSV = "tsv"
    JSON = "json"
    NDJSON = "ndjson"
    SQL = "sql"
    SQLITE = "sqlite"


@dataclass(frozen=True)
class ReadOptions:
    """How to read a file; ``None`` means detect. ``types``/``pk`` shape a new table."""

    format: Format | None = None
    delimiter: str | None = None
    quotechar: str | None = None
    has_header: bool | None = None
    encoding: str | None = None
    types: dict[str, str] = field(default_factory=dict)
    pk: str | None = None
    tables: tuple[str, ...] = ()


def parse_read_options(
    *,
    format: str | None = None,
    delimiter: str | None = None,
    quotechar: str | None = None,
    no_headers: bool = False,
    encoding: str | None = None,
    types: list[str] | tuple[str, ...] = (),
    pk: str | None = None,
    tables: str | None = None,
) -> ReadOptions:
    """``ReadOptions`` from the words a person types (flags or fields); ValueError names a bad one.

    ``types`` items are ``COL=TYPE``; ``delimiter`` may be ``\\t``/``tab``; ``tables`` is
    ``A,B``. Empty strings mean "detect".
    """
    kinds: dict[str, str] = {}
    for item in types:
        col, sep, kind = item.partition("=")
        col, kind = col.strip(), kind.strip()
        if not sep or not col or not kind:
            raise ValueError(f"wants COL=TYPE, got {item!r}")
        kinds[col] = kind.upper()
    if delimiter in ("\\t", "tab", "TAB"):
        delimiter = "\t"
    if delimiter is not None and delimiter != "" and len(delimiter) != 1:
        raise ValueError(f"a delimiter is one character, got {delimiter!r}")
    if quotechar is not None and quotechar != "" and len(quotechar) != 1:
        raise ValueError(f"a quote character is one character, got {quotechar!r}")
    return ReadOptions(
        format=Format(format) if format else None,
        delimiter=delimiter or None,
        quotechar=quotechar or None,
        has_header=False if no_headers else None,
        encoding=encoding or None,
        types=kinds,
        pk=(pk or "").strip() or None,
        tables=tuple(t.strip() for t in (tables or "").split(",") if t.strip()),
    )


@dataclass(frozen=True)
class FileFacts:
    """What detection found; ``encoding`` is a Python codec name, ``summary`` one display line."""

    path: Path
    size: int
    format: Format
    encoding: str | None
    delimiter: str | None
    newline: str | None
    has_header: bool | None
    summary: str


def _bom(head: bytes) -> tuple[str, str] | None:
    for mark, codec, label in _BOMS:
        if head.startswith(mark):
            return codec, label
    return None


def _codec_name(codec: str) -> str:
    try:
        return codecs.lookup(codec).name
    except LookupError:
        return codec


_BINARY_MAGIC = (
    (b"\x1f\x8b", "a gzip archive", "decompress it first (gunzip FILE)"),
    (
        b"PK\x03\x04",
        "a zip archive (or an Excel .xlsx workbook)",
        "unzip it, or save the sheet as CSV",
    ),
    (b"\x89PNG", "a PNG image", "pick the data file itself"),
    (b"%PDF", "a PDF document", "export the table as CSV first"),
    (b"\xd0\xcf\x11\xe0", "an old Excel/Office file", "save the sheet as CSV"),
)


# Control bytes no text file holds (tab, newlines, form feed and ESC excepted). Random bytes have
# about 11% of them; text in any 8-bit codepage next to none.
_CONTROL = frozenset(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D, 0x1B} | {0x7F}
_CONTROL_SHARE = 0.05


def _looks_binary(head: bytes) -> bool:
    if _utf16_without_bom(head):
        return False
    if head.count(0) > len(head) // 10:
        return True
    sample = head[:4096]
    return len(sample) >= 64 and sum(b in _CONTROL for b in sample) > len(sample) * _CONTROL_SHARE


def _refuse_binary(path: Path, head: bytes) -> None:
    """BadInputError for a file that is not text at all (an archive, an image, control bytes)."""
    what, hint = next(((w, h) for magic, w, h in _BINARY_MAGIC if head.startswith(magic)), ("", ""))
    if not what and head and _looks_binary(head):
        what, hint = "binary data, not text", "check it is the file you meant"
    if what:
        raise BadInputError(
            f"this is {what}, not a text data file", where=Location(path), hint=hint
        )


def _utf16_without_bom(head: bytes) -> tuple[str, str] | None:
    """UTF-16 text saved without a BOM: a NUL in (nearly) every other byte, on one side only."""
    sample = head[: min(len(head), 4096) // 2 * 2]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2].count(0) / (len(sample) / 2), sample[1::2].count(0) / (len(sample) / 2)
    if odd > 0.9 and even < 0.1:
        return "utf-16-le", "UTF-16 LE (no BOM)"
    if even > 0.9 and odd < 0.1:
        return "utf-16-be", "UTF-16 BE (no BOM)"
    return None


def _decode_head(head: bytes, codec: str) -> str:
    """Decode the head, ignoring a character cut at its end; undecodable bytes become U+FFFD."""
    decoder = codecs.getincrementaldecoder(codec)(errors="replace")
    return decoder.decode(head, final=False)


def _newline(text: str) -> str | None:
    if "\r\n" in text:
        return "\r\n"
    if "\n" in text:
        return "\n"
    return "\r" if "\r" in text else None


def _content_format(text: str) -> Format:
    stripped = text.lstrip()
    if stripped.startswith("["):
        return Format.JSON
    if stripped.startswith("{"):
        return Format.NDJSON
    if _SQL_START.match(text):
        return Format.SQL
    return Format.CSV


def _first_line_is_json(text: str) -> bool:
    """True when the first line alone is a JSON value (NDJSON, not a pretty-printed object)."""
    try:
        json.loads(text.lstrip().split("\n", 1)[0])
    except ValueError:
        return False
    return True


def _sniff_delimiter(text: str) -> str:
    lines = text.splitlines()[:50]
    sample = "\n".join(lines[:-1] if len(lines) > 1 else lines)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _first_row(text: str, delimiter: str, quotechar: str) -> list[str]:
    try:
        return next(csv.reader(text.splitlines(), delimiter=delimiter, quotechar=quotechar), [])
    except csv.Error:
        return []


def detect(path: Path, options: ReadOptions = ReadOptions()) -> FileFacts:
    """Look at the head of ``path`` and say how to read it (``options`` win over detection)."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(HEAD_BYTES)
    except IsADirectoryError:
        raise BadInputError(FOLDER_NOT_FILE, where=Location(path)) from None
    except OSError as exc:
        raise BadInputError(
            f"cannot read the file: {exc.strerror or exc}", where=Location(path)
        ) from None
    if not head:
        raise BadInputError(
            "the file is empty", where=Location(path), hint="check it is the file you meant"
        )
    if head.startswith(SQLITE_MAGIC) or options.format == Format.SQLITE:
        if not head.startswith(SQLITE_MAGIC):
            raise BadInputError("not an SQLite database file", where=Location(path))
        return FileFacts(path, size, Format.SQLITE, None, None, None, None, "SQLite database")
    bom = _bom(head)
    if not bom and not options.encoding:
        _refuse_binary(path, head)
    if options.encoding:
        codec, label = options.encoding, options.encoding
        if bom and bom[0] == "utf-8-sig" and _codec_name(codec) == "utf-8":
            codec = "utf-8-sig"
    elif bom:
        codec, label = bom
    else:
        codec, label = _utf16_without_bom(head) or ("utf-8", "UTF-8")
    try:
        text = _decode_head(head, codec)
    except LookupError:
        raise BadInputError(
            f"unknown encoding {options.encoding!r}", where=Location(path)
        ) from None
    text = text.removeprefix("\ufeff")
    fmt: Format
    if options.format is not None:
        fmt = options.format
    else:
        by_ext = _EXTENSIONS.get(path.suffix.lower())
        fmt = Format(by_ext) if by_ext else _content_format(text)
        if fmt == Format.JSON and text.lstrip().startswith("{"):
            fmt = Format.NDJSON if _first_line_is_json(text) else Format.JSON
    newline = _newline(text)
    nl = {"\r\n": "CRLF", "\n": "LF", "\r": "CR"}.get(newline or "", "")
    if fmt not in (Format.CSV, Format.TSV):
        parts = [fmt.value.upper(), label]
        return FileFacts(path, size, fmt, codec, None, newline, None, " · ".join(parts))
    if options.delimiter:
        delimiter = options.delimiter
    elif fmt == Format.TSV:
        delimiter = "\t"
    else:
        delimiter = _sniff_delimiter(text)
    if delimiter == "\t" and options.format is None and fmt == Format.CSV:
        fmt = Format.TSV
    quotechar = options.quotechar or '"'
    has_header = options.has_header
    if has_header is None:
        first = _first_row(text, delimiter, quotechar)
        has_header = not any(classify_text(v)[0] in (INTEGER, REAL) for v in first)
    shown = "tab" if delimiter == "\t" else f'"{delimiter}"'
    parts = [fmt.value.upper(), label, shown]
    if nl:
        parts.append(nl)
    parts.append("header" if has_header else "no header")
    return FileFacts(path, size, fmt, codec, delimiter, newline, has_header, " · ".join(parts))
