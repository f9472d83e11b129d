"""What a CLI run depends on and tests replace: ``main(argv, deps=Deps(...))``."""

# ruff: noqa: PLC0415 - the client stack loads only when a command needs it

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from d1tui.importer.options import ImportOptions

if TYPE_CHECKING:
    from d1tui.api.client import D1Client
    from d1tui.settings.config import Settings


@dataclass(frozen=True)
class Deps:
    """The replaceable parts of a run.

    Args:
        emulator_kwargs: keyword arguments for the in-process emulator behind ``--local``
            (tests shorten its waits or slow its ingest).
        import_options: the import engine's tunables (tests shorten the rollback wait).
        client_factory: builds the D1 client for resolved settings (default: ``make_client``).
    """

    emulator_kwargs: Mapping[str, Any] = field(default_factory=dict)
    import_options: ImportOptions = field(default_factory=ImportOptions)
    client_factory: Callable[[Settings], D1Client] | None = None

    def client(self, settings: Settings) -> D1Client:
        """A D1 client for ``settings``."""
        if self.client_factory is not None:
            return self.client_factory(settings)
        from d1tui.api.local import make_client

        return make_client(settings)


DEFAULT_DEPS = Deps()


def deps_of(args: argparse.Namespace) -> Deps:
    """The run's ``Deps``, which ``main`` puts on the parsed arguments."""
    found = getattr(args, "deps", None)
    return found if isinstance(found, Deps) else DEFAULT_DEPS
