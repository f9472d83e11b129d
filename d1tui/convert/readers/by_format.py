"""Open a CSV/TSV/JSON/NDJSON file with the reader its format needs."""

from __future__ import annotations

from d1tui.convert.detect import FileFacts, Format, ReadOptions
from d1tui.convert.readers.csv_file import read_csv
from d1tui.convert.readers.json_file import read_json, read_ndjson
from d1tui.convert.readers.rowsource import RowSource
from d1tui.errors import BadInputError, Location


def open_rows(facts: FileFacts, options: ReadOptions | None = None) -> RowSource:
    """Open ``facts.path`` as rows (CSV/TSV/JSON/NDJSON); other formats have no row stage."""
    if facts.format in (Format.CSV, Format.TSV):
        return read_csv(facts, options or ReadOptions())
    if facts.format == Format.JSON:
        return read_json(facts)
    if facts.format == Format.NDJSON:
        return read_ndjson(facts)
    raise BadInputError(
        f"{facts.format.value} files have no rows to read", where=Location(facts.path)
    )
