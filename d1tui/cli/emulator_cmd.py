"""``d1tui emulator``: serve the local D1-compatible API over HTTP until Ctrl-C."""

# ruff: noqa: PLC0415 - commands import their heavy dependencies only when they run

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from d1tui.cli.options import port_number

TOKEN_ENV = "D1TUI_EMULATOR_TOKEN"

EPILOG = f"""\
examples:
  d1tui emulator                          port 8787, a new token shown at start
  {TOKEN_ENV}=dev-token d1tui emulator --account-id 0123456789abcdef0123456789abcdef
  CLOUDFLARE_API_BASE_URL=http://127.0.0.1:8787/client/v4 wrangler d1 execute …

The API is served under /client/v4 like api.cloudflare.com. The token is read from
${TOKEN_ENV} or, with --token-stdin, from standard input (never a plain flag value); without
either a random one is made and shown. Data persists in --data-dir (default: $D1TUI_DATA_DIR
or the user data dir, shared with `d1tui --local`, and so is the account id).
"""


def run(args: argparse.Namespace) -> int:
    """Start the server (blocks until Ctrl-C)."""
    from d1tui.api.local import local_data_dir, prepare_data_dir, stable_account_id
    from d1tui.emulator import serve

    token: str | None
    if args.token_stdin:
        token = sys.stdin.readline().strip() or None
    else:
        token = os.environ.get(TOKEN_ENV, "").strip() or None
    data_dir = prepare_data_dir(args.data_dir or local_data_dir())  # DataDirError: exit 2
    try:
        account = args.account_id or stable_account_id(data_dir)
    except OSError as exc:
        print(f"✘ Cannot use the data folder {data_dir}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    try:
        serve(args.host, args.port, data_dir, token, account)
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"✘ Cannot serve on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 5
    return 0


def add_parser(sub: Any) -> None:
    """Register ``emulator``."""
    p = sub.add_parser(
        "emulator",
        help="run the local D1 emulator (the Cloudflare v4 API on your machine)",
        description="Serve a local D1-compatible API over HTTP, backed by SQLite files.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument(
        "--port", type=port_number, default=8787, help="port 0-65535 (default 8787; 0 = any free)"
    )
    p.add_argument("--data-dir", type=Path, metavar="DIR", help="where the databases live")
    p.add_argument("--account-id", metavar="HEX32", help="the one account id it accepts")
    p.add_argument(
        "--token-stdin",
        action="store_true",
        help=f"read the token it accepts from standard input (else ${TOKEN_ENV} or random)",
    )
    p.set_defaults(handler=run)
