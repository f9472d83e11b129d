"""Tables and row counts of a D1 database, read with a few ``/query`` requests."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from d1tui.api.models import ColumnInfo, QueryResult, TableInfo
from d1tui.errors import BadResponseError

HIDDEN_PREFIXES = ("_cf_", "sqlite_", "d1_")
# Statements per request: keeps each request far below the 100,000-byte statement limit.
_BATCH = 50

Query = Callable[[str], list[QueryResult]]


def quote_name(name: str) -> str:
    """An SQLite identifier in double quotes."""
    return '"' + name.replace('"', '""') + '"'


def quote_text(text: str) -> str:
    """An SQLite string literal."""
    return "'" + text.replace("'", "''") + "'"


def is_hidden(name: str) -> bool:
    """Internal tables of D1 and SQLite that users neither see nor import into."""
    return name.lower().startswith(HIDDEN_PREFIXES)


def _int(value: object) -> int:
    """A count from a JSON answer."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadResponseError(f"expected a number in the query answer, got {value!r}")
    return int(value)


def table_names(query: Query) -> list[str]:
    """Every table of the database, internal ones included, as SQLite spells them."""
    answer = query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    if not answer:
        raise BadResponseError("the query answer held no result")
    return [str(row.get("name")) for row in answer[0].results]


def count_sql(tables: Sequence[str]) -> str:
    """One statement counting the rows of each table: ``name, n`` per table."""
    parts = [f"SELECT {quote_text(t)} AS name, COUNT(*) AS n FROM {quote_name(t)}" for t in tables]
    return " UNION ALL ".join(parts)


def _chunks(items: Sequence[str], size: int) -> list[Sequence[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def count_rows(query: Query, tables: Sequence[str]) -> dict[str, int]:
    """``COUNT(*)`` of each named table; a table that does not exist counts 0."""
    existing = {name.lower(): name for name in table_names(query)}
    counts = {t: 0 for t in tables}
    present = [t for t in tables if t.lower() in existing]
    for chunk in _chunks(present, _BATCH):
        answer = query(count_sql(chunk))
        if not answer:
            raise BadResponseError("the count query answer held no result")
        by_name = {str(row.get("name")): _int(row.get("n")) for row in answer[0].results}
        for table in chunk:
            counts[table] = by_name.get(table, 0)
    return counts


def _column(row: dict[str, object]) -> ColumnInfo:
    default = row.get("dflt_value")
    pk = row.get("pk")
    return ColumnInfo(
        name=str(row.get("name")),
        type=str(row.get("type") or ""),
        notnull=bool(row.get("notnull")),
        pk=int(pk) if isinstance(pk, int | float) else 0,
        default=None if default is None else str(default),
    )


def list_tables(query: Query) -> list[TableInfo]:
    """User tables (internal ``_cf_*``/``sqlite_*``/``d1_*`` hidden) with columns and counts."""
    names = [n for n in table_names(query) if not is_hidden(n)]
    tables: list[TableInfo] = []
    for chunk in _chunks(names, _BATCH):
        sql = "; ".join([f"PRAGMA table_info({quote_name(t)})" for t in chunk] + [count_sql(chunk)])
        answer = query(sql)
        if len(answer) != len(chunk) + 1:
            raise BadResponseError(
                f"expected {len(chunk) + 1} statement results, got {len(answer)}"
            )
        counts = {str(row.get("name")): _int(row.get("n")) for row in answer[-1].results}
        for table, info in zip(chunk, answer, strict=False):
            columns = tuple(_column(row) for row in info.results)
            tables.append(TableInfo(name=table, columns=columns, rows=counts.get(table)))
    return tables
