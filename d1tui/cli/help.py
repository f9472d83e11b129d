"""The teaching parts of ``--help``: examples, where settings come from, exit codes."""

from __future__ import annotations

from d1tui.errors import ExitCode

EXIT_CODES = "\n".join(
    f"  {int(code):>3}  {text}"
    for code, text in (
        (ExitCode.OK, "done (also when a cancel came too late: the import completed)"),
        (ExitCode.UNEXPECTED, "unexpected error (a bug: please report it)"),
        (ExitCode.USAGE, "usage: bad flags, or a missing account/token/database"),
        (ExitCode.BAD_INPUT, "bad input: the file cannot be imported as it is (nothing was sent)"),
        (ExitCode.AUTH, "authentication: token wrong, expired or without D1 Edit; bad account"),
        (ExitCode.API, "API failure: not found, rate limited, server or network error"),
        (
            ExitCode.IMPORT_FAILED,
            "import failed: D1 refused it (rolled back) or counts differ; or an earlier,\n"
            "       interrupted import of the file committed (nothing sent; --force repeats it)",
        ),
        (ExitCode.CANCELLED, "cancelled (Ctrl-C or answering no); D1 rolls an import back"),
    )
)
EXIT_CODES = f"exit codes:\n{EXIT_CODES}\n  130  interrupted (Ctrl-C outside an import)"

SETTINGS = """\
settings, highest precedence first (see them with `d1tui config`):
  flags (--account, --database, --token-stdin, --token-env NAME)
  environment: CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID, CLOUDFLARE_DATABASE_ID,
               CLOUDFLARE_API_BASE_URL (CF_API_TOKEN, CF_ACCOUNT_ID, CF_DATABASE_ID also read)
  .env.local, then .env, in the current folder
  wrangler.json / wrangler.jsonc / wrangler.toml, searched upward (account_id, d1_databases)
  the saved profile (`d1tui config --save`; the token in the OS keyring)
The token is never taken as a plain flag value (it would show in `ps`)."""

MAIN_EPILOG = f"""\
examples:
  d1tui --local                          try everything against the bundled emulator
  d1tui                                  the TUI, with settings found as below
  d1tui import users.csv --database my-db --table users --create
  d1tui import dump.sql --database my-db --yes --json > import.log
  d1tui import data.csv --local --database scratch --create --yes
  d1tui convert users.csv -o users.sql --table users --create
  d1tui fake --table TargetD1Table --rows 10000 --seed 7 -o fake.sql
  d1tui emulator --port 8787
  d1tui config

{SETTINGS}

{EXIT_CODES}
"""

IMPORT_EPILOG = f"""\
examples:
  d1tui import users.csv --database my-db --table users --create
  d1tui import export.sql --database 0f2c…-uuid --yes
  d1tui import app.sqlite --tables users,orders --database my-db
  d1tui import data.tsv --no-headers --type zip=TEXT --pk id --table t --create -d my-db
  echo "$TOKEN" | d1tui import rows.ndjson --token-stdin -d my-db -t events --json
  d1tui import data.csv --local -d scratch --create --yes     (no account needed)

What happens: the file is checked and converted to D1-ready SQL (statements under 100,000
bytes, no BEGIN/COMMIT, exact values) before anything is sent; then D1's import API
uploads it, ingests it and is polled until done; finally the row counts are compared with the
rows sent. D1 is unavailable to other queries while it imports, and a failed import is rolled
back. The summary prints the Time Travel command that undoes a successful import.

Into an existing table, columns are matched by name. A column (or JSON key) the table lacks
is shown as a warning (`columns_skipped` in --json); a script (--yes, --json, no terminal) is
refused with exit 3 unless it passes --skip-unknown, which imports the other columns.

With --local, a database that does not exist is created only once the import goes ahead; a
refused run leaves none behind, and a failed import removes the empty database it created.

Each import writes down what it is about to do (in the user state dir, or $D1TUI_STATE_DIR).
If a run is killed, the next run of the same file into the same tables counts the rows first
and refuses to add them a second time when the earlier import committed (--force does). While
the API cannot be reached during an import, d1tui keeps trying for --patience seconds.

--json prints one JSON object per line (each event, errors as {{title, detail, codes, hint}})
and a final {{"result": …}}; nothing else goes to stdout.

A stdout closed early (`| head -1`) does not stop the import: it runs to its end, the rest
of the output is dropped, stderr says so, and the exit code is the import's own.

{EXIT_CODES}
"""
