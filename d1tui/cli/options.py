"""Options shared by several commands: the target (account, database, token, --local), readers."""

# ruff: noqa: PLC0415 - commands import their heavy dependencies only when they run

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from d1tui.errors import D1Error, ExitCode, NotFoundError
from d1tui.settings.config import MissingSettingError, Settings, Sourced, resolve_settings


def add_target_options(
    parser: argparse.ArgumentParser, *, database_help: str, top_level: bool = False
) -> None:
    """--account, --database, --local, --data-dir, --token-stdin, --token-env.

    On a subcommand these default to "not given", so ``d1tui --local import …`` keeps the
    top-level value instead of the subcommand's default overwriting it.
    """
    group = parser.add_argument_group(
        "target (flags > env > .env.local > .env > wrangler > profile)",
        argument_default=None if top_level else argparse.SUPPRESS,
    )
    group.add_argument("--database", "-d", metavar="ID|NAME", help=database_help)
    group.add_argument("--account", metavar="ACCOUNT_ID", help="Cloudflare account id (32 hex)")
    group.add_argument(
        "--token-stdin",
        action="store_true",
        help="read the API token from the first line of standard input",
    )
    group.add_argument(
        "--token-env",
        metavar="NAME",
        help="read the API token from environment variable NAME (instead of CLOUDFLARE_API_TOKEN)",
    )
    group.add_argument(
        "--local",
        action="store_true",
        help="use the bundled D1 emulator in this process (no Cloudflare account needed)",
    )
    group.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="with --local: where local databases live (default: $D1TUI_DATA_DIR or the user "
        "data dir)",
    )


def add_reader_options(parser: argparse.ArgumentParser) -> None:
    """Options that say how to read the input file (all optional: detected otherwise)."""
    group = parser.add_argument_group("reading the file (detected when not given)")
    group.add_argument(
        "--format", choices=["csv", "tsv", "json", "ndjson", "sql", "sqlite"], help="input format"
    )
    group.add_argument("--delimiter", metavar="C", help="CSV field delimiter, e.g. ';' or '\\t'")
    group.add_argument("--quotechar", metavar="C", help="CSV quote character (default '\"')")
    group.add_argument(
        "--no-headers", action="store_true", help="CSV: the first row is data, not column names"
    )
    group.add_argument("--encoding", metavar="ENC", help="text encoding, e.g. latin-1, utf-16")
    group.add_argument(
        "--type",
        action="append",
        default=[],
        metavar="COL=TYPE",
        dest="types",
        help="force a column's type (INTEGER, REAL, TEXT, BLOB); repeatable",
    )
    group.add_argument("--pk", metavar="COL", help="make COL the primary key of a new table")
    group.add_argument(
        "--tables", metavar="A,B", help="SQLite file: import only these tables (default: all)"
    )


def add_import_options(parser: argparse.ArgumentParser) -> None:
    """--force and --patience: how an import treats an earlier one and an unreachable API."""
    group = parser.add_argument_group("importing")
    group.add_argument(
        "--force",
        action="store_true",
        help="import even when an earlier, interrupted import of this file committed "
        "(its rows would then be in twice)",
    )
    group.add_argument(
        "--patience",
        type=_seconds,
        metavar="SECONDS",
        help="how long to keep trying while the API cannot be reached during an import "
        "(default 60)",
    )


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 <= value <= 86400:
        raise argparse.ArgumentTypeError("give between 0 and 86400 seconds")
    return value


def import_options(args: argparse.Namespace, base: Any) -> Any:
    """The engine's ``ImportOptions``: ``base`` (from the deps) with the import flags applied."""
    from dataclasses import replace

    fields: dict[str, Any] = {}
    if getattr(args, "force", False):
        fields["force"] = True
    if getattr(args, "patience", None) is not None:
        fields["patience"] = args.patience
    return replace(base, **fields)


def read_options(args: argparse.Namespace) -> Any:
    """Build the data layer's ``ReadOptions`` from the reader flags."""
    from d1tui.convert.detect import parse_read_options

    for flag, value in (("--delimiter", args.delimiter), ("--quotechar", args.quotechar)):
        if value is not None and len(value) != 1 and value not in ("\\t", "tab", "TAB"):
            raise UsageError(f"{flag} wants one character, got {value!r}")
    try:
        return parse_read_options(
            format=args.format,
            delimiter=args.delimiter,
            quotechar=args.quotechar,
            no_headers=args.no_headers,
            encoding=args.encoding,
            types=args.types,
            pk=args.pk,
            tables=args.tables,
        )
    except ValueError as exc:  # the only other words it refuses: a --type item
        raise UsageError(f"--type {exc}") from None


def port_number(value: str) -> int:
    """An argparse type: a TCP port, 0-65535 (0 lets the system choose a free one)."""
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number (0-65535)") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"{port} is not a port number: use 0-65535 (0 = any free port)"
        )
    return port


class UsageError(D1Error):
    """A flag's value cannot be used (exit code 2)."""

    title = "Usage error"
    default_hint = "see --help"
    exit_code = ExitCode.USAGE


def token_from_args(args: argparse.Namespace) -> tuple[str | None, str]:
    """The token given by --token-stdin / --token-env, with its source label (never printed)."""
    if getattr(args, "token_stdin", False):
        return sys.stdin.readline().strip() or None, "--token-stdin"
    name = getattr(args, "token_env", None)
    if name:
        value = os.environ.get(name, "").strip()
        if not value:
            raise UsageError(f"--token-env {name}: the variable is not set")
        return value, f"env {name} (--token-env)"
    return None, ""


def remote_settings(args: argparse.Namespace) -> Settings:
    """Settings from flags, environment, files and profile (no emulator)."""
    token, source = token_from_args(args)
    return resolve_settings(
        account_id=args.account,
        token=token,
        database=args.database,
        token_source=source or "--token-stdin",
    )


@contextmanager
def target_settings(args: argparse.Namespace) -> Iterator[Settings]:
    """Settings for the command: a started local emulator with --local, else resolved ones."""
    if not args.local:
        yield remote_settings(args)
        return
    from d1tui.api.local import local_emulator
    from d1tui.cli.deps import deps_of

    with local_emulator(args.data_dir, **deps_of(args).emulator_kwargs) as (_emu, local):
        yield with_database(local, args.database)


def with_database(settings: Settings, database: str | None) -> Settings:
    """``settings`` with the database a --database flag names (unchanged when None)."""
    if not database:
        return settings
    return dataclasses.replace(settings, database=Sourced(database, "--database flag"))


def resolve_database(client: Any, settings: Settings) -> Any:
    """The ``DatabaseInfo`` of the target.

    With --local a missing database comes back with an empty ``uuid``: it is created only when
    an import goes ahead (``import_cmd.import_prepared``), so a refused run leaves none behind.
    """
    wanted = settings.database.value
    if not wanted:
        raise MissingSettingError(
            "no database given",
            hint="pass --database ID|NAME or set CLOUDFLARE_DATABASE_ID (or d1_databases in "
            "wrangler.toml)",
        )
    try:
        return client.get_database(wanted)
    except NotFoundError:
        if not settings.local:
            raise
        from d1tui.api.models import DatabaseInfo

        return DatabaseInfo(uuid="", name=wanted)
