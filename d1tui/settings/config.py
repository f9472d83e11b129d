"""Where the credentials and the target database come from, and where each value came from.

Precedence, highest first: command-line flags > environment variables > ``.env.local`` >
``.env`` (both in the working directory; ``.env.local`` is the personal override of a shared
``.env``) > ``wrangler.json`` / ``wrangler.jsonc`` / ``wrangler.toml`` found searching upward from
the working directory > the saved profile (see :mod:`d1tui.settings.profile`) > defaults.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from d1tui.errors import BadInputError, D1Error, ExitCode, Location
from d1tui.settings import jsonc
from d1tui.settings.profile import forget_profile, load_profile, profile_dir, save_profile
from d1tui.settings.secret import Secret

__all__ = [
    "DEFAULT_BASE_URL",
    "MissingSettingError",
    "Settings",
    "Sourced",
    "forget_profile",
    "load_profile",
    "parse_dotenv",
    "profile_dir",
    "resolve_settings",
    "save_profile",
]

T = TypeVar("T")

# The same as d1.client.DEFAULT_BASE_URL, spelled here so that reading settings loads no httpx.
DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"

# Field → environment variable names, preferred first (the CF_* names are deprecated aliases).
ENV_NAMES: dict[str, tuple[str, ...]] = {
    "token": ("CLOUDFLARE_API_TOKEN", "CF_API_TOKEN"),
    "account_id": ("CLOUDFLARE_ACCOUNT_ID", "CF_ACCOUNT_ID"),
    "database": ("CLOUDFLARE_DATABASE_ID", "CF_DATABASE_ID"),
    "base_url": ("CLOUDFLARE_API_BASE_URL",),
}
DOTENV_FILES = (".env.local", ".env")  # earlier wins
WRANGLER_FILES = ("wrangler.json", "wrangler.jsonc", "wrangler.toml")  # wrangler's own order
NOT_SET = "not set"


@dataclass(frozen=True)
class Sourced(Generic[T]):
    """A setting's value and where it came from (``"env CLOUDFLARE_ACCOUNT_ID"``, ``".env"`` …)."""

    value: T | None
    source: str

    @property
    def is_set(self) -> bool:
        """True when there is a (non-empty) value."""
        return bool(self.value)


@dataclass(frozen=True)
class Settings:
    """Everything needed to reach one D1 database, each value with its source."""

    account_id: Sourced[str]
    token: Sourced[Secret]
    database: Sourced[str]
    base_url: Sourced[str]
    local: bool = False

    def missing(self) -> list[str]:
        """Names of the values a remote import cannot do without."""
        names = []
        if not self.account_id.is_set:
            names.append("account id")
        if not self.token.is_set:
            names.append("API token")
        return names


class MissingSettingError(D1Error):
    """A required setting (account id, token, database) has no value from any source."""

    title = "Missing setting"
    default_hint = (
        "set CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN (environment or .env), pass "
        "--account / --token-stdin, or try it offline with --local; `d1tui config` shows "
        "what is found where"
    )
    exit_code = ExitCode.USAGE


def parse_dotenv(text: str) -> dict[str, str]:
    """Parse ``.env`` text: ``KEY=VALUE`` lines, ``export`` prefix, quotes and ``#`` comments.

    Double-quoted values understand ``\\n``, ``\\t``, ``\\"`` and ``\\\\``; single-quoted values are
    literal; unquoted values end at `` #``. Values span one line.
    """
    found: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, rest = line.partition("=")
        key = key.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", key):
            continue
        found[key] = _dotenv_value(rest.strip())
    return found


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _dotenv_value(rest: str) -> str:
    if rest[:1] == "'":
        end = rest.find("'", 1)
        return rest[1:end] if end > 0 else rest[1:]
    if rest[:1] == '"':
        chars: list[str] = []
        i = 1
        while i < len(rest) and rest[i] != '"':
            if rest[i] == "\\" and i + 1 < len(rest):
                chars.append(_ESCAPES.get(rest[i + 1], "\\" + rest[i + 1]))
                i += 2
                continue
            chars.append(rest[i])
            i += 1
        return "".join(chars)
    comment = re.search(r"\s#", rest)
    return (rest[: comment.start()] if comment else rest).strip()


