"""Secrets: the suite-wide leak scan works, and the token stays out of every repr and message.

Also the emulator's own guards: 127.0.0.1 by default, its token required, upload URLs signed
and expiring, upload names that try to leave the uploads folder refused.
"""

from __future__ import annotations

import inspect
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import keyring
import pytest
from import_runs import run
from keyring.backend import KeyringBackend
from suite_secrets import TEST_TOKEN
from test_client_helpers import make_client, write_sql

from d1tui import errors as error_module
from d1tui.api.client import D1Client
from d1tui.emulator import Emulator, serve
from d1tui.errors import D1Error
from d1tui.settings.config import resolve_settings
from d1tui.settings.profile import save_profile
from d1tui.settings.secret import Secret

TESTS = Path(__file__).resolve().parent.parent
QUIET_PLUGINS = ["-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:hypothesispytest"]

LEAKY = """
from pathlib import Path
from suite_secrets import TEST_TOKEN

def test_prints(): print("token is", TEST_TOKEN)
def test_logs_to_stderr():
    import sys; sys.stderr.write(TEST_TOKEN)
def test_fails_with_it(): assert TEST_TOKEN == "x"
def test_writes_a_log(tmp_path: Path): (tmp_path / "run.log").write_text("Bearer " + TEST_TOKEN)
def test_writes_utf16(tmp_path: Path):
    (tmp_path / "s.txt").write_bytes(TEST_TOKEN.encode("utf-16-le"))
def test_emulator_token_is_the_suite_token(tmp_path: Path):
    from d1tui.emulator import Emulator
    assert Emulator(tmp_path).token == TEST_TOKEN
def test_clean(capsys): print("nothing secret here")
def test_token_file_0600_is_allowed(tmp_path: Path):
    p = tmp_path / "token"; p.write_text(TEST_TOKEN); p.chmod(0o600)
"""


