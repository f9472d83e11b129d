"""Suite-wide fixtures: a deterministic, isolated environment for every test."""

from __future__ import annotations

from pathlib import Path

import pytest
from suite_secrets import TEST_TOKEN, leaked_in_files, leaked_in_text, mask_tokens

from d1tui.emulator import Emulator

# Variables that change how Textual renders or where d1tui looks for settings.
_ISOLATED_VARS = (
    "NO_COLOR",
    "TEXTUAL_THEME",
    "CLOUDFLARE_API_TOKEN",
    "CLOUDFLARE_ACCOUNT_ID",
    "CLOUDFLARE_DATABASE_ID",
    "CLOUDFLARE_API_BASE_URL",
    "CF_API_TOKEN",
    "CF_ACCOUNT_ID",
    "CF_DATABASE_ID",
)


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Clear credential/rendering variables and point config and data dirs at a temp home."""
    for name in _ISOLATED_VARS:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    # Never touch the machine's real secret store from a test.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    return home


# ---- the API token never leaks: output, failure text and written files are scanned ----------

_TOKENS = pytest.StashKey[set[str]]()


def pytest_configure(config: pytest.Config) -> None:
    """Register the opt-out marker for a test that must show a token (none should)."""
    config.addinivalue_line(
        "markers", "shows_token: the test prints an API token on purpose (skips the leak scan)"
    )


@pytest.fixture(autouse=True)
def token_watch(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Emulators default to the recognisable TEST_TOKEN; every started one's token is watched."""
    tokens = request.node.stash.setdefault(_TOKENS, {TEST_TOKEN})
    defaults = Emulator.__init__.__kwdefaults__
    assert defaults is not None and "token" in defaults
    monkeypatch.setitem(defaults, "token", TEST_TOKEN)
    start = Emulator.start

    def watched_start(self: Emulator) -> Emulator:
        tokens.add(self.token)
        return start(self)

    monkeypatch.setattr(Emulator, "start", watched_start)
    return tokens


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Fail a test whose captured output, failure text or tmp files hold a watched token."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if item.get_closest_marker("shows_token") is not None:
        return
    tokens = item.stash.get(_TOKENS, {TEST_TOKEN})
    # Sections accumulate over phases: judge only this phase's, but mask the token in all.
    texts = [text for name, text in report.sections if name.endswith(report.when)]
    report.sections = [(name, mask_tokens(text, tokens)) for name, text in report.sections]
    if report.longrepr is not None:
        texts.append(str(report.longrepr))
    where = [f"captured output ({report.when})" for t in texts if leaked_in_text(t, tokens)]
    if report.when == "teardown":
        roots = [item.funcargs.get("tmp_path"), item.funcargs.get("isolated_env")]
        where += leaked_in_files([p for p in roots if isinstance(p, Path)], tokens)
    if where:
        report.outcome = "failed"
        report.longrepr = "the API token leaked into: " + "; ".join(sorted(set(where)))
