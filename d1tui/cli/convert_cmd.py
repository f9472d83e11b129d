"""``d1tui convert FILE -o out.sql``: the SQL d1tui would import, for ``wrangler d1 execute``."""

# ruff: noqa: PLC0415 - commands import their heavy dependencies only when they run

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from d1tui.cli.import_cmd import check_readable, collect_prepared, default_table
from d1tui.cli.options import add_reader_options, read_options
from d1tui.cli.render import TextRenderer
from d1tui.events import PrepareProgress
from d1tui.humanize import human_bytes, plural, safe_text
from d1tui.importer.prepared import PreparedImport

EPILOG = """\
examples:
  d1tui convert users.csv -o users.sql --table users --create
  d1tui convert app.sqlite -o app.sql --tables users,orders
  d1tui convert dump.sql -o clean.sql          strip BEGIN/COMMIT, split long INSERTs
  d1tui convert rows.ndjson --table events > events.sql

The output is what `d1tui import` would upload: statements under 100,000 bytes, no
transactions, exact values. It also works with
  wrangler d1 execute <database> --remote --file users.sql
"""


def _output_file(output: Path | None) -> Path | None:
    """The ``-o`` file, or None for stdout (no ``-o``, or ``-``)."""
    return None if output is None or str(output) == "-" else output


def output_dir(output: Path | None) -> Path | None:
    """Where to prepare the SQL: beside ``output`` so it can be moved there (None: a temp dir)."""
    file = _output_file(output)
    return None if file is None else file.parent


def write_output(prepared: PreparedImport, output: Path | None) -> None:
    """Move (or copy) the prepared SQL to ``output``; to stdout when it is None or ``-``."""
    output = _output_file(output)
    if output is None:
        with prepared.path.open("rb") as src:
            shutil.copyfileobj(src, sys.stdout.buffer)
        sys.stdout.flush()
    elif prepared.temporary:
        shutil.move(prepared.path, output)
    else:
        shutil.copyfile(prepared.path, output)


def consume(items: Iterable[PrepareProgress | PreparedImport], where: Path) -> PreparedImport:
    """Show progress from a prepare generator on stderr and return its PreparedImport."""
    out = TextRenderer(sys.stderr, sys.stderr, live=sys.stderr.isatty())
    try:
        return collect_prepared(items, out, where, nothing="nothing to convert")
    finally:
        out.close()


def summary(prepared: PreparedImport, output: Path | None) -> str:
    """``✔ Wrote users.sql: 12 statements, 1,000 rows, 1.2 MB (md5 …)``."""
    name = str(_output_file(output) or "stdout")
    rows = f", {plural(prepared.total_rows, 'row')}" if prepared.rows else ""
    return (
        f"✔ Wrote {name}: {plural(prepared.statements, 'statement')}{rows}, "
        f"{human_bytes(prepared.size)} (md5 {prepared.md5})"
    )


def run(args: argparse.Namespace) -> int:
    """Convert the file; progress and the summary go to stderr."""
    from d1tui.convert.prepare import Target, prepare_file

    check_readable(args.file)
    options = read_options(args)
    target = Target(table=args.table or default_table(args.file), create=args.create)
    items = prepare_file(args.file, options, target, out_dir=output_dir(args.output))
    return deliver(consume(items, args.file), args.output)


def deliver(prepared: PreparedImport, output: Path | None) -> int:
    """Write the prepared SQL to ``output``, drop the temporary file and print the summary."""
    try:
        write_output(prepared, output)
    finally:
        if prepared.temporary:
            prepared.path.unlink(missing_ok=True)
    print(safe_text(summary(prepared, output)), file=sys.stderr)
    return 0


def add_parser(sub: Any) -> None:
    """Register ``convert``."""
    p = sub.add_parser(
        "convert",
        help="convert a file to D1-ready SQL (works with `wrangler d1 execute --file`)",
        description="Convert a CSV, TSV, JSON, NDJSON, SQLite or SQL file to the SQL d1tui "
        "would import, without sending anything.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    p.add_argument("file", type=Path, metavar="FILE", help="the file to convert")
    p.add_argument("-o", "--output", type=Path, metavar="OUT.sql", help="output (default stdout)")
    p.add_argument("--table", "-t", metavar="T", help="table name (default: from the file name)")
    p.add_argument("--create", action="store_true", help="start with CREATE TABLE IF NOT EXISTS")
    add_reader_options(p)
    p.set_defaults(handler=run)
