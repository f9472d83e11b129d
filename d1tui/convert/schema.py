"""Table schemas, exact type inference (INTEGER → REAL → TEXT) and mapping onto existing tables.

Inference rules for text values (CSV/TSV), chosen so no value changes meaning:

- ``""`` is NULL and says nothing about the type; a column with no values at all is TEXT.
- INTEGER: ``-?(0|[1-9][0-9]*)`` within 64 bits. Leading-zero codes (``007``, ZIP ``02134``),
  ``+5``, ``1_000`` and spaces are not integers; integers beyond 64 bits are TEXT.
- REAL: ``[+-]?`` digits with a ``.`` and/or an exponent (``1.5``, ``1e3``, ``.5``, ``1.``),
  no leading zero before other digits (``007.5`` is TEXT), finite as a double (``1e999`` is TEXT).
  ``NaN``, ``inf`` and ``Infinity`` are TEXT: SQLite has no NaN and the words are more likely text.
  An integer column that also holds REALs becomes REAL, unless it holds an integer beyond 2**53,
  which a double cannot keep exactly: then TEXT. (SQLite stores an integral REAL compactly, so
  ``-0``/``-0.0`` in a REAL column reads back as ``0.0``; untyped columns keep the sign.)
- Anything else is TEXT, and one TEXT value makes the whole column TEXT.

Typed values (JSON): ``int``/``bool`` INTEGER, ``float`` REAL, ``str`` TEXT (never parsed),
lists and objects TEXT (as JSON text), ``None`` NULL; the same widening applies.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from d1tui.convert.sql.inserts import quote_identifier
from d1tui.errors import BadInputError
from d1tui.events import ColumnsSkipped

MAX_COLUMNS = 100  # D1's limit per table

NULL, INTEGER, REAL, TEXT = 0, 1, 2, 3
TYPE_NAMES = {NULL: "TEXT", INTEGER: "INTEGER", REAL: "REAL", TEXT: "TEXT"}
_EXACT_IN_DOUBLE = 2**53
_INT_RE = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
_REAL_RE = re.compile(r"[+-]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_TYPE_RE = re.compile(r"[A-Za-z][A-Za-z0-9_ ]*(?:\(\s*[+-]?\d+\s*(?:,\s*[+-]?\d+\s*)?\))?\Z")


@dataclass(frozen=True)
class Column:
    """One column of a table; ``default`` is SQL text as ``PRAGMA table_info`` shows it."""

    name: str
    type: str
    pk: bool = False
    notnull: bool = False
    unique: bool = False
    default: str | None = None


@dataclass(frozen=True)
class TableSchema:
    """A table: its name and columns in order."""

    name: str
    columns: tuple[Column, ...]

    @property
    def names(self) -> list[str]:
        """Column names in order."""
        return [c.name for c in self.columns]

    @property
    def key_column(self) -> str | None:
        """The single primary-key column, if the table has exactly one."""
        pks = [c.name for c in self.columns if c.pk]
        return pks[0] if len(pks) == 1 else None

    def column(self, name: str) -> Column | None:
        """The column called ``name`` (case-insensitive, as SQLite compares names)."""
        low = name.lower()
        return next((c for c in self.columns if c.name.lower() == low), None)

    def create_sql(self, if_not_exists: bool = True) -> str:
        """``CREATE TABLE [IF NOT EXISTS] "t" ("id" INTEGER PRIMARY KEY, …);``."""
        pks = [c for c in self.columns if c.pk]
        parts = []
        for c in self.columns:
            text = quote_identifier(c.name)
            if c.type:
                text += " " + c.type
            if c.pk and len(pks) == 1:
                text += " PRIMARY KEY"
            if c.notnull:
                text += " NOT NULL"
            if c.unique:
                text += " UNIQUE"
            if c.default is not None:
                text += f" DEFAULT {c.default}"
            parts.append(text)
        if len(pks) > 1:
            parts.append("PRIMARY KEY (" + ", ".join(quote_identifier(c.name) for c in pks) + ")")
        exists = "IF NOT EXISTS " if if_not_exists else ""
        return f"CREATE TABLE {exists}{quote_identifier(self.name)} ({', '.join(parts)});"


TARGET_D1_TABLE = TableSchema(
    "TargetD1Table",
    (Column("id", "INTEGER", pk=True), Column("text", "TEXT"), Column("date_added", "TEXT")),
)


def affinity(declared: str) -> str:
    """SQLite's column affinity for a declared type (§3.1 of its datatype rules)."""
    t = declared.upper()
    if "INT" in t:
        return "INTEGER"
    if "CHAR" in t or "CLOB" in t or "TEXT" in t:
        return "TEXT"
    if not t or "BLOB" in t:
        return "BLOB"
    if "REAL" in t or "FLOA" in t or "DOUB" in t:
        return "REAL"
    return "NUMERIC"


def check_type_name(declared: str) -> str:
    """Refuse a type override that is not a plain SQL type name (it goes into CREATE TABLE)."""
    if not _TYPE_RE.match(declared):
        raise BadInputError(
            f"not a column type: {declared!r}",
            hint="use INTEGER, REAL, TEXT or BLOB ({option}, e.g. price=REAL)",
            option="types",
        )
    return declared.upper()


def classify_text(text: str) -> tuple[int, bool]:
    """Kind of a text value (NULL/INTEGER/REAL/TEXT) and whether it is an integer beyond 2**53."""
    if not text:
        return NULL, False
    if _INT_RE.match(text):
        n = int(text)
        if -(2**63) <= n < 2**63:
            return INTEGER, abs(n) > _EXACT_IN_DOUBLE
        return TEXT, False
    if _REAL_RE.match(text) and math.isfinite(float(text)):
        return REAL, False
    return TEXT, False


