"""``d1tui fake``: realistic fake rows (Faker, seeded) as D1-ready SQL."""

# ruff: noqa: PLC0415 - commands import their heavy dependencies only when they run

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path
from typing import Any

from d1tui.cli.convert_cmd import consume, summary, write_output
from d1tui.cli.import_cmd import table_schema
from d1tui.cli.options import add_target_options, resolve_database, target_settings
from d1tui.cli.render import TextRenderer
from d1tui.d1.errors import BadInputError, Location

EPILOG = """\
examples:
  d1tui fake --rows 1000 -o fake.sql              TargetD1Table (id, text, date_added)
  d1tui fake --table people --rows 50000 --seed 7 --schema-from app.sqlite -o people.sql
  d1tui fake --table users --rows 100 --local -d demo > users.sql   (schema of a live table)
  d1tui fake --rows 10 --locale de_DE

The schema is the seed tutorial's TargetD1Table (id INTEGER PRIMARY KEY, text TEXT,
date_added TEXT) unless --schema-from or --database names a table to copy it from. Values come
from column names (email, name, city, created_at…) and types; the same --seed gives the same
rows. Import the result with `d1tui import fake.sql -d <db>` or `wrangler d1 execute --file`.
"""


def schema_from_sqlite(path: Path, table: str) -> Any:
    """The columns of ``table`` in an SQLite file, as a ``TableSchema``."""
    from d1tui.data.schema import Column, TableSchema

    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = con.execute(f'PRAGMA table_info("{table.replace(chr(34), chr(34) * 2)}")')
            info = rows.fetchall()
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise BadInputError(
            f"not a readable SQLite database: {exc}", where=Location(path)
        ) from None
    if not info:
        raise BadInputError(f"no table {table!r} in the file", where=Location(path))
    columns = tuple(
        Column(name=name, type=kind or "", pk=bool(pk), notnull=bool(notnull), default=default)
        for _cid, name, kind, notnull, default, pk in info
    )
    return TableSchema(table, columns)


def live_schema(args: argparse.Namespace, table: str) -> tuple[Any, dict[str, int]]:
    """The schema of a table in the target database, and its current max integer key."""
    from d1tui.local import make_client

    with target_settings(args) as settings, make_client(settings) as client:
        db = resolve_database(client, settings)
        for info in client.list_tables(db.uuid):
            if info.name.lower() == table.lower():
                schema = table_schema(info)
                max_ids: dict[str, int] = {}
                pks = [c for c in info.columns if c.pk and "INT" in (c.type or "").upper()]
                if len(pks) == 1:
                    pk = pks[0].name.replace('"', '""')
                    name = info.name.replace('"', '""')
                    sql = f'SELECT MAX("{pk}") AS m FROM "{name}"'
                    found = client.query(db.uuid, sql)[0].results[0]["m"]
                    max_ids[info.name] = int(found) if isinstance(found, int | float) else 0
                return schema, max_ids
    raise BadInputError(f"no table {table!r} in database {db.name}", where=None)


def run(args: argparse.Namespace) -> int:
    """Generate the rows and write the SQL; progress and the summary go to stderr."""
    from d1tui.data.prepare import FakeSpec, Target, prepare_fake
    from d1tui.data.schema import TARGET_D1_TABLE, TableSchema

    table = args.table
    max_ids: dict[str, int] = {}
    if args.schema_from:
        schema = schema_from_sqlite(args.schema_from, table)
    elif args.database or args.local:
        schema, max_ids = live_schema(args, table)
    else:
        schema = TableSchema(table, TARGET_D1_TABLE.columns)
    if args.rows < 1:
        raise BadInputError("--rows must be at least 1")
    target = Target(
        table=table, create=not args.no_create, existing=schema, current_max_ids=max_ids
    )
    spec = FakeSpec(rows=args.rows, seed=args.seed, locale=args.locale)
    out = TextRenderer(sys.stderr, sys.stderr, live=sys.stderr.isatty())
    out_dir = args.output.parent if args.output and str(args.output) != "-" else None
    prepared = consume(prepare_fake(spec, target, out_dir=out_dir), out, Path(table))
    try:
        write_output(prepared, args.output)
    finally:
        if prepared.temporary:
            prepared.path.unlink(missing_ok=True)
    print(summary(prepared, args.output), file=sys.stderr)
    return 0


def add_parser(sub: Any) -> None:
    """Register ``fake``."""
    p = sub.add_parser(
        "fake",
        help="generate realistic fake rows (Faker) as D1-ready SQL",
        description="Generate fake rows for a table and write them as SQL.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--table", "-t", default="TargetD1Table", metavar="T", help="table name")
    p.add_argument("--rows", "-n", type=int, default=100, metavar="N", help="how many (100)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (0)")
    p.add_argument("--locale", default="en_US", metavar="L", help="Faker locale (en_US)")
    p.add_argument("-o", "--output", type=Path, metavar="OUT.sql", help="output (default stdout)")
    p.add_argument("--schema-from", type=Path, metavar="FILE.sqlite", help="copy T's columns")
    p.add_argument("--no-create", action="store_true", help="omit CREATE TABLE IF NOT EXISTS")
    add_target_options(p, database_help="copy T's columns from this database")
    p.set_defaults(handler=run)