def test_the_suite_wide_scan_fails_every_test_that_leaks_the_token(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # Outside tmp_path: the copied suite_secrets.py holds the token and would trip the scan.
    tmp_path = tmp_path_factory.mktemp("leaky")
    shutil.copy(TESTS / "conftest.py", tmp_path / "conftest.py")
    shutil.copy(TESTS / "suite_secrets.py", tmp_path / "suite_secrets.py")
    (tmp_path / "test_leaky.py").write_text(LEAKY)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", str(tmp_path), *QUIET_PLUGINS],
        cwd=tmp_path,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    out = done.stdout
    assert "5 passed" in out and "3 failed" in out and "2 error" in out, out
    for name in ("test_prints", "test_logs_to_stderr", "test_fails_with_it"):
        assert f"FAILED test_leaky.py::{name}" in out
    for name in ("test_writes_a_log", "test_writes_utf16"):
        assert f"ERROR at teardown of {name}" in out
    assert out.count("the API token leaked into") >= 5
    assert "run.log" in out and "s.txt" in out
    assert TEST_TOKEN not in out + done.stderr  # the report itself shows a placeholder
    assert "token is <API token>" in out


class _DictKeyring(KeyringBackend):
    """A keyring in memory (the machine's store must not be touched)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


def test_a_saved_profile_is_0600_and_its_token_goes_to_the_keyring(tmp_path: Path) -> None:
    previous, ring = keyring.get_keyring(), _DictKeyring()
    keyring.set_keyring(ring)
    try:
        settings = resolve_settings(
            cwd=tmp_path,
            env={"CLOUDFLARE_API_TOKEN": TEST_TOKEN, "CLOUDFLARE_ACCOUNT_ID": "a" * 32},
            database="db1",
        )
        path = save_profile(settings, remember_token=True)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert TEST_TOKEN not in path.read_text()
        assert not (path.parent / "token").exists()
        assert list(ring.store.values()) == [TEST_TOKEN]
        assert TEST_TOKEN not in repr(settings) + str(settings)
    finally:
        keyring.set_keyring(previous)


def every_error_class() -> list[type[D1Error]]:
    """D1Error and all its subclasses defined in errors.py."""
    found = [
        c for c in vars(error_module).values() if isinstance(c, type) and issubclass(c, D1Error)
    ]
    assert len(found) >= 15
    return found


def test_no_repr_or_message_of_a_real_run_holds_the_token(
    emu: Emulator, client: D1Client, tmp_path: Path
) -> None:
    texts = [
        repr(client),
        str(client),
        repr(emu),
        repr(Secret(TEST_TOKEN)),
        f"{Secret(TEST_TOKEN)}",
    ]
    settings = resolve_settings(
        cwd=tmp_path, env={"CLOUDFLARE_API_TOKEN": TEST_TOKEN}, account_id=emu.account_id
    )
    texts += [repr(settings), str(settings), repr(settings.token)]
    # A success, a failed import, a refused token: every event and error they produce.
    events = run(client, write_sql(tmp_path / "ok.sql", rows=3, first_id=1))
    events += run(client, write_sql(tmp_path / "dup.sql", rows=3, first_id=1, create=False))
    emu.faults.add("poll", "status", status=429, retry_after=0.1)
    emu.token_status = "disabled"
    events += run(client, write_sql(tmp_path / "late.sql", rows=3, first_id=50))
    emu.token_status = "active"
    with make_client(emu, base_url=emu.base_url) as other:
        object.__setattr__(other, "_token", Secret("wrong-" + TEST_TOKEN))
        with pytest.raises(D1Error) as refused:
            other.list_databases()
    errors = [refused.value] + [
        e.error for e in events if isinstance(getattr(e, "error", None), D1Error)
    ]
    assert {type(e).__name__ for e in errors} >= {"AuthError", "ImportFailedError"}
    for error in errors:
        texts += [str(error), repr(error), error.describe(), repr(error.args)]
    texts += [repr(e) for e in events] + [str(e) for e in events]
    for cls in every_error_class():
        made = cls("detail", hint="hint")
        texts += [str(made), repr(made), made.describe()]
    leaked = [t for t in texts if TEST_TOKEN in t]
    assert leaked == []


def test_the_emulator_binds_loopback_by_default(tmp_path: Path) -> None:
    assert inspect.signature(Emulator).parameters["host"].default == "127.0.0.1"
    assert inspect.signature(serve).parameters["host"].default == "127.0.0.1"
    with Emulator(tmp_path) as emu:
        assert emu.base_url.startswith("http://127.0.0.1:")
        assert emu._server is not None  # the bound socket itself
        assert emu._server.server_address[0] == "127.0.0.1"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/d1/database", None),
        ("GET", "/d1/database/demo", None),
        ("POST", "/d1/database/demo/query", {"sql": "SELECT 1"}),
        ("POST", "/d1/database/demo/import", {"action": "init", "etag": "0" * 32}),
    ],
)
@pytest.mark.parametrize("auth", [None, "Bearer nope", "Basic " + TEST_TOKEN, TEST_TOKEN])
def test_the_emulator_requires_its_token(
    emu: Emulator, method: str, path: str, body: object, auth: str | None
) -> None:
    headers = {"Authorization": auth} if auth else {}
    url = f"{emu.base_url}/accounts/{emu.account_id}{path}"
    answer = httpx.request(method, url, json=body, headers=headers, timeout=5)
    assert answer.status_code in (400, 401, 403)
    envelope = answer.json()
    assert envelope["success"] is False and envelope["result"] is None
    assert envelope["errors"][0]["code"] in (10000, 10001, 9106, 9109, 7403, 6003, 6111)
    assert TEST_TOKEN not in answer.text


def _upload_url(emu: Emulator, client: D1Client) -> str:
    answer = client.import_init("demo", "ab" * 16)
    assert answer.upload_url is not None
    return answer.upload_url


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    pairs = "&".join(f"{k}={v}" for k, v in query.items())
    return f"{parts.scheme}://{parts.netloc}{parts.path}?{pairs}"


def test_upload_urls_are_signed(emu: Emulator, client: D1Client) -> None:
    url = _upload_url(emu, client)
    forged = _with_query(url, **{"X-Amz-Signature": "0" * 64})
    answer = httpx.put(forged, content=b"SELECT 1;", timeout=5)
    assert answer.status_code == 403 and b"SignatureDoesNotMatch" in answer.content
    longer = _with_query(url, **{"X-Amz-Expires": "999999"})
    assert httpx.put(longer, content=b"SELECT 1;", timeout=5).status_code == 403
    unsigned = url.split("?")[0]
    assert httpx.put(unsigned, content=b"SELECT 1;", timeout=5).status_code == 403
    assert list((emu.data_dir / "uploads").iterdir()) == []


def test_upload_urls_expire(tmp_path: Path) -> None:
    with Emulator(tmp_path, upload_url_ttl=1) as emu:
        emu.create_database("demo")
        with make_client(emu) as client:
            url = _upload_url(emu, client)
            time.sleep(2.05)
            answer = httpx.put(url, content=b"SELECT 1;", timeout=5)
            assert answer.status_code == 403 and b"Request has expired" in answer.content


@pytest.mark.parametrize(
    "name",
    ["../escape.sql", "..%2F..%2Fescape.sql", "%2e%2e/%2e%2e/escape.sql", "a/../../escape.sql"],
)
def test_upload_names_cannot_leave_the_uploads_folder(
    emu: Emulator, client: D1Client, name: str
) -> None:
    url = _upload_url(emu, client)
    parts = urlsplit(url)
    base = parts.path.rsplit("/", 1)[0]
    raw = f"{parts.scheme}://{parts.netloc}{base}/{name}?{parts.query}"
    with httpx.Client() as http:
        request = http.build_request("PUT", raw, content=b"SELECT 1;")
        request.url = httpx.URL(raw)  # keep the dots and escapes as written
        answer = http.send(request)
    assert answer.status_code in (400, 403, 404)
    assert not list(emu.data_dir.rglob("escape.sql"))
    assert not list(emu.data_dir.parent.glob("escape.sql"))
