"""Where prepared rows go (``Target``) and what fake rows to make (``FakeSpec``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from d1tui.convert.schema import TableSchema


@dataclass(frozen=True)
class Target:
    """Where rows go: a table, whether to create it, and its schema when it exists already."""

    table: str
    create: bool
    existing: TableSchema | None = None
    current_max_ids: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class FakeSpec:
    """How many fake rows, from which seed, in which Faker locale."""

    rows: int
    seed: int
    locale: str = "en_US"
