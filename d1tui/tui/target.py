"""Turn the chosen table into the data layer's ``Target`` (the one ``resolve_target``)."""

from __future__ import annotations

from d1tui.api.client import D1Client
from d1tui.convert.target import Target
from d1tui.importer.target import resolve_target, schema_of
from d1tui.tui.session import TargetChoice

__all__ = ["build_target", "schema_of"]


def build_target(client: D1Client, database_id: str, choice: TargetChoice) -> Target:
    """The Target for ``choice``; for an existing table, its integer key's current maximum."""
    listed = [choice.existing] if choice.existing is not None else []
    return resolve_target(client, database_id, choice.table, create=choice.create, tables=listed)
