"""Settings resolution: each source, its precedence, and where each value came from."""

from __future__ import annotations

from pathlib import Path

import pytest

from d1tui.api import client
from d1tui.errors import BadInputError
from d1tui.settings.config import DEFAULT_BASE_URL, parse_dotenv, resolve_settings
from d1tui.settings.jsonc import loads as jsonc_loads
from d1tui.settings.jsonc import strip_jsonc

ACCT_ENV = "a" * 32
ACCT_DOTENV = "b" * 32
ACCT_WRANGLER = "c" * 32


def resolve(tmp: Path, env: dict[str, str] | None = None, **flags: str):
    return resolve_settings(cwd=tmp, env=env or {}, use_profile=False, **flags)


def test_the_default_endpoint_is_the_clients() -> None:
    assert DEFAULT_BASE_URL == client.DEFAULT_BASE_URL


def test_nothing_set_gives_defaults(tmp_path: Path) -> None:
    s = resolve(tmp_path)
    assert s.account_id.value is None and s.account_id.source == "not set"
    assert s.token.value is None
    assert s.base_url.value == DEFAULT_BASE_URL and s.base_url.source == "default"
    assert s.missing() == ["account id", "API token"]


def test_flags_beat_env_and_env_beats_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        f"CLOUDFLARE_ACCOUNT_ID={ACCT_DOTENV}\nCLOUDFLARE_API_TOKEN=dot\n"
    )
    env = {"CLOUDFLARE_ACCOUNT_ID": ACCT_ENV, "CLOUDFLARE_DATABASE_ID": "db-env"}
    s = resolve(tmp_path, env, database="db-flag")
    assert (s.account_id.value, s.account_id.source) == (ACCT_ENV, "env CLOUDFLARE_ACCOUNT_ID")
    assert (s.database.value, s.database.source) == ("db-flag", "--database flag")
    assert s.token.value is not None and s.token.value.reveal() == "dot"
    assert s.token.source == ".env"
    s2 = resolve(tmp_path, env, account_id="f" * 32, token="tok")
    assert s2.account_id.source == "--account flag"
    assert s2.token.source == "--token-stdin" and s2.token.value.reveal() == "tok"


def test_deprecated_cf_aliases_are_read_but_lose_to_the_new_names(tmp_path: Path) -> None:
    s = resolve(tmp_path, {"CF_API_TOKEN": "old", "CF_ACCOUNT_ID": ACCT_ENV, "CF_DATABASE_ID": "d"})
    assert s.token.source == "env CF_API_TOKEN" and s.token.value.reveal() == "old"
    assert s.account_id.source == "env CF_ACCOUNT_ID"
    assert s.database.value == "d"
    s2 = resolve(tmp_path, {"CF_API_TOKEN": "old", "CLOUDFLARE_API_TOKEN": "new"})
    assert s2.token.value.reveal() == "new" and s2.token.source == "env CLOUDFLARE_API_TOKEN"


def test_env_base_url_is_the_whole_base(tmp_path: Path) -> None:
    s = resolve(tmp_path, {"CLOUDFLARE_API_BASE_URL": "http://127.0.0.1:9/client/v4/"})
    assert s.base_url.value == "http://127.0.0.1:9/client/v4"
    assert s.base_url.source == "env CLOUDFLARE_API_BASE_URL"


def test_dotenv_local_overrides_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        f"CLOUDFLARE_ACCOUNT_ID={ACCT_DOTENV}\nCLOUDFLARE_DATABASE_ID=shared\n"
    )
    (tmp_path / ".env.local").write_text("CLOUDFLARE_DATABASE_ID=mine\n")
    s = resolve(tmp_path)
    assert (s.database.value, s.database.source) == ("mine", ".env.local")
    assert (s.account_id.value, s.account_id.source) == (ACCT_DOTENV, ".env")


def test_parse_dotenv_quotes_export_and_comments() -> None:
    text = (
        "# a comment\n"
        "export A=plain   # trailing comment\n"
        'B="double # not a comment \\"q\\" \\n"\n'
        "C='single \\n # literal'\n"
        "D=x#y\n"
        "  E = spaced  \n"
        "not a line\n"
        "F=\n"
    )
    assert parse_dotenv(text) == {
        "A": "plain",
        "B": 'double # not a comment "q" \n',
        "C": "single \\n # literal",
        "D": "x#y",
        "E": "spaced",
        "F": "",
    }


