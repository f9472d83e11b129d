"""``d1tui`` with no command: open the TUI (Textual is imported only here, and only then)."""

# ruff: noqa: PLC0415 - commands import their heavy dependencies only when they run

from __future__ import annotations

import argparse

from d1tui.cli.options import add_target_options, remote_settings


def add_options(parser: argparse.ArgumentParser) -> None:
    """The TUI's options live on the top-level parser."""
    add_target_options(parser, database_help="database id or name to open", top_level=True)


def run(args: argparse.Namespace) -> int:
    """Resolve settings (or start the local emulator) and run the app until it exits."""
    from d1tui.tui.app import run_app

    if not args.local:
        return int(run_app(remote_settings(args)))
    from d1tui.cli.options import EMULATOR_KWARGS, with_database
    from d1tui.local import local_emulator

    with local_emulator(args.data_dir, **EMULATOR_KWARGS) as (emu, local):
        settings = with_database(local, args.database)
        return int(run_app(settings, local_emulator=emu))
