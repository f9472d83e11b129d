"""The README's try-it commands, run as written on the shipped ``samples/`` folder."""

from __future__ import annotations

import shlex
import sqlite3
from pathlib import Path

import pytest

from d1tui.cli import main
from d1tui.cli.deps import Deps
from d1tui.cli.tui_cmd import SAMPLES, start_folder
from d1tui.emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]
QUICK = Deps(emulator_kwargs={"hold_seconds": 0.05})


def readme_commands() -> list[list[str]]:
    """The ``d1tui …`` lines of the README's "Try it without an account" block."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("### Try it without an account", 1)[1].split("```sh", 1)[1]
    block = block.split("```", 1)[0]
    lines = [line.split("  #", 1)[0].strip() for line in block.splitlines()]
    return [shlex.split(line)[1:] for line in lines if line.startswith("d1tui ")]


def test_the_readme_commands_import_every_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("D1TUI_DATA_DIR", str(data))
    monkeypatch.chdir(ROOT)
    commands = readme_commands()
    assert sum("samples/" in " ".join(argv) for argv in commands) >= 4
    for argv in commands:
        assert main(argv, deps=QUICK) == 0, (argv, capsys.readouterr().err)
    con = sqlite3.connect(Emulator(data).database_file("scratch"))
    try:
        people = con.execute("SELECT name, email, note FROM people WHERE id IN (2, 4)").fetchall()
        assert people == [
            ("Zoë Ångström", "zoe@example.se", None),
            ("山田 太郎", "taro@example.jp", "two\nlines"),
        ]
        assert con.execute("SELECT COUNT(*) FROM events WHERE amount IS NULL").fetchone() == (2,)
        orders = con.execute(
            "SELECT SUM(total) FROM orders JOIN customers ON customers.id = customer_id"
        ).fetchone()
        assert orders == (pytest.approx(19.99 + 5.0 + 2855.63 + 0.1 + 42.0),)
        prices = con.execute(
            "SELECT sku, product, in_stock FROM prices_semicolon ORDER BY sku"
        ).fetchall()
        assert prices[0] == ("A-001", 'Kaffee "Crema"', 12) and prices[2][1] == "Käse; gerieben"
    finally:
        con.close()


def test_the_file_browser_starts_in_samples_from_the_repository_root(tmp_path: Path) -> None:
    assert SAMPLES == ROOT / "samples" and (SAMPLES / "people.csv").is_file()
    assert start_folder(ROOT) == SAMPLES
    assert start_folder(tmp_path) is None
