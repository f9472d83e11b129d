"""Reader rows → the Python values each target column stores, following ``schema``'s rules.

A ``Plan`` says, per output column, where its value comes from (a CSV field or a JSON key) and
how it is converted: by an inferred kind (a value that does not fit raises ``WidenError``: the
caller finishes inference over the rest of the file and starts again) or by the SQLite affinity
of a fixed type (an override or an existing table's column: never widened).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from d1tui.convert.readers.rowsource import ObjectRow, TextRow
from d1tui.convert.schema import (
    INTEGER,
    NULL,
    REAL,
    TEXT,
    ColumnMapping,
    ColumnStats,
    TableSchema,
    affinity,
    build_schema,
    classify_text,
    classify_value,
    json_text,
    map_columns,
    unique_names,
)
from d1tui.errors import BadInputError, Location


class WidenError(Exception):
    """A value does not fit the type its column was given from the head of the file."""


@dataclass(frozen=True)
class Plan:
    """How rows of one source become rows of one table.

    ``kinds[j]`` is the inferred kind of output column ``j``, or None when ``affinities[j]``
    (a fixed type) decides; ``fields[j]`` is its CSV field index, ``keys[j]`` its JSON key.
    """

    table: str
    columns: tuple[str, ...]
    kinds: tuple[int | None, ...]
    affinities: tuple[str, ...]
    fields: tuple[int, ...]
    keys: tuple[str, ...]
    notnull: tuple[bool, ...]
    key_column: str | None
    schema: TableSchema | None  # the table to create, if new
    mapping: ColumnMapping | None = None
    rowid_key: int = -1  # output index of an INTEGER PRIMARY KEY column
    # Existing table: the JSON keys its columns were matched from (any other key is refused).
    source_keys: frozenset[str] | None = None
    _keyset: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_keyset", frozenset(self.keys))

    def coerce_text(self, text: str, j: int, where: Location | None = None) -> object:
        """Convert one CSV field for output column ``j``."""
        kind = self.kinds[j]
        if not text:
            value: object = None
        elif kind is None:
            value = _text_by_affinity(text, self.affinities[j])
        elif kind == TEXT:
            return text
        else:
            got, big = classify_text(text)
            if got == INTEGER and kind == INTEGER:
                return int(text)
            if kind == REAL and (got == REAL or (got == INTEGER and not big)):
                return float(text)
            raise WidenError
        if value is None and self.notnull[j]:
            raise _null_error(self.columns[j], where)
        if j == self.rowid_key and value is not None:
            _check_rowid(value, self.columns[j], where)
        return value

    def coerce_value(self, value: object, j: int, where: Location | None = None) -> object:
        """Convert one JSON value for output column ``j``."""
        kind = self.kinds[j]
        if value is None:
            if self.notnull[j]:
                raise _null_error(self.columns[j], where)
            return None
        if kind is None:
            if isinstance(value, dict | list) or classify_value(value)[0] == TEXT:
                value = json_text(value)
            elif isinstance(value, bool):
                value = int(value)
            if j == self.rowid_key:
                _check_rowid(value, self.columns[j], where)
            return value
        if kind == TEXT:
            return json_text(value)
        got, big = classify_value(value)
        if got == INTEGER and kind == INTEGER:
            return int(value)  # type: ignore[call-overload]
        if kind == REAL and (got == REAL or (got == INTEGER and not big)):
            return float(value)  # type: ignore[arg-type]
        raise WidenError

    def row(self, raw: TextRow | ObjectRow, where: Location | None = None) -> list[object]:
        """Values of a CSV row or JSON object in output order."""
        if isinstance(raw, dict):
            return self.object_row(raw, where)
        return self.text_row(raw, where)

    def text_row(self, fields: TextRow, where: Location | None = None) -> list[object]:
        """Values of a CSV row in output order."""
        return [self.coerce_text(fields[f], j, where) for j, f in enumerate(self.fields)]

    def object_row(self, obj: ObjectRow, where: Location | None = None) -> list[object]:
        """Values of a JSON object in output order (new table: an unknown key widens)."""
        if self.schema is not None and not self._keyset.issuperset(obj):
            raise WidenError
        if self.source_keys is not None and not self.source_keys.issuperset(obj):
            late = ", ".join(repr(k) for k in obj if k not in self.source_keys)
            raise BadInputError(
                f"key {late} is not in the first rows, from which the columns of "
                f"{self.table!r} were matched: its values would be lost",
                where=where,
                hint="put every key in the first object (null where it has no value), "
                "or import into a new table",
            )
        return [self.coerce_value(obj.get(k), j, where) for j, k in enumerate(self.keys)]


def _text_by_affinity(text: str, aff: str) -> object:
    if aff in ("TEXT", "BLOB"):
        return text
    got, big = classify_text(text)
    if got == INTEGER:
        return float(text) if aff == "REAL" and not big else int(text)
    if got == REAL:
        return float(text)
    return text


def _check_rowid(value: object, column: str, where: Location | None) -> None:
    """An INTEGER PRIMARY KEY holds integers only (SQLite: datatype mismatch)."""
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return
    raise BadInputError(
        f"column {column!r} is the INTEGER PRIMARY KEY but {value!r} is not an integer",
        where=where,
    )


def _null_error(column: str, where: Location | None) -> BadInputError:
    return BadInputError(f"column {column!r} is NOT NULL but the value is empty", where=where)


def infer(
    names: list[str], rows: Iterable[TextRow | ObjectRow], typed: bool
) -> tuple[list[str], list[ColumnStats]]:
    """Column stats over ``rows``; for JSON objects, keys not in ``names`` are added."""
    stats = [ColumnStats() for _ in names]
    index = {n: i for i, n in enumerate(names)}
    names = list(names)
    for row in rows:
        if typed:
            assert isinstance(row, dict)
            for key, value in row.items():
                i = index.get(key)
                if i is None:
                    i = index[key] = len(names)
                    names.append(key)
                    stats.append(ColumnStats())
                _see(stats[i], *classify_value(value))
        else:
            for st, text in zip(stats, row, strict=False):
                if text:
                    _see(st, *classify_text(text))
    return names, stats


def _see(st: ColumnStats, kind: int, big: bool) -> None:
    st.kind = max(st.kind, kind)
    if big:
        st.big = True


def new_table_plan(
    table: str,
    source: Sequence[str],
    stats: Sequence[ColumnStats],
    *,
    types: dict[str, str] | None = None,
    pk: str | None = None,
) -> tuple[Plan, list[str]]:
    """Plan for a table created from the file, with warnings about renamed columns."""
    names, warnings = unique_names(source)
    kinds = [st.type() for st in stats]
    schema = build_schema(
        table, names, [TEXT if k == NULL else k for k in kinds], types=types, pk=pk
    )
    fixed = {k.lower() for k in (types or {})}
    plan_kinds = tuple(None if n.lower() in fixed else k for n, k in zip(names, kinds, strict=True))
    plan = Plan(
        table=table,
        columns=tuple(names),
        kinds=plan_kinds,
        affinities=tuple(affinity(c.type) for c in schema.columns),
        fields=tuple(range(len(names))),
        keys=tuple(source),
        notnull=tuple(c.notnull for c in schema.columns),
        key_column=schema.key_column,
        schema=schema,
        rowid_key=_rowid_index(schema, names),
    )
    return plan, warnings


def existing_table_plan(source: Sequence[str], target: TableSchema) -> Plan:
    """Plan for rows going into an existing table (columns matched by name)."""
    mapping = map_columns(source, target)
    cols = [c for name in mapping.columns if (c := target.column(name)) is not None]
    key = target.key_column
    key_col = target.column(key) if key else None
    integer_key = key_col is not None and key_col.type.upper() == "INTEGER"
    notnull = []
    for c in cols:
        rowid = integer_key and c.name == key
        notnull.append((c.notnull or c.pk) and not rowid)
    return Plan(
        table=target.name,
        columns=tuple(mapping.columns),
        kinds=tuple(None for _ in cols),
        affinities=tuple(affinity(c.type) for c in cols),
        fields=tuple(i for i, _ in mapping.pairs),
        keys=tuple(source[i] for i, _ in mapping.pairs),
        notnull=tuple(notnull),
        key_column=key if key in mapping.columns else None,
        schema=None,
        mapping=mapping,
        rowid_key=_rowid_index(target, mapping.columns),
        source_keys=frozenset(source),
    )


def _rowid_index(table: TableSchema, columns: Sequence[str]) -> int:
    key = table.key_column
    col = table.column(key) if key else None
    if col is None or col.type.upper() != "INTEGER" or col.name not in columns:
        return -1
    return list(columns).index(col.name)
