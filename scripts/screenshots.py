"""Drive the real app with Pilot against the local emulator and write screenshots/*.svg and .png.

Run: ``python scripts/screenshots.py [--out screenshots]``. Each screen of the flow is saved at
100×30, plus a finished, a failed and a cancelled import. The steps are the ones the TUI tests
take. PNGs come from ``scripts/svg2png.sh`` (headless Chromium, which
``scripts/install-screenshot-deps.sh`` installs with the Fira Code, Noto emoji and Noto CJK fonts);
without Chromium only SVGs are written, and the script says so.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from faker import Faker
from rich.cells import cell_len

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "tui"))

import pilot_steps as steps  # noqa: E402

from d1tui.api.local import ensure_demo_database, local_settings, make_client  # noqa: E402
from d1tui.emulator import Emulator  # noqa: E402
from d1tui.importer.run import ImportOptions  # noqa: E402
from d1tui.tui.app import D1TuiApp, make_app  # noqa: E402

SIZE = (100, 30)
ACCOUNT = "0123456789abcdef0123456789abcdef"
OPTIONS = ImportOptions(progress_interval=0.05, rollback_wait=3.0, max_poll_gap=0.5)


# One locale per row in turn, so the first rows on screen show Latin, Cyrillic and CJK text.
LOCALES = ("en_US", "ja_JP", "fr_FR", "ru_RU", "zh_CN", "de_DE")


def write_customers(path: Path, rows: int = 1200) -> None:
    """A realistic CSV: quotes, accents, non-Latin names, leading-zero zip codes (seeded)."""
    fake = Faker(list(LOCALES))
    Faker.seed(42)
    lines = ["id,name,email,signup_date,zip"]
    for index in range(1, rows + 1):
        name = fake[LOCALES[(index - 1) % len(LOCALES)]].name().replace('"', "")
        lines.append(f'{index},"{name}",{fake.email()},{fake.date()},{index * 37 % 100000:05d}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


TEXT_RUN = re.compile(r'(<text [^>]*?textLength=")([0-9.]+)("[^>]*>)([^<]*)(</text>)')


def fix_wide_text(svg: str) -> str:
    """Give each text run the width of its cells, not of its characters.

    Rich sizes a run's ``textLength`` by ``len(text)``, so a run holding CJK (two cells a
    character) is squeezed into half its room and leaves a gap after it when rendered.
    """

    def widen(match: re.Match[str]) -> str:
        text = html.unescape(match[4])
        if not text or cell_len(text) == len(text):
            return match[0]
        length = float(match[2]) / len(text) * cell_len(text)
        return f"{match[1]}{length:g}{match[3]}{match[4]}{match[5]}"

    return TEXT_RUN.sub(widen, svg)


def to_png(svgs: list[Path]) -> list[Path]:
    """PNG copies through headless Chromium, or none (and why) when it is not installed."""
    if shutil.which("chromium") is None:
        print("chromium not found: SVG only (scripts/install-screenshot-deps.sh installs it)")
        return []
    pngs = []
    for svg in svgs:
        png = svg.with_suffix(".png")
        subprocess.run(["bash", str(ROOT / "scripts" / "svg2png.sh"), svg, png], check=True)
        pngs.append(png)
    return pngs


async def run(out: Path) -> list[Path]:
    """Go through the flow twice (success, failure) and save a screenshot at each stop."""
    saved: list[Path] = []
    work = Path(tempfile.mkdtemp(prefix="d1tui-shots-"))
    (work / "data").mkdir()
    write_customers(work / "data" / "customers.csv")
    (work / "data" / "clash.csv").write_text(
        "id,text,date_added\n100,new row,2026-02-01\n3,collides with row 3,2026-02-02\n",
        encoding="utf-8",
    )
    os.chdir(work)

    def shot(app: D1TuiApp, name: str) -> None:
        path = out / f"{name}.svg"
        svg = fix_wide_text(app.export_screenshot(title=f"d1tui · {name}"))
        path.write_text(svg, encoding="utf-8")
        saved.append(path)

    with Emulator(
        work / "emulator", token="local-demo-token", account_id=ACCOUNT, hold_seconds=0.3
    ) as emu:
        with make_client(local_settings(emu)) as client:
            ensure_demo_database(client)
        settings = local_settings(emu)

        app = make_app(
            settings,
            local_emulator=emu,
            start_dir=Path("data"),
            log_dir=work,
            import_options=OPTIONS,
        )
        async with app.run_test(size=SIZE) as pilot:
            await steps.verify(pilot, app)
            shot(app, "1-credentials")
            await steps.pick_database(pilot, app)
            await steps.choose_file(pilot, app, "data/customers.csv", table="customers")
            shot(app, "2-source")
            await steps.to_preview(pilot, app)
            shot(app, "3-preview")
            await steps.start_import(pilot, app)
            shot(app, "4-import-finished")

        app = make_app(
            settings,
            local_emulator=emu,
            start_dir=Path("data"),
            log_dir=work,
            import_options=OPTIONS,
        )
        async with app.run_test(size=SIZE) as pilot:
            await steps.verify(pilot, app)
            await steps.pick_database(pilot, app)
            await steps.choose_file(pilot, app, "data/clash.csv", table="TargetD1Table")
            await steps.to_preview(pilot, app)
            await steps.start_import(pilot, app)
            shot(app, "5-import-failed")

    # A slow ingest that forgets an import not polled for 1 s, so a cancel really rolls back.
    slow = {"statements_per_step": 1, "step_seconds": 0.5, "no_poll_timeout": 1.0}
    with Emulator(
        work / "emulator-slow", token="local-demo-token", account_id=ACCOUNT, **slow
    ) as emu:
        with make_client(local_settings(emu)) as client:
            ensure_demo_database(client)
        app = make_app(
            local_settings(emu),
            local_emulator=emu,
            start_dir=Path("data"),
            log_dir=work,
            import_options=ImportOptions(progress_interval=0.05, rollback_wait=1.5),
        )
        async with app.run_test(size=SIZE) as pilot:
            await steps.verify(pilot, app)
            await steps.pick_database(pilot, app)
            await steps.choose_fake(pilot, app, rows=30_000, seed=7, table="TargetD1Table")
            await steps.to_preview(pilot, app)
            screen = await steps.start_import(pilot, app, wait=False)
            await steps.wait_until(pilot, lambda: any("#2" in line for line in screen.lines))
            await pilot.press("c")
            await pilot.pause(0.3)
            await pilot.press("y")
            await steps.wait_until(pilot, lambda: not screen.running, timeout=30)
            await pilot.pause()
            shot(app, "6-import-cancelled")
    return saved


def main() -> int:
    """Parse ``--out`` and write the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    args = parser.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    svgs = asyncio.run(run(out))
    for path in svgs + to_png(svgs):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
