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
    if not args.local:
        from d1tui.tui.app import run_app

        return int(run_app(remote_settings(args)))
    # The first screen paints at once; the emulator and its demo database start behind it.
    from d1tui.cli.options import EMULATOR_KWARGS
    from d1tui.tui.local_start import run_local_app

    return int(run_local_app(args.data_dir, args.database, EMULATOR_KWARGS))
