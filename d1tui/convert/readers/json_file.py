"""JSON (an array of objects) and NDJSON (one object per line) rows, parsed exactly.

The standard ``json`` module is used because it keeps integers of any size exact (orjson turns
those beyond 64 bits into floats). A JSON array is read whole: a file of a few hundred MB needs
a few times that in memory; NDJSON streams line by line, blank lines skipped. Columns are the
keys in order of first appearance: over the whole array, or over the first ``HEAD_ROWS`` lines
of NDJSON (later keys are seen by the caller, which widens and restarts).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from itertools import chain

from d1tui.convert.detect import FileFacts
from d1tui.convert.readers.rowsource import ObjectRow, RowSource, TextRow, locate_decode_error
from d1tui.errors import BadInputError, Location

HEAD_ROWS = 1000


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return "a literal"


def _keys(rows: list[tuple[int | None, ObjectRow]]) -> list[str]:
    seen: dict[str, None] = {}
    for _, obj in rows:
        for key in obj:
            seen.setdefault(key, None)
    return list(seen)


def read_json(facts: FileFacts) -> RowSource:
    """Read a JSON array of objects (whole: see the module docstring)."""
    path, codec = facts.path, facts.encoding or "utf-8"
    try:
        text = path.read_bytes().decode(codec)
    except UnicodeDecodeError:
        raise locate_decode_error(path, codec) from None
    try:
        data = json.loads(text.removeprefix("\ufeff"))
    except json.JSONDecodeError as exc:
        where = Location(path, line=exc.lineno, column=exc.colno)
        raise BadInputError(f"invalid JSON: {exc.msg}", where=where) from None
    if not isinstance(data, list):
        raise BadInputError(
            f"the JSON is {_kind(data)}, not an array of objects",
            where=Location(path, line=1),
            hint="a JSON file must hold [ {...}, {...} ]; one object per line is NDJSON (.ndjson)",
        )
    rows: list[tuple[int | None, ObjectRow]] = []
    for i, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise BadInputError(
                f"array element {i} is {_kind(item)}, not an object", where=Location(path, row=i)
            )
        rows.append((None, item))
    size = facts.size
    body: Iterator[tuple[int | None, TextRow | ObjectRow]] = iter(rows)
    return RowSource(path, _keys(rows), body, True, lambda: size, lambda: None)


def read_ndjson(facts: FileFacts) -> RowSource:
    """Stream an NDJSON / JSON Lines file (see the module docstring)."""
    path, codec = facts.path, facts.encoding or "utf-8"
    raw = path.open("rb")
    text = io.TextIOWrapper(raw, encoding=codec, errors="strict", newline="")
    lines = _objects(text, facts, codec)
    try:
        head = [row for _, row in zip(range(HEAD_ROWS), lines, strict=False)]
    except BaseException:
        raw.close()
        raise
    body: Iterator[tuple[int | None, TextRow | ObjectRow]] = chain(head, lines)
    return RowSource(path, _keys(head), body, True, raw.tell, text.close)


def _objects(
    text: io.TextIOWrapper, facts: FileFacts, codec: str
) -> Iterator[tuple[int | None, ObjectRow]]:
    """``(line, object)`` per non-blank line; anything but a JSON object is an error."""
    number = 0
    try:
        for number, line in enumerate(text, start=1):
            stripped = line.strip().removeprefix("\ufeff") if number == 1 else line.strip()
            if not stripped:
                continue
            try:
                obj = json.loads(stripped)
            except json.JSONDecodeError as exc:
                where = Location(facts.path, line=number, column=exc.colno)
                raise BadInputError(f"invalid JSON: {exc.msg}", where=where) from None
            if not isinstance(obj, dict):
                raise BadInputError(
                    f"the line is {_kind(obj)}, not a JSON object",
                    where=Location(facts.path, line=number),
                )
            yield number, obj
    except UnicodeDecodeError:
        raise locate_decode_error(facts.path, codec) from None
