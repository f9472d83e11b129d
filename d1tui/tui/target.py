"""Turn the chosen table into the data layer's ``Target`` (reads max ids from the database)."""

from __future__ import annotations

from d1tui.api.client import D1Client, TableInfo
from d1tui.convert.schema import Column, TableSchema
from d1tui.convert.sql.inserts import quote_identifier
from d1tui.convert.target import Target
from d1tui.tui.session import TargetChoice


def schema_of(table: TableInfo) -> TableSchema:
    """The data layer's schema of a table listed by the client."""
    columns = tuple(
        Column(
            name=c.name,
            type=c.type,
            pk=bool(c.pk),
            notnull=bool(c.notnull),
            default=c.default,
        )
        for c in table.columns
    )
    return TableSchema(name=table.name, columns=columns)


def build_target(client: D1Client, database_id: str, choice: TargetChoice) -> Target:
    """The Target for ``choice``; for an existing table, its integer key's current maximum."""
    if choice.existing is None:
        return Target(table=choice.table, create=choice.create)
    schema = schema_of(choice.existing)
    max_ids: dict[str, int] = {}
    keys = [c for c in choice.existing.columns if c.pk]
    if len(keys) == 1 and "INT" in (keys[0].type or "").upper():
        sql = (
            f"SELECT MAX({quote_identifier(keys[0].name)}) AS m "
            f"FROM {quote_identifier(choice.table)}"
        )
        results = client.query(database_id, sql)
        value = results[0].results[0].get("m") if results and results[0].results else None
        if isinstance(value, int):
            max_ids[keys[0].name] = value
    return Target(table=choice.table, create=False, existing=schema, current_max_ids=max_ids)