JSONC = (
    """
// top comment
{
  /* block
     comment */
  "name": "app",
  "main": "https://example.com//not-a-comment", // real comment
  "account_id": "ACCOUNT",
  "d1_databases": [
    {"binding": "DB", "database_name": "first", "database_id": "id-first",},
    {"binding": "OTHER", "database_name": "second/*x*/", "database_id": "id-second"},
  ],
}
"""
).replace("ACCOUNT", ACCT_WRANGLER)


def test_jsonc_keeps_comment_markers_inside_strings() -> None:
    data = jsonc_loads(JSONC)
    assert data["main"] == "https://example.com//not-a-comment"
    assert data["d1_databases"][1]["database_name"] == "second/*x*/"
    assert len(data["d1_databases"]) == 2


def test_jsonc_escaped_quote_and_comma_in_string() -> None:
    assert jsonc_loads('{"a": "x\\" // ,]", "b": [1,2,],}') == {"a": 'x" // ,]', "b": [1, 2]}
    assert strip_jsonc("[1, // c\n]").replace(" ", "") == "[1\n]"


def test_jsonc_error_names_line_and_column(tmp_path: Path) -> None:
    with pytest.raises(BadInputError) as info:
        jsonc_loads('{\n  "a": 1\n  "b": 2\n}', path=tmp_path / "wrangler.jsonc")
    assert info.value.where is not None and info.value.where.line == 3


def test_wrangler_jsonc_found_upward_first_database(tmp_path: Path) -> None:
    (tmp_path / "wrangler.jsonc").write_text(JSONC)
    deep = tmp_path / "src" / "deep"
    deep.mkdir(parents=True)
    s = resolve(deep)
    assert (s.account_id.value, s.account_id.source) == (ACCT_WRANGLER, "wrangler.jsonc")
    assert (s.database.value, s.database.source) == ("id-first", "wrangler.jsonc")


def test_wrangler_database_flag_matches_binding_or_name(tmp_path: Path) -> None:
    (tmp_path / "wrangler.json").write_text(strip_jsonc(JSONC))
    by_binding = resolve(tmp_path, database="OTHER")
    assert by_binding.database.value == "id-second"
    assert by_binding.database.source == "--database flag → wrangler.json"
    unknown = resolve(tmp_path, database="elsewhere")
    assert (unknown.database.value, unknown.database.source) == ("elsewhere", "--database flag")


def test_wrangler_toml_by_binding_and_env_account_wins(tmp_path: Path) -> None:
    (tmp_path / "wrangler.toml").write_text(
        f'name = "w"\naccount_id = "{ACCT_WRANGLER}"\n\n'
        '[[d1_databases]]\nbinding = "DB"\ndatabase_name = "one"\ndatabase_id = "id-one"\n\n'
        '[[d1_databases]]\nbinding = "LOGS"\ndatabase_name = "logs"\ndatabase_id = "id-logs"\n'
    )
    s = resolve(tmp_path, {"CLOUDFLARE_ACCOUNT_ID": ACCT_ENV, "CLOUDFLARE_DATABASE_ID": "LOGS"})
    assert s.account_id.value == ACCT_ENV
    assert s.database.value == "id-logs"
    assert s.database.source == "env CLOUDFLARE_DATABASE_ID → wrangler.toml"


def test_nearest_wrangler_file_wins_and_json_before_toml(tmp_path: Path) -> None:
    (tmp_path / "wrangler.toml").write_text('account_id = "outer"\n')
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "wrangler.toml").write_text('account_id = "toml"\n')
    (inner / "wrangler.json").write_text('{"account_id": "json"}')
    assert resolve(inner).account_id.value == "json"
    assert resolve(tmp_path).account_id.value == "outer"


def test_bad_toml_is_bad_input_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "wrangler.toml").write_text("account_id = \n")
    with pytest.raises(BadInputError) as info:
        resolve(tmp_path)
    assert "wrangler.toml" in str(info.value)


def test_token_is_masked_in_repr(tmp_path: Path) -> None:
    s = resolve(tmp_path, {"CLOUDFLARE_API_TOKEN": "sekrit-token-123"})
    assert "sekrit" not in repr(s) and "sekrit" not in str(s)
