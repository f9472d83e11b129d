"""Which fake value suits a column (by name, then by type) and pools of such values, seeded."""

from __future__ import annotations

import re
import time
import uuid
import zlib
from collections.abc import Callable
from functools import cached_property
from random import Random
from typing import Any

from d1tui.convert.schema import affinity

# Enough distinct values that 100,000 rows drawn from a pool show more than 10,000 of them.
POOL_SIZE = 10_500
_SMALL_POOL_TRIES = 3_000
_EPOCH_FROM = 1_577_836_800  # 2020-01-01 00:00:00 UTC
_EPOCH_SPAN = 6 * 365 * 86_400

Maker = Callable[[Any, Random], object]  # (Faker-or-source, rng) -> value

# Name rules, first match wins: (pattern on the snake_case name, kind).
_NAME_RULES: list[tuple[str, str]] = [
    (r"(^|_)e_?mail(_address)?$|^mail$", "email"),
    (r"(^|_)ip(v4)?(_address|_addr)?$", "ip"),
    (r"(^|_)ipv6$", "ipv6"),
    (r"(^|_)(uuid|guid)$", "uuid"),
    (r"^(first_?name|given_name|fname|forename)$", "first_name"),
    (r"^(last_?name|surname|family_name|lname)$", "last_name"),
    (r"^(user_?name|login|handle|nick_?name|screen_name)$", "username"),
    (r"(^|_)(phone|mobile|tel|telephone|fax|cell)(_number|_no)?$", "phone"),
    (r"(^|_)(address|street|street_address|address_line_?\d?)$", "address"),
    (r"(^|_)(city|town)$", "city"),
    (r"(^|_)country_?code$|^iso_?country$", "country_code"),
    (r"(^|_)country$", "country"),
    (r"(^|_)(state|province|region)$", "state"),
    (r"(^|_)(zip|zip_?code|post_?code|postal_?code)$", "postcode"),
    (r"(^|_)(company|organi[sz]ation|employer|business|org)(_name)?$", "company"),
    (r"(^|_)(url|website|homepage|link|uri|href)$", "url"),
    (r"(^|_)(domain|host_?name)$", "domain"),
    (r"(^|_)(title|subject|headline|heading)$", "title"),
    (
        r"(^|_)(description|desc|text|body|content|notes?|comments?|bio|summary|message|"
        r"details|about|review|remarks?)$",
        "paragraph",
    ),
    (r"(^|_)(job|occupation|job_title|profession)$", "job"),
    (r"(^|_)colou?r$", "color"),
    (r"(^|_)currency(_code)?$", "currency"),
    (r"(^|_)(language|lang)$", "language"),
    (r"(^|_)(price|amount|cost|total|balance|salary|fee|revenue|subtotal|tax|wage)$", "money"),
    (r"(^|_)(lat|latitude)$", "lat"),
    (r"(^|_)(lng|lon|long|longitude)$", "lng"),
    (r"^age$", "age"),
    (r"(^|_)year$", "year"),
    (r"(^|_)(quantity|qty|count|stock|num_\w+|number_of_\w+)$", "quantity"),
    (r"(^|_)(rating|score|stars)$", "score"),
    (r"^(is|has|can|should)_\w+$|^(active|enabled|verified|deleted|archived|flag)$", "bool"),
    (r"(^|_)(password|hash|token|secret|digest|checksum)$", "hex"),
    (r"(^|_)slug$", "slug"),
    (r"(^|_)status$", "status"),
    (r"(^|_)(birthday|birth_?date|dob|date_of_birth|\w+_date|date|day|\w+_on)$", "date"),
    (r"(^|_)time$", "time"),
    (
        r"(^|_)(\w+_at|created|updated|modified|timestamp|date_?time|date_\w+|\w+_time|"
        r"\w+_ts|when)$",
        "timestamp",
    ),
    (r"(^|_)(full_?name|name|customer|author|owner|contact|person|manager|employee)$", "name"),
]
_COMPILED = [(re.compile(p), kind) for p, kind in _NAME_RULES]

# Kinds whose values suit a column of each storage class ("any" fits every class).
_NUMERIC_KINDS = {"money", "lat", "lng", "age", "year", "quantity", "score", "bool"}
_TIME_KINDS = {"timestamp", "date", "time"}


def snake(name: str) -> str:
    """``createdAt``/``Created At`` → ``created_at``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip())
    return "_".join(w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w)


def fake_affinity(type_name: str) -> str:
    """SQLite's affinity, except that an untyped column gets text (BLOB affinity takes any)."""
    return affinity(type_name) if type_name.strip() else "TEXT"


