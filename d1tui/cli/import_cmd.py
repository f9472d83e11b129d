"""`d1tui import FILE`: pre-flight, prepare, confirm, import, summarise; headless and scriptable."""

# ruff: noqa: PLC0415 - commands import their heavy dependencies only when they run

from __future__ import annotations

import argparse
import os
import queue
import re
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from d1tui.cli.options import resolve_database, target_settings
from d1tui.cli.render import NOTE, WARNING, JsonRenderer, Renderer, TextRenderer, human_bytes
from d1tui.errors import BadInputError, D1Error, ExitCode, ImportCancelledError, Location
from d1tui.events import (
    DatabaseState,
    ImportFailed,
    ImportSucceeded,
    PrepareProgress,
    Stage,
)
from d1tui.importer.prepared import PreparedImport, oversize_error


def check_readable(path: Path) -> None:
    """Pre-flight: the file exists, is a file, and can be opened (BadInputError otherwise)."""
    try:
        with path.open("rb") as fh:
            fh.read(1)
    except IsADirectoryError:
        raise BadInputError("is a folder, not a file", where=Location(path)) from None
    except OSError as exc:
        detail = f"cannot read the file: {exc.strerror or exc}"
        raise BadInputError(detail, where=Location(path)) from None


def default_table(path: Path) -> str:
    """A table name from the file name: ``Sales 2024.csv`` → ``Sales_2024``."""
    name = re.sub(r"\W+", "_", path.name.split(".")[0]).strip("_")
    return name if name and not name[0].isdigit() else f"t_{name}"


def table_schema(info: Any) -> Any:
    """A live table's description (``TableInfo``) as the data layer's ``TableSchema``."""
    from d1tui.convert.schema import Column, TableSchema

    columns = tuple(
        Column(
            name=c.name,
            type=c.type or "",
            pk=bool(c.pk),
            notnull=bool(c.notnull),
            default=c.default,
        )
        for c in info.columns
    )
    return TableSchema(info.name, columns)


def build_target(args: argparse.Namespace, client: Any, db_uuid: str, fmt: Any) -> Any:
    """The table the rows go to: an existing one (mapped by name) or, with --create, a new one."""
    from d1tui.convert.detect import Format
    from d1tui.convert.prepare import Target

    table = args.table or default_table(args.file)
    if fmt in (Format.SQL, Format.SQLITE):
        return Target(table=table, create=True)
    existing = None
    for info in client.list_tables(db_uuid):
        if info.name.lower() == table.lower():
            existing = table_schema(info)
            table = info.name
    if existing is None and not args.create:
        raise BadInputError(
            f"table {table!r} does not exist in the database",
            where=Location(args.file),
            hint="pass --create to create it from the file's columns, or --table to pick another",
        )
    return Target(table=table, create=existing is None, existing=existing)


def collect_prepared(
    items: Iterable[PrepareProgress | PreparedImport],
    out: Renderer,
    where: Path,
    *,
    nothing: str = "nothing to import",
) -> PreparedImport:
    """Show a prepare generator's progress on ``out`` and return its PreparedImport."""
    prepared: PreparedImport | None = None
    for item in items:
        if isinstance(item, PrepareProgress):
            out.event(item)
        else:
            prepared = item
    if prepared is None:
        raise BadInputError(nothing, where=Location(where))
    return prepared


def prepare(args: argparse.Namespace, target: Any, options: Any, out: Renderer) -> PreparedImport:
    """Convert the file to import-ready SQL, showing progress; BadInputError names the place."""
    from d1tui.convert.prepare import prepare_file

    return collect_prepared(prepare_file(args.file, options, target), out, args.file)


def check_size(prepared: PreparedImport, source: Path) -> None:
    """Pre-flight: the SQL fits in one import upload (BadInputError with a plan otherwise)."""
    if (error := oversize_error(prepared)) is not None:
        error.where = Location(source)
        raise error


