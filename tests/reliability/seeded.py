"""What every reliability scenario starts from (a plain module: ``conftest`` is ambiguous)."""

SEEDED = 5  # rows the ``items`` table holds before every scenario