def choose_kind(name: str, type_name: str) -> str:
    """The kind of fake value for a column: by its name when that fits its type, else by type."""
    aff = fake_affinity(type_name)
    t = type_name.upper()
    by_name = next((k for rx, k in _COMPILED if rx.search(snake(name))), None)
    if by_name is not None:
        if aff == "BLOB":
            return "blob"
        if aff in ("INTEGER", "REAL") and by_name in _TIME_KINDS:
            return "epoch"
        if aff == "INTEGER" and by_name == "money":
            return "cents"
        if aff == "REAL" and by_name == "score":
            return "rating"
        if aff in ("INTEGER", "REAL", "NUMERIC") and by_name in _NUMERIC_KINDS:
            return by_name
        if aff == "NUMERIC" and by_name in _TIME_KINDS:
            return by_name
        if aff == "TEXT":
            return by_name
    if "BOOL" in t:
        return "bool"
    if "DATETIME" in t or "TIMESTAMP" in t:
        return "timestamp"
    if "DATE" in t:
        return "date"
    if aff == "NUMERIC" and ("DEC" in t or "NUM" in t or "MONEY" in t):
        return "money"
    return {"INTEGER": "integer", "REAL": "real", "BLOB": "blob"}.get(aff, "words")


def _stamp(rng: Random) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(_EPOCH_FROM + rng.randrange(_EPOCH_SPAN)))


def _date(rng: Random) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(_EPOCH_FROM + rng.randrange(_EPOCH_SPAN)))


class Parts:
    """Small pools of Faker pieces (names, words, sentences), each built on first use.

    Faker is reseeded before each piece so a piece is the same whatever was built before it.
    """

    def __init__(self, fake: Any, seed: int) -> None:
        self._fake, self.seed = fake, seed

    @property
    def fake(self) -> Any:
        """The Faker instance as it is (for pools that reseeded it first)."""
        return self._fake

    def faker(self, piece: str) -> Any:
        """The Faker instance, reseeded for ``piece``."""
        self._fake.seed_instance(zlib.crc32(f"{self.seed}\x00{piece}".encode()))
        return self._fake

    @cached_property
    def first(self) -> list[str]:
        """Distinct first names."""
        return _distinct(self.faker("first").first_name, 700, 2_000)

    @cached_property
    def last(self) -> list[str]:
        """Distinct last names."""
        return _distinct(self.faker("last").last_name, 1_000, 2_500)

    @cached_property
    def words(self) -> list[str]:
        """Distinct words of the locale's lorem list."""
        return _distinct(self.faker("words").word, 900, 2_500)

    @cached_property
    def sentences(self) -> list[str]:
        """Distinct sentences."""
        return _distinct(self.faker("sentences").sentence, 1_500, 1_600)

    @cached_property
    def hosts(self) -> list[str]:
        """Distinct domain names."""
        return _distinct(self.faker("hosts").domain_name, 1_000, 1_200)

    @cached_property
    def phones(self) -> list[str]:
        """Phone numbers in the locale's formats (their digits are redrawn per value)."""
        return _distinct(self.faker("phones").phone_number, 300, 400)

    @cached_property
    def streets(self) -> list[str]:
        """Street addresses (their house number is redrawn per value)."""
        return _distinct(self.faker("streets").street_address, 1_500, 1_600)

    @cached_property
    def usernames(self) -> list[str]:
        """User names (a number is appended to some)."""
        return _distinct(self.faker("usernames").user_name, 2_000, 2_200)

    @cached_property
    def domains(self) -> list[str]:
        """E-mail domains: free mail providers and some company domains."""
        return _distinct(self.faker("domains").free_email_domain, 10, 200) + self.hosts[:300]


def _distinct(make: Callable[[], object], want: int, tries: int) -> list[Any]:
    seen: dict[object, None] = {}
    for _ in range(tries):
        seen[make()] = None
        if len(seen) >= want:
            break
    return list(seen)


def _email(p: Parts, rng: Random) -> str:
    first, last = rng.choice(p.first).lower(), rng.choice(p.last).lower()
    style = rng.randrange(4)
    local = (
        f"{first}.{last}",
        f"{first}{last}{rng.randrange(100)}",
        f"{first[:1]}{last}",
        f"{first}_{rng.randrange(1000)}",
    )[style]
    local = re.sub(r"[^a-z0-9._]", "", local) if local.isascii() else ""
    if len(local) < 3:
        local = f"user{rng.randrange(1_000_000)}"
    return f"{local}@{rng.choice(p.domains)}"


def _phone(p: Parts, rng: Random) -> str:
    return _DIGIT.sub(lambda _: str(rng.randrange(10)), rng.choice(p.phones))


def _address(p: Parts, rng: Random) -> str:
    return _NUMBER.sub(str(rng.randint(1, 9999)), rng.choice(p.streets), count=1)


def _username(p: Parts, rng: Random) -> str:
    name: str = rng.choice(p.usernames)
    return name if rng.random() < 0.3 else f"{name}{rng.randrange(1000)}"


_DIGIT = re.compile(r"\d")
_NUMBER = re.compile(r"\d+")