def confirm(args: argparse.Namespace) -> bool:
    """Ask ``Ok to proceed?`` on a terminal; scripts (--yes, --json, no TTY) go ahead."""
    if args.yes or args.json or not sys.stdin.isatty():
        return True
    try:
        answer = input("  Ok to proceed? [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def run(args: argparse.Namespace) -> int:
    """Run the import command; returns the exit code."""
    return with_output(args, _run)


def with_output(
    args: argparse.Namespace, body: Callable[[argparse.Namespace, Renderer], int]
) -> int:
    """Run ``body`` with a text or JSON renderer; errors and Ctrl-C become exit codes."""
    live = not args.json and sys.stderr.isatty() and os.environ.get("TERM") != "dumb"
    out: Renderer = (
        JsonRenderer(sys.stdout) if args.json else TextRenderer(sys.stdout, sys.stderr, live=live)
    )
    try:
        return body(args, out)
    except KeyboardInterrupt:
        err: D1Error = ImportCancelledError("cancelled before anything was sent", hint="")
        out.error(err, DatabaseState.NOT_STARTED)
        out.result({"success": False, "exit_code": int(err.exit_code), "error": err})
        return ExitCode.CANCELLED
    except D1Error as err:
        out.error(err)
        out.result({"success": False, "exit_code": int(err.exit_code), "error": err})
        return int(err.exit_code)
    finally:
        out.close()


def _run(args: argparse.Namespace, out: Renderer) -> int:
    from d1tui.cli.options import read_options
    from d1tui.convert.detect import detect
    from d1tui.settings.local import make_client

    check_readable(args.file)
    options = read_options(args)
    facts = detect(args.file, options)
    with target_settings(args) as settings, make_client(settings) as client:
        db = resolve_database(client, settings)
        if isinstance(out, TextRenderer):
            out.database_name = db.name
        target = build_target(args, client, db.uuid, facts.format)
        out.info(
            "file",
            f"🌀 Reading {args.file.name}: {facts.summary}",
            path=args.file,
            format=facts.format,
            summary=facts.summary,
        )
        prepared = prepare(args, target, options, out)
        try:
            return import_prepared(args, out, client, db, prepared)
        finally:
            if prepared.temporary:
                prepared.path.unlink(missing_ok=True)


def import_prepared(
    args: argparse.Namespace, out: Renderer, client: Any, db: Any, prepared: PreparedImport
) -> int:
    """Show what will happen, confirm, run the engine, report; returns the exit code."""
    check_size(prepared, Path(prepared.source or prepared.path.name))
    rows = f", {prepared.total_rows:,} rows" if prepared.rows else ""
    out.info(
        "prepared",
        f"   {prepared.statements:,} statements{rows}, {human_bytes(prepared.size)} of SQL",
        statements=prepared.statements,
        rows=prepared.rows,
        size=prepared.size,
        md5=prepared.md5,
        tables=list(prepared.rows),
        created_tables=list(prepared.created_tables),
    )
    out.info("database", f"🌀 Importing into {db.name} ({db.uuid})", name=db.name, uuid=db.uuid)
    out.info("warning", WARNING, text=WARNING)
    out.info("note", "   " + NOTE, text=NOTE)
    if not confirm(args):
        err = ImportCancelledError("not confirmed; nothing was sent", hint="")
        out.error(err, DatabaseState.NOT_STARTED)
        return ExitCode.CANCELLED
    if isinstance(out, TextRenderer):
        out.file_name, out.file_size = prepared.source or prepared.path.name, prepared.size
        out.queries_total = prepared.statements
    final = run_events(client, db.uuid, prepared, out, args, database_name=db.name)
    payload: dict[str, Any] = {"database": {"name": db.name, "uuid": db.uuid}}
    if isinstance(final, ImportSucceeded):
        out.result({"success": True, "exit_code": 0, **payload, "import": final})
        return ExitCode.OK
    out.result(
        {
            "success": False,
            "exit_code": int(final.error.exit_code),
            **payload,
            "error": final.error,
            "stage": final.stage,
            "database_state": final.database,
            "at_bookmark": final.at_bookmark,
        }
    )
    return int(final.error.exit_code)


def run_events(
    client: Any,
    db_uuid: str,
    prepared: PreparedImport,
    out: Renderer,
    args: argparse.Namespace | None = None,
    *,
    database_name: str = "",
) -> Any:
    """Run the engine in a thread and render its events; Ctrl-C cancels (twice: stop waiting)."""
    from d1tui.cli.options import import_options
    from d1tui.importer.run import run_import

    options = import_options(args or argparse.Namespace())
    cancel = threading.Event()
    events: queue.Queue[Any] = queue.Queue()
    done = object()

    def work() -> None:
        try:
            for event in run_import(
                client,
                db_uuid,
                prepared,
                options=options,
                cancel=cancel,
                database_name=database_name,
            ):
                events.put(event)
        except BaseException as exc:  # the engine should not raise; report it if it does
            events.put(exc)
        finally:
            events.put(done)

    thread = threading.Thread(target=work, name="d1tui-import", daemon=True)
    thread.start()
    final: Any = None
    while True:
        try:
            item = events.get(timeout=0.2) if not cancel.is_set() else events.get(timeout=0.5)
        except queue.Empty:
            continue
        except KeyboardInterrupt:
            if cancel.is_set():
                final = ImportFailed(
                    Stage.POLL, ImportCancelledError("stopped waiting"), DatabaseState.UNKNOWN
                )
                out.event(final)
                return final
            cancel.set()
            out.info(
                "cancelling",
                "⏹ Cancelling: D1 rolls the import back when polls stop "
                "(about 15 s); Ctrl-C again to stop waiting.",
            )
            continue
        if item is done:
            break
        if isinstance(item, BaseException):
            raise item
        out.event(item)
        if isinstance(item, ImportSucceeded | ImportFailed):
            final = item
    if final is None:
        final = ImportFailed(
            Stage.POLL, D1Error("the import engine ended without a result"), DatabaseState.UNKNOWN
        )
        out.event(final)
    return final


def add_parser(sub: Any) -> None:
    """Register ``import``."""
    from d1tui.cli.help import IMPORT_EPILOG
    from d1tui.cli.options import add_import_options, add_reader_options, add_target_options

    p = sub.add_parser(
        "import",
        help="import a CSV, TSV, JSON, NDJSON, SQLite or SQL file into a D1 database",
        description="Import a file into a D1 database through D1's import API: the file is "
        "converted to SQL, checked, uploaded, ingested and verified by row counts.",
        epilog=IMPORT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    p.add_argument("file", type=Path, metavar="FILE", help="the file to import")
    p.add_argument("--table", "-t", metavar="T", help="target table (default: from the file name)")
    p.add_argument("--create", action="store_true", help="create the table if it does not exist")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask before importing")
    p.add_argument("--json", action="store_true", help="JSON lines on stdout (implies --yes)")
    add_target_options(p, database_help="database id or name (with --local: created if missing)")
    add_reader_options(p)
    add_import_options(p)
    p.set_defaults(handler=run)
