"""The ``d1tui`` command: the TUI with no subcommand; import, convert, fake, emulator, config."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from d1tui import __version__
from d1tui.cli import config_cmd, convert_cmd, emulator_cmd, fake_cmd, import_cmd, tui_cmd
from d1tui.cli.deps import DEFAULT_DEPS, Deps
from d1tui.cli.help import MAIN_EPILOG
from d1tui.errors import D1Error, ExitCode


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, subcommands included."""
    parser = argparse.ArgumentParser(
        prog="d1tui",
        description="Bulk-import CSV, JSON, SQLite and SQL files into Cloudflare D1 through its "
        "REST import API, and watch every step. With no command, opens the TUI.",
        epilog=MAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"d1tui {__version__}")
    tui_cmd.add_options(parser)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module in (import_cmd, convert_cmd, fake_cmd, emulator_cmd, config_cmd):
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None, *, deps: Deps = DEFAULT_DEPS) -> int:
    """Run ``d1tui`` with ``argv`` (default: the process arguments); return the exit code.

    ``deps`` holds what a run depends on and tests replace (emulator, engine options, client).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (argparse exits 2)
        return int(exc.code or 0) if not isinstance(exc.code, str) else int(ExitCode.USAGE)
    args.deps = deps
    handler = getattr(args, "handler", tui_cmd.run)
    try:
        return int(handler(args))
    except D1Error as err:
        print("✘ " + err.describe(), file=sys.stderr)
        return int(err.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # convert/fake/config output piped into e.g. `head`: stop quietly, without a second
        # error at exit. Imports never get here: their renderers outlive a closed stdout.
        sys.stderr.close()
        return int(ExitCode.OK)