def _phrase(p: Parts, rng: Random, low: int, high: int) -> str:
    return " ".join(rng.sample(p.words, rng.randint(low, high))).capitalize()


# kind → maker(parts, rng). Composed kinds use rng over small Faker pools; others call Faker.
MAKERS: dict[str, Maker] = {
    "email": _email,
    "first_name": lambda p, r: r.choice(p.first),
    "last_name": lambda p, r: r.choice(p.last),
    "name": lambda p, r: f"{r.choice(p.first)} {r.choice(p.last)}",
    "username": _username,
    "phone": _phone,
    "address": _address,
    "city": lambda p, r: p.fake.city(),
    "country": lambda p, r: p.fake.country(),
    "country_code": lambda p, r: p.fake.country_code(),
    "state": lambda p, r: p.fake.state() if hasattr(p.fake, "state") else p.fake.city(),
    "postcode": lambda p, r: p.fake.postcode(),
    "company": lambda p, r: p.fake.company(),
    "url": lambda p, r: f"https://{r.choice(p.hosts)}/{r.choice(p.words)}/{r.choice(p.words)}",
    "domain": lambda p, r: f"{r.choice(p.words)}-{r.choice(p.words)}.{r.choice(p.hosts)}",
    "uuid": lambda p, r: str(uuid.UUID(int=r.getrandbits(128), version=4)),
    "ip": lambda p, r: ".".join(str(r.randrange(1, 255)) for _ in range(4)),
    "ipv6": lambda p, r: ":".join(f"{r.getrandbits(16):x}" for _ in range(8)),
    "title": lambda p, r: _phrase(p, r, 3, 7),
    "paragraph": lambda p, r: " ".join(r.sample(p.sentences, r.randint(1, 4))),
    "words": lambda p, r: _phrase(p, r, 2, 6),
    "job": lambda p, r: p.fake.job(),
    "color": lambda p, r: p.fake.color_name(),
    "currency": lambda p, r: p.fake.currency_code(),
    "language": lambda p, r: p.fake.language_name(),
    "slug": lambda p, r: "-".join(r.sample(p.words, r.randint(2, 5))),
    "status": lambda p, r: r.choice(("active", "inactive", "pending", "archived")),
    "hex": lambda p, r: f"{r.getrandbits(256):064x}",
    "timestamp": lambda p, r: _stamp(r),
    "date": lambda p, r: _date(r),
    "time": lambda p, r: f"{r.randrange(24):02d}:{r.randrange(60):02d}:{r.randrange(60):02d}",
    "epoch": lambda p, r: _EPOCH_FROM + r.randrange(_EPOCH_SPAN),
    "money": lambda p, r: round(r.uniform(1, 1000), 2),
    "cents": lambda p, r: r.randrange(100, 100_000),
    "lat": lambda p, r: round(r.uniform(-90, 90), 6),
    "lng": lambda p, r: round(r.uniform(-180, 180), 6),
    "age": lambda p, r: r.randint(18, 90),
    "year": lambda p, r: r.randint(1950, 2025),
    "quantity": lambda p, r: r.randint(0, 500),
    "score": lambda p, r: r.randint(0, 100),
    "rating": lambda p, r: round(r.uniform(0, 100), 2),
    "bool": lambda p, r: r.randrange(2),
    "integer": lambda p, r: r.randrange(1, 1_000_000),
    "real": lambda p, r: round(r.uniform(0, 10_000), 2),
    "blob": lambda p, r: r.randbytes(16),
}
# Kinds with few possible values: stop filling their pool early.
SMALL_KINDS = frozenset(
    {"country", "country_code", "state", "job", "color", "currency", "language", "status"}
    | {"age", "year", "quantity", "score", "bool", "first_name", "last_name", "date"}
)


def build_pool(kind: str, parts: Parts, rng: Random) -> list[object]:
    """Up to ``POOL_SIZE`` distinct values of ``kind``, the same for the same rng state."""
    make = MAKERS[kind]
    parts.faker(f"{kind}\x00{rng.getrandbits(32)}")
    tries = _SMALL_POOL_TRIES if kind in SMALL_KINDS else POOL_SIZE * 3
    return _distinct(lambda: make(parts, rng), POOL_SIZE, tries)


def make_unique(kind: str, value: object, n: int) -> object:
    """A value built from a pool ``value`` and a counter ``n``, unique by construction."""
    if kind == "email" and isinstance(value, str):
        local, _, domain = value.partition("@")
        return f"{local}.{n}@{domain}"
    if kind == "uuid" and isinstance(value, str):
        return f"{value[:24]}{n % 16**12:012x}"
    if isinstance(value, bytes):
        return value[:8] + n.to_bytes(8, "big", signed=True)
    if isinstance(value, int) and not isinstance(value, bool):
        return n
    if isinstance(value, float):
        return float(n)
    return f"{value}-{n}"
