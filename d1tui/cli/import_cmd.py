"""`d1tui import FILE`: pre-flight, prepare, confirm, import, summarise; headless and scriptable."""

# ruff: noqa: PLC0415 - commands import their heavy dependencies only when they run

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from d1tui.cli.deps import deps_of
from d1tui.cli.options import import_options, resolve_database, target_settings
from d1tui.cli.render import NOTE, WARNING, GuardedStream, JsonRenderer, Renderer, TextRenderer
from d1tui.errors import BadInputError, D1Error, ExitCode, ImportCancelledError, Location
from d1tui.events import (
    ColumnsSkipped,
    DatabaseState,
    ImportFailed,
    ImportSucceeded,
    PrepareProgress,
    Stage,
)
from d1tui.humanize import human_bytes, plural
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
    """A table name from the file name (the one rule ``importer.target`` gives every front end)."""
    from d1tui.importer.target import default_table_name

    return default_table_name(path)


def table_schema(info: Any) -> Any:
    """A live table's description (``TableInfo``) as the data layer's ``TableSchema``."""
    from d1tui.importer.target import schema_of

    return schema_of(info)


def build_target(args: argparse.Namespace, client: Any, db_uuid: str, fmt: Any) -> Any:
    """The table the rows go to: an existing one (mapped by name) or, with --create, a new one."""
    from d1tui.convert.detect import Format
    from d1tui.convert.prepare import Target
    from d1tui.importer.target import resolve_target

    table = args.table or default_table(args.file)
    if fmt in (Format.SQL, Format.SQLITE):
        return Target(table=table, create=True)
    return resolve_target(client, db_uuid, table, create=args.create, source=args.file)


def check_unknown_columns(
    args: argparse.Namespace, target: Any, options: Any, out: Renderer
) -> None:
    """Warn about file columns the existing table lacks; a script must say --skip-unknown.

    Reads only the head of the file (the preview's look), before anything is prepared or sent.
    """
    from d1tui.convert.preview import preview_file

    if target.existing is None:
        return
    mapping = preview_file(args.file, options, target, limit=0).mapping
    skipped = mapping.skipped if mapping is not None else None
    if skipped is None:
        return
    out.event(skipped)
    if not args.skip_unknown and not asks(args):
        raise unknown_columns_error(skipped, args.file)


def unknown_columns_error(skipped: ColumnsSkipped, source: Path) -> BadInputError:
    """The refusal for a script that did not say what to do with unknown columns."""
    return BadInputError(
        f"table {skipped.table!r} has no column {', '.join(map(repr, skipped.columns))}: "
        "their values would be lost",
        where=Location(source),
        hint="pass --skip-unknown to import the other columns without them, or --table NEW "
        "--create to import every column into a new table",
    )


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


def asks(args: argparse.Namespace) -> bool:
    """Whether the run asks ``Ok to proceed?`` (a terminal without --yes or --json)."""
    return not (args.yes or args.json or not sys.stdin.isatty())


def confirm(args: argparse.Namespace) -> bool:
    """Ask ``Ok to proceed?`` on a terminal; scripts (--yes, --json, no TTY) go ahead."""
    if not asks(args):
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
    """Run ``body`` with a text or JSON renderer; errors and Ctrl-C become exit codes.

    A reader that closes stdout early (``| head -1``) changes nothing but what it reads: the
    run goes on to its end and the exit code is the run's own (stderr says output was lost).
    """
    stdout, stderr = GuardedStream(sys.stdout), GuardedStream(sys.stderr)
    live = not args.json and stderr.isatty() and os.environ.get("TERM") != "dumb"
    out: Renderer = JsonRenderer(stdout) if args.json else TextRenderer(stdout, stderr, live=live)
    code = int(ExitCode.UNEXPECTED)
    try:
        code = body(args, out)
    except KeyboardInterrupt:
        err: D1Error = ImportCancelledError("cancelled before anything was sent", hint="")
        out.error(err, DatabaseState.NOT_STARTED)
        out.result({"success": False, "exit_code": int(err.exit_code), "error": err})
        code = ExitCode.CANCELLED
    except D1Error as err:
        out.error(err)
        out.result({"success": False, "exit_code": int(err.exit_code), "error": err})
        code = int(err.exit_code)
    finally:
        out.close()
        if stdout.lost:
            stderr.write(f"d1tui: stdout was closed early; the run went on (exit {int(code)})\n")
            stderr.flush()
    return int(code)


