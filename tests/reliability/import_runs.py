"""Running an import in a fault scenario and checking what it left: events, rows, requests."""

from __future__ import annotations

from collections.abc import Iterable

from test_client_helpers import FAST_OPTIONS, names, outcome, sqlite_count

from d1tui.api.client import D1Client
from d1tui.emulator import Emulator
from d1tui.events import ImportEvent, ImportFailed, ImportSucceeded, Retrying, Stage
from d1tui.importer.prepared import PreparedImport
from d1tui.importer.run import ImportOptions, run_import


def run(
    client: D1Client,
    prepared: PreparedImport,
    *,
    options: ImportOptions = FAST_OPTIONS,
    database: str = "demo",
) -> list[ImportEvent]:
    """Every event of one import, the outcome last."""
    return list(run_import(client, database, prepared, options=options))


def succeeded(events: list[ImportEvent]) -> ImportSucceeded:
    """The outcome, which must be a success."""
    end = outcome(events)
    assert isinstance(end, ImportSucceeded), (names(events), getattr(end, "error", None))
    return end


def failed(events: list[ImportEvent]) -> ImportFailed:
    """The outcome, which must be a failure."""
    end = outcome(events)
    assert isinstance(end, ImportFailed), names(events)
    return end


def retries(events: Iterable[ImportEvent], stage: Stage) -> list[Retrying]:
    """The ``Retrying`` events of one stage."""
    return [e for e in events if isinstance(e, Retrying) and e.stage is stage]


def ops(emu: Emulator, op: str | None = None) -> list[str]:
    """The operations the emulator saw (only ``op`` when given)."""
    seen = [o for _m, o, _p in list(emu.requests)]
    return [o for o in seen if o == op] if op else seen


def assert_rows(emu: Emulator, client: D1Client, expected: int, table: str = "items") -> None:
    """``table`` holds exactly ``expected`` rows, by the API and by reading the SQLite file."""
    assert sqlite_count(emu, "demo", table) == expected
    assert client.count_rows("demo", [table]) == {table: expected}
