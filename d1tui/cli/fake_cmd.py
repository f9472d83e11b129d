"""``d1tui fake``: realistic fake rows (Faker, seeded) as D1-ready SQL."""

# ruff: noqa: PLC0415 - commands import their heavy dependencies only when they run

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from d1tui.cli.convert_cmd import consume, deliver, output_dir
from d1tui.cli.deps import deps_of
from d1tui.cli.import_cmd import collect_prepared, import_prepared, with_output
from d1tui.cli.options import UsageError, add_target_options, resolve_database, target_settings
from d1tui.cli.render import Renderer, TextRenderer
from d1tui.errors import BadInputError, Location

EPILOG = """\
examples:
  d1tui fake --rows 1000 -o fake.sql              TargetD1Table (id, text, date_added)
  d1tui fake --table people --rows 50000 --seed 7 --schema-from app.sqlite -o people.sql
  d1tui fake --table users --rows 100 --local -d demo > users.sql   (schema of a live table)
  d1tui fake --rows 10 --locale de_DE
  d1tui fake --rows 10000 --local --import --yes    straight into the local demo database

The schema is the seed tutorial's TargetD1Table (id INTEGER PRIMARY KEY, text TEXT,
date_added TEXT) unless --schema-from or --database names a table to copy it from. Values come
from column names (email, name, city, created_at…) and types; the same --seed gives the same
rows. Import the result with `d1tui import fake.sql -d <db>` or `wrangler d1 execute --file`.
"""


def schema_from_sqlite(path: Path, table: str) -> Any:
    """The columns of ``table`` in an SQLite file (single-column UNIQUE kept) as a TableSchema."""
    import sqlite3

    from d1tui.convert.schema import Column, TableSchema
    from d1tui.convert.sql.inserts import quote_identifier as quoted

    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            info = con.execute(f"PRAGMA table_info({quoted(table)})").fetchall()
            unique = set()
            for _seq, index, is_unique, *_ in con.execute(f"PRAGMA index_list({quoted(table)})"):
                cols = con.execute(f"PRAGMA index_info({quoted(index)})").fetchall()
                if is_unique and len(cols) == 1:
                    unique.add(cols[0][2])
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise BadInputError(
            f"not a readable SQLite database: {exc}", where=Location(path)
        ) from None
    if not info:
        raise BadInputError(f"no table {table!r} in the file", where=Location(path))
    pks = sum(1 for row in info if row[5])
    columns = tuple(
        Column(
            name=name,
            type=kind or "",
            pk=bool(pk),
            notnull=bool(notnull),
            unique=name in unique and not (pk and pks == 1),
            default=default,
        )
        for _cid, name, kind, notnull, default, pk in info
    )
    return TableSchema(table, columns)


def live_target(client: Any, db_uuid: str, table: str) -> Any:
    """The Target onto the live ``table`` (schema, current max key); None when it is absent."""
    from d1tui.importer.target import resolve_target

    found = resolve_target(client, db_uuid, table, create=True)
    return found if found.existing is not None else None


def offline_schema(args: argparse.Namespace) -> Any:
    """The schema from --schema-from, else the seed tutorial's table under the chosen name."""
    from d1tui.convert.schema import TARGET_D1_TABLE, TableSchema

    if args.schema_from:
        return schema_from_sqlite(args.schema_from, args.table)
    return TableSchema(args.table, TARGET_D1_TABLE.columns)


def fake_target(schema: Any, max_ids: dict[str, int], *, create: bool) -> Any:
    """The data layer's Target for rows of ``schema``, with CREATE TABLE first when ``create``."""
    from d1tui.convert.prepare import Target

    return Target(table=schema.name, create=create, existing=schema, current_max_ids=max_ids)


def fake_spec(args: argparse.Namespace) -> Any:
    """Rows, seed and locale as the data layer's FakeSpec."""
    from d1tui.convert.prepare import FakeSpec

    if args.rows < 1:
        raise UsageError("--rows must be at least 1")
    return FakeSpec(rows=args.rows, seed=args.seed, locale=args.locale)


def run(args: argparse.Namespace) -> int:
    """Generate the rows and write the SQL (or import them with --import)."""
    from d1tui.convert.prepare import prepare_fake

    spec = fake_spec(args)
    if args.do_import:
        return with_output(args, import_fake)
    if args.schema_from or not (args.database or args.local):
        target = fake_target(offline_schema(args), {}, create=not args.no_create)
    else:
        with target_settings(args) as settings, deps_of(args).client(settings) as client:
            db = resolve_database(client, settings)
            live = live_target(client, db.uuid, args.table)
        if live is None:
            raise BadInputError(f"no table {args.table!r} in database {db.name}")
        target = dataclasses.replace(live, create=not args.no_create)
    items = prepare_fake(spec, target, out_dir=output_dir(args.output))
    prepared = consume(items, Path(args.table))
    return deliver(prepared, args.output)


def import_fake(args: argparse.Namespace, out: Renderer) -> int:
    """--import: generate into a temp file and import it into the target database."""
    from d1tui.convert.prepare import prepare_fake

    spec = fake_spec(args)
    with target_settings(args) as settings, deps_of(args).client(settings) as client:
        db = resolve_database(client, settings)
        if isinstance(out, TextRenderer):
            out.database_name = db.name
        target = live_target(client, db.uuid, args.table)
        if target is None and args.no_create:
            raise BadInputError(f"no table {args.table!r} in database {db.name}")
        # A table that is not there yet is created first (unless --no-create, refused above).
        if target is None:
            target = fake_target(offline_schema(args), {}, create=True)
        prepared = collect_prepared(prepare_fake(spec, target), out, Path(args.table))
        try:
            return import_prepared(args, out, client, db, prepared)
        finally:
            if prepared.temporary:
                prepared.path.unlink(missing_ok=True)


def add_parser(sub: Any) -> None:
    """Register ``fake``."""
    p = sub.add_parser(
        "fake",
        help="generate realistic fake rows (Faker) as D1-ready SQL",
        description="Generate fake rows for a table and write them as SQL.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    p.add_argument("--table", "-t", default="TargetD1Table", metavar="T", help="table name")
    p.add_argument("--rows", "-n", type=int, default=100, metavar="N", help="how many (100)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (0)")
    p.add_argument("--locale", default="en_US", metavar="L", help="Faker locale (en_US)")
    p.add_argument("-o", "--output", type=Path, metavar="OUT.sql", help="output (default stdout)")
    p.add_argument("--schema-from", type=Path, metavar="FILE.sqlite", help="copy T's columns")
    p.add_argument("--no-create", action="store_true", help="omit CREATE TABLE IF NOT EXISTS")
    p.add_argument(
        "--import",
        dest="do_import",
        action="store_true",
        help="import the rows into --database (with --local: demo) instead of writing SQL",
    )
    p.add_argument("--yes", "-y", action="store_true", help="with --import: do not ask")
    p.add_argument("--json", action="store_true", help="with --import: JSON lines on stdout")
    add_target_options(p, database_help="copy T's columns from this database")
    p.set_defaults(handler=run)
