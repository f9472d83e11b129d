"""``d1tui config``: show each setting and where it came from; save or forget the profile."""

# ruff: noqa: PLC0415 - commands import their heavy dependencies only when they run

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from d1tui.cli.help import SETTINGS
from d1tui.cli.options import add_target_options, target_settings
from d1tui.humanize import safe_text
from d1tui.settings.config import Settings, find_wrangler_config, load_profile, profile_dir
from d1tui.settings.profile import forget_profile, save_profile


def describe(settings: Settings) -> list[tuple[str, str, str]]:
    """(name, shown value, source) rows; the token is masked."""
    token = settings.token.value
    return [
        ("account id", settings.account_id.value or "—", settings.account_id.source),
        ("API token", token.masked() if token else "—", settings.token.source),
        ("database", settings.database.value or "—", settings.database.source),
        ("API base URL", settings.base_url.value or "—", settings.base_url.source),
    ]


def run(args: argparse.Namespace) -> int:
    """Print the settings table (or JSON); --save / --forget manage the profile."""
    if args.forget:
        removed = forget_profile()
        print("Removed: " + ", ".join(removed) if removed else "No saved profile.")
        return 0
    with target_settings(args) as settings:
        rows = describe(settings)
        if args.verify:
            rows.append(("token check", verify(settings), "API"))
    if args.json:
        print(json.dumps({name: {"value": v, "source": s} for name, v, s in rows}, indent=2))
    else:
        width = max(len(name) for name, _, _ in rows)
        for name, value, source in rows:
            print(safe_text(f"{name:<{width}}  {value:<36}  ({source})"))
        notes = notes_for(settings)
        for note in notes:
            print(safe_text(note))
    if args.save:
        path = save_profile(
            settings, remember_token=args.remember_token, token_file=args.token_file
        )
        where = "token file (0600)" if args.token_file else "OS keyring"
        stored = f"; token stored in the {where}" if args.remember_token else "; token not stored"
        print(safe_text(f"Saved {path}{stored}"), file=sys.stderr)
    return 0


def notes_for(settings: Settings) -> list[str]:
    """Hints about what was looked at, for when a value is not where the user expected."""
    notes = []
    wrangler = find_wrangler_config(Path.cwd())
    notes.append(f"wrangler config: {wrangler.path if wrangler else 'none found'}")
    notes.append(f"profile: {profile_dir() / 'profile.json'}")
    profile = load_profile() or {}
    if "token_note" in profile:
        notes.append(f"note: {profile['token_note']}")
    if settings.missing() and not settings.local:
        notes.append("missing: " + ", ".join(settings.missing()) + " (see `d1tui config --help`)")
    return notes


def verify(settings: Settings) -> str:
    """Ask the API whether the token is good; a short answer (never raises)."""
    from d1tui.api.local import make_client
    from d1tui.errors import D1Error

    try:
        with make_client(settings) as client:
            status: Any = client.verify_token()
    except D1Error as err:
        return f"✘ {err}"
    return f"✔ {status.status}" + (f" (expires {status.expires_on})" if status.expires_on else "")


def add_parser(sub: Any) -> None:
    """Register ``config``."""
    p = sub.add_parser(
        "config",
        help="show each setting and where it came from (token masked); save the profile",
        description="Show the account, token (masked), database and endpoint d1tui would use, "
        "and where each value came from.",
        epilog=SETTINGS + "\n\nexamples:\n  d1tui config\n  d1tui config --verify\n"
        "  d1tui config --account 0123…cdef --database my-db --save\n"
        "  d1tui config --save --remember-token      token into the OS keyring\n"
        "  d1tui config --forget",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--verify", action="store_true", help="also check the token with the API")
    p.add_argument("--save", action="store_true", help="save account, database, URL as profile")
    p.add_argument(
        "--remember-token", action="store_true", help="with --save: keep the token (OS keyring)"
    )
    p.add_argument(
        "--token-file",
        action="store_true",
        help="with --remember-token: keep it in a 0600 file instead of the keyring",
    )
    p.add_argument("--forget", action="store_true", help="delete the saved profile and token")
    add_target_options(p, database_help="database id or name")
    p.set_defaults(handler=run)
