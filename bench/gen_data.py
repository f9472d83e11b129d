"""Seeded test files for the conversion benchmark: a 6-column CSV and the same rows as NDJSON."""

from __future__ import annotations

import argparse
import csv
import random
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson


def _split(text: str) -> list[str]:
    """Words of a space-separated literal."""
    return text.split(" ")


HEADER = ("id", "name", "email", "score", "created", "note")
HERE = Path(__file__).resolve().parent
DEFAULT_DIR = HERE / "data"

FIRST = _split(
    "Ann Bob Carla Dmitri Émile Fatima Günther Hana Ivan José Kei Lars Maël Nadia Olu Pia Quinn "
    "Raúl Siobhán Tomás Ulla Vera Wen Xavier Yuki Zoë Åsa Ørjan Chloé Łukasz Ngozi Pedro Mei Arjun"
)
LAST = _split(
    "O'Brien D'Arcy Smith Müller Nguyễn García Kowalski Ødegaard Ivanova Tanaka Okafor Rossi "
    "Dubois Jensen Silva Cohen Novák Papadopoulos Kim Singh Haddad Brown Wilson "
    "O'Neil Fernández Lindqvist"
)
CJK = _split("王 李 张 刘 陈 杨 黄 赵 吴 周 田中 佐藤 鈴木 高橋 김 이 박 최")
EMOJI = _split("🙂 🚀 ☕ 🎉 🌍 🐍 ❤️ 👩‍💻 🇯🇵 ✨")
WORDS = _split(
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut "
    "labore et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris "
    "nisi aliquip ex ea commodo consequat duis aute irure in reprehenderit voluptate velit esse"
)
DOMAINS = _split("example.com mail.test corp.example.org xn--bcher-kva.example uni.edu.example")


def _name(rng: random.Random) -> str:
    """One display name; about a third carry quotes, commas, newlines, CJK or emoji."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    kind = rng.randrange(12)
    if kind == 0:
        return f'{first} "{rng.choice(WORDS)}" {last}'
    if kind == 1:
        return f"{last}, {first}"
    if kind == 2:
        return f"{first}\n{last}"
    if kind == 3:
        return rng.choice(CJK) + rng.choice(CJK)
    if kind == 4:
        return f"{first} {rng.choice(EMOJI)}"
    if kind == 5:
        return f"{first} {last} {rng.randrange(1000)}"
    return f"{first} {last}"


def _note(rng: random.Random) -> str:
    """About 100 characters of words, sometimes with commas, quotes or a line break."""
    words = rng.choices(WORDS, k=17)
    kind = rng.randrange(10)
    if kind == 0:
        words[3] += ","
    elif kind == 1:
        words[5] = f'"{words[5]}"'
    elif kind == 2:
        words[7] += "\r\n"
    elif kind == 3:
        words[2] = "it's"
    return " ".join(words)


def _pools(rng: random.Random, size: int) -> tuple[list[str], list[str], list[str]]:
    """Pools of distinct-ish names, email local parts and notes (choices over them are fast)."""
    names = [_name(rng) for _ in range(size)]
    locals_ = [
        f"{rng.choice(FIRST)}.{rng.choice(LAST).replace(chr(39), '')}{rng.randrange(100)}".lower()
        for _ in range(size)
    ]
    emails = [f"{loc}@{rng.choice(DOMAINS)}" for loc in locals_]
    notes = [_note(rng) for _ in range(size)]
    return names, emails, notes


def rows(count: int, seed: int = 1, batch: int = 20_000) -> Iterator[list[tuple[object, ...]]]:
    """Batches of rows (id, name, email, score, created, note or None), the same per seed."""
    rng = random.Random(seed)
    names, emails, notes = _pools(rng, 20_000)
    next_id = 1
    while next_id <= count:
        n = min(batch, count - next_id + 1)
        name_col = rng.choices(names, k=n)
        email_col = rng.choices(emails, k=n)
        note_col = rng.choices(notes, k=n)
        out = []
        for i in range(n):
            score = round(rng.uniform(-500.0, 5000.0), rng.randrange(1, 4))
            secs = rng.randrange(1_577_836_800, 1_767_225_600)  # 2020..2026
            created = _timestamp(secs)
            note = note_col[i] if rng.random() >= 0.2 else None
            out.append((next_id + i, name_col[i], email_col[i], score, created, note))
        next_id += n
        yield out


def _timestamp(secs: int) -> str:
    """``YYYY-MM-DD HH:MM:SS`` for a UTC epoch second, without datetime objects per row."""
    days, rem = divmod(secs, 86400)
    # civil-from-days (proleptic Gregorian)
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    y = yoe + era * 400 + (m <= 2)
    return f"{y:04d}-{m:02d}-{d:02d} {rem // 3600:02d}:{rem // 60 % 60:02d}:{rem % 60:02d}"


def write_csv(path: Path, count: int, seed: int, crlf: bool) -> None:
    """Write the CSV (header + rows); the empty note is an empty field."""
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n" if crlf else "\n")
        w.writerow(HEADER)
        for batch in rows(count, seed):
            w.writerows(("" if v is None else v for v in r) for r in batch)


def write_ndjson(path: Path, count: int, seed: int) -> None:
    """Write the same rows as NDJSON objects; the empty note is ``null``."""
    with path.open("wb") as f:
        for batch in rows(count, seed):
            objs = (dict(zip(HEADER, r, strict=True)) for r in batch)
            f.write(b"".join(orjson.dumps(o) + b"\n" for o in objs))


def tile(src: Path, dst: Path, times: int) -> None:
    """``src`` with its body (all but the header) repeated ``times`` times: a big file fast.

    Ids repeat; that does not change the types or what the conversion does per byte.
    """
    with src.open("rb") as f, dst.open("wb") as out:
        header = f.readline()
        out.write(header)
        for _ in range(times):
            f.seek(len(header))
            while chunk := f.read(1 << 24):
                out.write(chunk)


def main(argv: list[str] | None = None) -> int:
    """CLI: ``python bench/gen_data.py --rows 1000000 [--format csv|ndjson|both]``."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--format", choices=("csv", "ndjson", "both"), default="both")
    p.add_argument("--crlf", action="store_true", help="CRLF record terminators (Excel style)")
    p.add_argument("--out-dir", type=Path, default=DEFAULT_DIR)
    p.add_argument("--tile", type=int, default=0, help="also write the CSV body repeated N times")
    a = p.parse_args(argv)
    a.out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"rows{a.rows}"
    if a.format in ("csv", "both"):
        path = a.out_dir / f"{stem}.csv"
        if not (a.tile and path.exists()):  # tiling reuses the file already made
            write_csv(path, a.rows, a.seed, a.crlf)
        print(f"{path} {path.stat().st_size:,} bytes", file=sys.stderr)
        if a.tile:
            big = a.out_dir / f"{stem}x{a.tile}.csv"
            tile(path, big, a.tile)
            print(f"{big} {big.stat().st_size:,} bytes", file=sys.stderr)
    if a.format in ("ndjson", "both"):
        path = a.out_dir / f"{stem}.ndjson"
        write_ndjson(path, a.rows, a.seed)
        print(f"{path} {path.stat().st_size:,} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
