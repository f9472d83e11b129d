"""The engine's input: a finished ``.sql`` file with its md5 and counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from d1tui.errors import BadInputError, Location

# D1 imports through one R2 PUT: at most 5 GiB minus 5 MiB.
MAX_IMPORT_BYTES: Final = 5 * 1024**3 - 5 * 1024**2


@dataclass(frozen=True)
class PreparedImport:
    """An SQL file ready for D1's import API.

    Args:
        path: the ``.sql`` file to upload (exact bytes; ``md5`` is of these bytes).
        md5: lowercase hex md5 of the file: the import ``etag``.
        size: file size in bytes.
        statements: number of SQL statements in the file.
        rows: data rows the file inserts per table (``{table: rows}``); empty when unknown
            (e.g. a raw SQL file). VERIFY compares ``COUNT(*)`` before/after with these.
        source: what the file was made from (shown to the user), e.g. ``customers.csv``.
        created_tables: tables the file creates (``CREATE TABLE IF NOT EXISTS``).
        temporary: the file is ours to delete when the import is over.
        origin: the file the SQL was made from (None: ``path`` itself, or fake rows); an
            import's record names it, so a rerun of the same file is recognised.
    """

    path: Path
    md5: str
    size: int
    statements: int
    rows: dict[str, int] = field(default_factory=dict)
    source: str = ""
    created_tables: tuple[str, ...] = ()
    temporary: bool = False
    origin: Path | None = None

    @property
    def total_rows(self) -> int:
        """Rows inserted over all tables."""
        return sum(self.rows.values())


def oversize_error(prepared: PreparedImport) -> BadInputError | None:
    """The error to report when ``prepared`` is too big for one D1 import, else None."""
    if prepared.size <= MAX_IMPORT_BYTES:
        return None
    gib = 1024**3
    return BadInputError(
        f"the SQL for this import is {prepared.size / gib:.3f} GiB ({prepared.size:,} bytes); "
        f"D1 imports at most {MAX_IMPORT_BYTES / gib:.3f} GiB ({MAX_IMPORT_BYTES:,} bytes) "
        "at a time",
        where=Location(Path(prepared.source)) if prepared.source else None,
        option="tables",
        hint="import it in parts: an SQLite file table by table ({option}), a CSV or NDJSON "
        "file split by rows (e.g. `split -l`), each part with its own import",
    )