def _run(args: argparse.Namespace, out: Renderer) -> int:
    from d1tui.cli.options import read_options
    from d1tui.convert.detect import detect

    check_readable(args.file)
    options = read_options(args)
    facts = detect(args.file, options)
    with target_settings(args) as settings, deps_of(args).client(settings) as client:
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
        check_unknown_columns(args, target, options, out)
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
    rows = f", {plural(prepared.total_rows, 'row')}" if prepared.rows else ""
    out.info(
        "prepared",
        f"   {plural(prepared.statements, 'statement')}{rows}, {human_bytes(prepared.size)} of SQL",
        statements=prepared.statements,
        rows=prepared.rows,
        size=prepared.size,
        md5=prepared.md5,
        tables=list(prepared.rows),
        created_tables=list(prepared.created_tables),
    )
    where = db.uuid or "a new local database"
    out.info("database", f"🌀 Importing into {db.name} ({where})", name=db.name, uuid=db.uuid)
    out.info("warning", WARNING, text=WARNING)
    out.info("note", "   " + NOTE, text=NOTE)
    if not confirm(args):
        err = ImportCancelledError("not confirmed; nothing was sent", hint="")
        out.error(err, DatabaseState.NOT_STARTED)
        return ExitCode.CANCELLED
    if isinstance(out, TextRenderer):
        out.file_name, out.file_size = prepared.source or prepared.path.name, prepared.size
        out.queries_total = prepared.statements
    created = not db.uuid
    if created:  # created only now: a run refused before this point leaves no database behind
        db = client.create_database(db.name)
        text = f"   Created local database {db.name} ({db.uuid})"
        out.info("database_created", text, name=db.name, uuid=db.uuid)
    final = run_events(
        client,
        db.uuid,
        prepared,
        out,
        import_options(args, deps_of(args).import_options),
        database_name=db.name,
    )
    database = {"name": db.name, "uuid": db.uuid, "created": created}
    payload: dict[str, Any] = {"database": database}
    if created and isinstance(final, ImportFailed):
        database["removed"] = remove_if_empty(client, db, out)
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


def remove_if_empty(client: Any, db: Any, out: Renderer) -> bool:
    """Delete the database this run created when the failed import left it without tables."""
    try:
        if client.list_tables(db.uuid):
            return False
        client.delete_database(db.uuid)
    except D1Error as err:
        out.info("database_kept", f"   Could not remove the new database {db.name}: {err}")
        return False
    text = f"   Removed the empty database {db.name} this run created."
    out.info("database_removed", text, name=db.name, uuid=db.uuid)
    return True


@contextmanager
def ctrl_c_cancels(cancel: threading.Event, on_first: Callable[[], None]) -> Iterator[None]:
    """While inside: the first Ctrl-C sets ``cancel`` (and calls ``on_first``), the second one
    raises ``KeyboardInterrupt``. Outside the main thread nothing changes (no signal there).
    """

    def handler(_signum: int, _frame: FrameType | None) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()
        on_first()

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: Ctrl-C cannot reach this run anyway
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_events(
    client: Any,
    db_uuid: str,
    prepared: PreparedImport,
    out: Renderer,
    options: Any = None,
    *,
    database_name: str = "",
) -> Any:
    """Render the engine's events as they come; Ctrl-C cancels (twice: stop waiting)."""
    from d1tui.importer.run import ImportOptions, run_import

    cancel = threading.Event()

    def cancelling() -> None:
        # RuntimeError: the signal came while that stream was being written to
        with contextlib.suppress(RuntimeError):
            out.info(
                "cancelling",
                "⏹ Cancelling: D1 rolls the import back when polls stop "
                "(about 15 s); Ctrl-C again to stop waiting.",
            )

    final: Any = None
    events = run_import(
        client,
        db_uuid,
        prepared,
        options=options or ImportOptions(),
        cancel=cancel,
        database_name=database_name,
    )
    try:
        with ctrl_c_cancels(cancel, cancelling):
            for event in events:
                out.event(event)
                if isinstance(event, ImportSucceeded | ImportFailed):
                    final = event
    except KeyboardInterrupt:  # the second Ctrl-C: stop waiting for the rollback check
        final = ImportFailed(
            Stage.POLL, ImportCancelledError("stopped waiting"), DatabaseState.UNKNOWN
        )
        out.event(final)
        return final
    finally:
        # Abandons the import when the loop ended early (D1 rolls it back unpolled).
        close = getattr(events, "close", None)
        if close is not None:
            close()
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
    p.add_argument(
        "--skip-unknown",
        action="store_true",
        help="existing table: import without the file's columns it lacks (still warned); "
        "without it a script (--yes, --json, no TTY) is refused",
    )
    p.add_argument("--yes", "-y", action="store_true", help="do not ask before importing")
    p.add_argument("--json", action="store_true", help="JSON lines on stdout (implies --yes)")
    add_target_options(
        p,
        database_help="database id or name (with --local: created if missing, once the import "
        "goes ahead)",
    )
    add_reader_options(p)
    add_import_options(p)
    p.set_defaults(handler=run)
