"""The checks a reviewer would run, run by the suite: ruff, mypy and the layer contracts.

The README's one test command therefore also lints, type-checks and enforces DESIGN §3's arrows;
the last tests show that a wrong arrow really breaks the contracts.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*command: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", *command],
        check=False,
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_ruff_finds_nothing() -> None:
    _run("ruff", "check", "--no-cache", ".")


def test_ruff_format_leaves_every_file_as_it_is() -> None:
    _run("ruff", "format", "--check", "--no-cache", ".")


def test_mypy_strict_passes_on_the_package() -> None:
    _run("mypy", "--cache-dir", "/dev/null", "d1tui")


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"}
    code = "import sys; from importlinter.cli import lint_imports_command; lint_imports_command()"
    return subprocess.run(
        [sys.executable, "-c", code, "--no-cache"],
        check=False,
        cwd=tree,
        capture_output=True,
        text=True,
        env=env,
    )


def test_the_layer_contracts_are_kept() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("convert/detect.py", "import d1tui.api.client", "convert reaches above itself"),
        ("importer/counts.py", "import textual", "Only the TUI imports Textual"),
        ("emulator/store.py", "import d1tui.errors", "The emulator shares no code"),
        ("api/retry.py", "import d1tui.importer.engine", "Layers: cli, tui, importer"),
    ],
)
def test_a_wrong_arrow_breaks_a_contract(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(ROOT / "pyproject.toml", tree)
    shutil.copytree(ROOT / "d1tui", tree / "d1tui", ignore=shutil.ignore_patterns("__pycache__"))
    target = tree / "d1tui" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    result = _lint_imports(tree)
    assert result.returncode != 0
    broken = [row for row in result.stdout.splitlines() if " BROKEN" in row]
    assert any(contract in row for row in broken), result.stdout
