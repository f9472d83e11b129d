"""``d1tui`` with no command: open the TUI (Textual is imported only here, and only then)."""

# ruff: noqa: PLC0415 - commands import their heavy dependencies only when they run

from __future__ import annotations

import argparse
from pathlib import Path

import d1tui
from d1tui.cli.options import add_target_options, remote_settings

# The sample files the README's commands use, beside the package in a source checkout.
SAMPLES = Path(d1tui.__file__).resolve().parent.parent / "samples"


def add_options(parser: argparse.ArgumentParser) -> None:
    """The TUI's options live on the top-level parser."""
    add_target_options(parser, database_help="database id or name to open", top_level=True)


def run(args: argparse.Namespace) -> int:
    """Resolve settings (or start the local emulator) and run the app until it exits."""
    start = start_folder()
    if not args.local:
        from d1tui.tui.app import run_app

        return int(run_app(remote_settings(args), start_dir=start))
    # The first screen paints at once; the emulator and its demo database start behind it.
    from d1tui.cli.deps import deps_of
    from d1tui.tui.local_start import run_local_app

    kwargs = dict(deps_of(args).emulator_kwargs)
    return int(run_local_app(args.data_dir, args.database, kwargs, start_dir=start))


def start_folder(cwd: Path | None = None) -> Path | None:
    """Where the file browser starts: ``samples/`` when run from the checkout's root, else the
    current folder (None)."""
    here = (cwd or Path.cwd()).resolve()
    return SAMPLES if SAMPLES.is_dir() and here == SAMPLES.parent else None