@dataclass(frozen=True)
class WranglerConfig:
    """What d1tui reads from a wrangler configuration file."""

    path: Path
    account_id: str | None
    databases: tuple[dict[str, str], ...]  # d1_databases entries (binding, database_name, …)

    def database_for(self, wanted: str | None) -> str | None:
        """The ``database_id`` whose binding or name is ``wanted``; the first entry without one."""
        for entry in self.databases:
            if wanted is None or wanted in (entry.get("binding"), entry.get("database_name")):
                return entry.get("database_id") or entry.get("database_name")
        return None


def find_wrangler_config(start: Path) -> WranglerConfig | None:
    """Search ``start`` and its parents for a wrangler configuration file and read it."""
    for folder in (start, *start.parents):
        for name in WRANGLER_FILES:
            path = folder / name
            if path.is_file():
                return read_wrangler_config(path)
    return None


def read_wrangler_config(path: Path) -> WranglerConfig:
    """Read ``account_id`` and ``d1_databases`` from one wrangler file (JSON, JSONC or TOML)."""
    data: Any
    if path.suffix == ".toml":
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
        except tomllib.TOMLDecodeError as exc:
            raise BadInputError(f"not valid TOML: {exc}", where=Location(path)) from None
    else:
        data = jsonc.load(path)
    if not isinstance(data, dict):
        raise BadInputError("expected a table/object at the top", where=Location(path))
    account = data.get("account_id")
    entries = data.get("d1_databases") or []
    databases = tuple(
        {k: str(v) for k, v in entry.items() if isinstance(v, str | int)}
        for entry in (entries if isinstance(entries, list) else [])
        if isinstance(entry, dict)
    )
    return WranglerConfig(path, str(account) if account else None, databases)


def resolve_settings(
    *,
    account_id: str | None = None,
    token: str | None = None,
    database: str | None = None,
    base_url: str | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    token_source: str = "--token-stdin",
    use_profile: bool = True,
) -> Settings:
    """Resolve every setting from flags, environment, ``.env`` files, wrangler config, profile."""
    cwd = Path.cwd() if cwd is None else cwd
    env = os.environ if env is None else env
    flags = {
        "account_id": (account_id, "--account flag"),
        "token": (token, token_source),
        "database": (database, "--database flag"),
        "base_url": (base_url, "--base-url flag"),
    }
    layers: list[dict[str, tuple[str, str]]] = [
        {k: (v, src) for k, (v, src) in flags.items() if v},
        _from_env(env, None),
    ]
    for name in DOTENV_FILES:
        path = cwd / name
        if path.is_file():
            layers.append(_from_env(parse_dotenv(path.read_text(encoding="utf-8-sig")), name))
    wrangler = find_wrangler_config(cwd)
    profile = load_profile() if use_profile else None

    def pick(field: str) -> tuple[str | None, str]:
        for layer in layers:
            if field in layer:
                return layer[field]
        return None, NOT_SET

    values: dict[str, tuple[str | None, str]] = {field: pick(field) for field in ENV_NAMES}
    if wrangler is not None:
        label = wrangler.path.name
        if values["account_id"][0] is None and wrangler.account_id:
            values["account_id"] = (wrangler.account_id, label)
        wanted, source = values["database"]
        db_id = wrangler.database_for(wanted)
        if wanted is None and db_id:
            values["database"] = (db_id, label)
        elif wanted is not None and db_id and db_id != wanted:
            values["database"] = (db_id, f"{source} → {label}")
    if profile is not None:
        for field in ("account_id", "database", "base_url", "token"):
            saved = profile.get(field)
            if values[field][0] is None and saved:
                values[field] = (saved, profile["source_" + field])
    if values["base_url"][0] is None:
        values["base_url"] = (DEFAULT_BASE_URL, "default")
    raw_token, token_from = values["token"]
    url = values["base_url"][0] or DEFAULT_BASE_URL
    return Settings(
        account_id=Sourced(values["account_id"][0], values["account_id"][1]),
        token=Sourced(Secret(raw_token) if raw_token else None, token_from),
        database=Sourced(values["database"][0], values["database"][1]),
        base_url=Sourced(url.rstrip("/"), values["base_url"][1]),
    )


def _from_env(source: Mapping[str, str], file: str | None) -> dict[str, tuple[str, str]]:
    """Values found under the known variable names; labelled with the file or ``env NAME``."""
    found: dict[str, tuple[str, str]] = {}
    for field, names in ENV_NAMES.items():
        for name in names:
            value = source.get(name, "").strip()
            if value:
                found[field] = (value, file or f"env {name}")
                break
    return found