def classify_value(value: object) -> tuple[int, bool]:
    """Kind of a typed (JSON) value, as ``classify_text`` does for text."""
    if value is None:
        return NULL, False
    if isinstance(value, bool):
        return INTEGER, False
    if isinstance(value, int):
        if -(2**63) <= value < 2**63:
            return INTEGER, abs(value) > _EXACT_IN_DOUBLE
        return TEXT, False
    if isinstance(value, float):
        return REAL, False
    return TEXT, False


def resolve(kind: int, big: bool) -> int:
    """The column type for the widest kind seen (REAL with a big integer becomes TEXT)."""
    return TEXT if kind == REAL and big else kind


def json_text(value: object) -> str:
    """A value as text the way a TEXT column stores it (nested values as compact JSON)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@dataclass
class ColumnStats:
    """What inference has seen in one column."""

    kind: int = NULL
    big: bool = False

    def type(self) -> int:
        """The column type so far."""
        return resolve(self.kind, self.big)


def unique_names(names: Sequence[str]) -> tuple[list[str], list[str]]:
    """Column names made non-empty and unique (case-insensitively), with a warning per change."""
    out: list[str] = []
    seen: set[str] = set()
    warnings = []
    for i, raw in enumerate(names, start=1):
        name = raw.strip() or f"col{i}"
        base, n = name, 2
        while name.lower() in seen:
            name, n = f"{base}_{n}", n + 1
        if name != raw:
            warnings.append(f"column {i} {raw!r} is named {name!r}")
        seen.add(name.lower())
        out.append(name)
    return out, warnings


def build_schema(
    table: str,
    names: Sequence[str],
    kinds: Sequence[int],
    *,
    types: dict[str, str] | None = None,
    pk: str | None = None,
) -> TableSchema:
    """A new table's schema from inferred kinds plus ``types``/``pk`` overrides."""
    if len(names) > MAX_COLUMNS:
        raise BadInputError(
            f"{len(names)} columns; D1 allows at most {MAX_COLUMNS} per table",
            hint="drop columns from the file or split it into several tables",
        )
    overrides = {k.lower(): check_type_name(v) for k, v in (types or {}).items()}
    lowered = {n.lower() for n in names}
    unknown = [k for k in overrides if k not in lowered]
    if pk is not None and pk.lower() not in lowered:
        unknown.append(pk)
    if unknown:
        raise BadInputError(f"no such column in the file: {', '.join(unknown)}")
    columns = []
    for name, kind in zip(names, kinds, strict=True):
        declared = overrides.get(name.lower(), TYPE_NAMES[kind])
        is_pk = pk is not None and name.lower() == pk.lower()
        columns.append(Column(name, declared, pk=is_pk, notnull=is_pk and declared != "INTEGER"))
    return TableSchema(table, tuple(columns))


@dataclass(frozen=True)
class ColumnMapping:
    """How source columns land in an existing table (matched by name, case-insensitively).

    ``pairs`` holds (source index, target column name) in target order; ``unmatched_source``
    columns are skipped; ``missing_target`` columns get their default, NULL or a rowid.
    """

    target: TableSchema
    pairs: tuple[tuple[int, str], ...]
    unmatched_source: tuple[str, ...] = ()
    missing_target: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    @property
    def columns(self) -> list[str]:
        """Target column names that receive values, in insert order."""
        return [name for _, name in self.pairs]

    @property
    def skipped(self) -> ColumnsSkipped | None:
        """The warning event for source columns the table lacks (None when all are matched)."""
        if not self.unmatched_source:
            return None
        return ColumnsSkipped(self.target.name, self.unmatched_source)


def map_columns(source: Sequence[str], target: TableSchema) -> ColumnMapping:
    """Match source columns to ``target`` by name; refuse what the import would fail on."""
    by_name = {c.name.lower(): c for c in target.columns}
    pairs: list[tuple[int, str]] = []
    unmatched = []
    for i, name in enumerate(source):
        col = by_name.get(name.lower())
        if col is None:
            unmatched.append(name)
        else:
            pairs.append((i, col.name))
    matched = {name.lower() for _, name in pairs}
    missing = [c for c in target.columns if c.name.lower() not in matched]
    if not source:
        raise BadInputError(
            "no columns: the file is empty or holds no header and no rows",
            hint="check it is the file you meant: a CSV needs a header row, "
            "a JSON file an array of objects",
        )
    if not pairs:
        raise BadInputError(
            f"no column of the file matches a column of table {target.name!r} "
            f"({', '.join(target.names)})",
            hint="rename the header row, or import into a new table",
        )
    rowid_alias = target.key_column if _integer_pk(target) else None
    required = [
        c.name
        for c in missing
        if (c.notnull or (c.pk and c.name != rowid_alias)) and c.default is None
    ]
    if required:
        raise BadInputError(
            f"table {target.name!r} requires a value for {', '.join(required)} "
            "(NOT NULL without a default) but the file has no such column",
        )
    warnings = []
    if unmatched:
        warnings.append(ColumnsSkipped(target.name, tuple(unmatched)).message)
    if missing:
        warnings.append(
            "no values for " + ", ".join(c.name for c in missing) + " (default, NULL or rowid)"
        )
    return ColumnMapping(
        target, tuple(pairs), tuple(unmatched), tuple(c.name for c in missing), tuple(warnings)
    )


def _integer_pk(table: TableSchema) -> bool:
    key = table.key_column
    col = table.column(key) if key else None
    return col is not None and col.type.upper() == "INTEGER"
