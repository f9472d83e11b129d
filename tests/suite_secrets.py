"""The suite's API token and the scan that proves it never leaks into output or files.

Every emulator a test starts without an explicit token gets ``TEST_TOKEN`` (see the autouse
fixture in ``tests/conftest.py``); every emulator's token is remembered for the test that
started it. After each test, its captured output, its failure text and the files it wrote
under ``tmp_path`` and the temporary home are searched for those tokens.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

# Recognisable, URL-safe and 40 characters long like a Cloudflare API token.
TEST_TOKEN = "d1tuiTESTtoken-NEVER-PRINT-ME-0123456789"

# The one place a token may rest on disk: the opt-in profile token file (mode 0600).
TOKEN_FILE_NAME = "token"
_MAX_SCANNED_BYTES = 32 * 1024 * 1024


def leaked_in_text(text: str, tokens: Iterable[str]) -> list[str]:
    """The tokens (named by length only) found in ``text``."""
    return [f"a {len(t)}-character token" for t in tokens if t and t in text]


def mask_tokens(text: str, tokens: Iterable[str]) -> str:
    """``text`` with every token replaced by a placeholder (safe to show in a report)."""
    for token in tokens:
        if token:
            text = text.replace(token, "<API token>")
    return text


def _allowed_on_disk(path: Path) -> bool:
    """The opt-in token file of a saved profile: owner-only permissions."""
    if path.name != TOKEN_FILE_NAME:
        return False
    return stat.S_IMODE(path.stat().st_mode) == 0o600


def leaked_in_files(roots: Iterable[Path], tokens: Iterable[str]) -> list[str]:
    """Files under ``roots`` holding any of ``tokens`` (as UTF-8 or UTF-16 bytes)."""
    needles = []
    for token in tokens:
        if token:
            needles += [token.encode(), token.encode("utf-16-le")]
    found: list[str] = []
    for root in roots:
        if not root.is_dir():
            continue
        for folder, _dirs, files in os.walk(root):
            for name in files:
                path = Path(folder) / name
                try:
                    if path.is_symlink() or path.stat().st_size > _MAX_SCANNED_BYTES:
                        continue
                    data = path.read_bytes()
                except OSError:
                    continue
                if any(n in data for n in needles) and not _allowed_on_disk(path):
                    found.append(str(path))
    return found
