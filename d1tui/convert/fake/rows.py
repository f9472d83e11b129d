"""Fake rows for any table schema, seeded and fast: pools of Faker values drawn per batch.

Each column has its own ``random.Random`` seeded from (seed, column), so a column's values do not
depend on the batch size or on the other columns: the first rows of a preview are the first rows
of the import. Values come from pools of ~10,500 distinct pre-generated values (Faker with
``use_weighting=False`` and provider-level calls, composed where Faker is slow), drawn with
``Random.choices``. Keys are unique by construction: an INTEGER PRIMARY KEY (or other integer
key) counts up from the table's current maximum; other UNIQUE columns append a counter to a pool
value. Nullable columns get NULL about 7 % of the time; NOT NULL and key columns never do.
"""

from __future__ import annotations

import sys
import threading
import zlib
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from operator import add
from random import Random
from typing import TypeVar

from d1tui.convert.fake.pools import Parts, build_pool, choose_kind, fake_affinity, make_unique
from d1tui.convert.schema import Column, TableSchema
from d1tui.convert.sql.inserts import STATEMENT_LIMIT, InsertWriter, insert_prefix, sql_literal
from d1tui.errors import BadInputError, ImportCancelledError
from d1tui.events import PrepareProgress

NULL_SHARE = 0.07
POOL_SLOTS = 65_536  # indices are drawn as 16-bit random numbers
BATCH = 4096
_PROGRESS_EVERY = 16  # batches

Write = Callable[[bytes], object]


@dataclass(frozen=True)
class FakeReport:
    """What ``write_fake_sql`` wrote."""

    table: str
    rows: int
    statements: int
    bytes_written: int
    first_id: int | None  # first value of the integer key, when there is one


@dataclass(frozen=True)
class _Plan:
    """How one column is filled: ``serial`` counts up; otherwise draws from a pool."""

    name: str
    kind: str
    serial: bool
    unique: bool
    start: int  # first counter value (serial and unique columns)
    seed: int
    nullable: bool


def column_kinds(schema: TableSchema) -> dict[str, str]:
    """Column name → the kind of fake value it gets (``serial`` for counting keys)."""
    return {p.name: ("serial" if p.serial else p.kind) for p in _plans(schema, 0, {})}


def _key_columns(schema: TableSchema) -> list[Column]:
    pks = [c for c in schema.columns if c.pk]
    return pks[:1]  # one unique column makes a composite key unique too


def _plans(schema: TableSchema, seed: int, start_ids: Mapping[str, int]) -> list[_Plan]:
    keys = {c.name for c in _key_columns(schema)}
    key_start = next((start_ids[k] for k in keys if k in start_ids), 0) + 1
    plans = []
    for i, c in enumerate(schema.columns):
        kind = choose_kind(c.name, c.type)
        unique = c.name in keys or c.unique
        serial = (
            unique
            and fake_affinity(c.type) in ("INTEGER", "REAL", "NUMERIC")
            and (c.name in keys or kind in ("integer", "real"))
        )
        start = start_ids[c.name] + 1 if c.name in start_ids else key_start
        column_seed = zlib.crc32(f"{seed}\x00{i}\x00{c.name}\x00{kind}".encode())
        nullable = not (c.notnull or c.pk or unique)
        plans.append(_Plan(c.name, kind, serial, unique, start, column_seed, nullable))
    return plans


@lru_cache(maxsize=8)
def _parts(locale: str, seed: int) -> Parts:
    from faker import Faker  # noqa: PLC0415 (costs ~100 ms: only when fake rows are asked for)

    try:
        fake = Faker(locale, use_weighting=False)
    except AttributeError as exc:
        raise BadInputError(
            f"unknown Faker locale {locale!r}",
            hint="use a Faker locale such as en_US, de_DE, fr_FR or ja_JP; nothing was sent",
        ) from exc
    return Parts(fake, seed)


class _Pool:
    """``POOL_SLOTS`` slots cycling through a kind's distinct values, with their literals.

    Nullable columns give ``NULL_SHARE`` of the slots to NULL. A power-of-two slot count lets a
    batch draw its indices as raw random bytes, with no Python code per value. Slot lists hold
    the distinct objects again and again, never copies.
    """

    def __init__(self, distinct: list[object], nulls: int) -> None:
        self.distinct, self.nulls = distinct, nulls
        self.distinct_literals = [sql_literal(v).encode() for v in distinct]
        self.values = self.slots(distinct, None)
        self.literals = self.slots(self.distinct_literals, b"NULL")

    def slots(self, items: list[T], null: T) -> list[T]:
        """``items`` (one per distinct value) spread over the slots, then the NULL slots."""
        filled = POOL_SLOTS - self.nulls
        return (items * (filled // len(items) + 1))[:filled] + [null] * self.nulls


T = TypeVar("T")


@lru_cache(maxsize=64)
def _pool(kind: str, locale: str, parts_seed: int, seed: int, *, nullable: bool) -> _Pool:
    distinct = build_pool(kind, _parts(locale, parts_seed), Random(seed))
    return _Pool(distinct, round(POOL_SLOTS * NULL_SHARE) if nullable else 0)


def _indices(rng: Random, k: int) -> array[int]:
    """``k`` pool slots; whole 32-bit words are drawn so batches split the stream exactly."""
    idx = array("H", rng.randbytes(4 * ((k + 1) // 2)))
    if sys.byteorder == "big":
        idx.byteswap()
    return idx[:k]


class _Columns:
    """Draws batches of values (or their literals) column by column."""

    def __init__(self, schema: TableSchema, seed: int, locale: str, start_ids: Mapping[str, int]):
        self.plans = _plans(schema, seed, start_ids)
        parts_seed = zlib.crc32(f"{seed}\x00parts".encode())
        self.pools = [
            None if p.serial else _pool(p.kind, locale, parts_seed, p.seed, nullable=p.nullable)
            for p in self.plans
        ]
        self.rngs = [Random(p.seed) for p in self.plans]

    def draw(self, k: int) -> list[array[int]]:
        """Pool slots for the next ``k`` rows (empty for serial columns)."""
        return [
            array("H") if pool is None else _indices(rng, k)
            for pool, rng in zip(self.pools, self.rngs, strict=True)
        ]

    def values(self, done: int, k: int, idx: list[array[int]]) -> list[list[object]]:
        """Python values for the drawn rows ``done .. done+k``."""
        cols: list[list[object]] = []
        for plan, pool, ix in zip(self.plans, self.pools, idx, strict=True):
            if pool is None:
                cols.append(list(range(plan.start + done, plan.start + done + k)))
                continue
            base = list(map(pool.values.__getitem__, ix))
            if plan.unique:
                n0 = plan.start + done
                base = [make_unique(plan.kind, v, n0 + j) for j, v in enumerate(base)]
            cols.append(base)
        return cols

    def framed(self) -> list[_Framed]:
        """Per column: text before/after each literal (the row's parentheses), pools to match."""
        out: list[_Framed] = []
        last = len(self.plans) - 1
        for i, (plan, pool) in enumerate(zip(self.plans, self.pools, strict=True)):
            pre, post = (b"(" if i == 0 else b""), (b")" if i == last else b"")
            if pool is None:
                out.append((pre, post, None, None))
                continue
            split = _unique_split(plan.kind, pool.distinct_literals) if plan.unique else None
            if split is not None:
                heads = pool.slots([pre + h for h in split[0]], b"")
                out.append((pre, post, [], (heads, pool.slots([t + post for t in split[1]], b""))))
                continue
            lits = [pre + x + post for x in pool.distinct_literals]
            out.append((pre, post, pool.slots(lits, pre + b"NULL" + post), None))
        return out

    def literals(
        self, done: int, k: int, idx: list[array[int]], framed: list[_Framed]
    ) -> list[list[bytes]]:
        """SQL literals of the same values as ``values``; joined by ',' they are the rows."""
        cols: list[list[bytes]] = []
        for plan, (pre, post, lits, split), ix in zip(self.plans, framed, idx, strict=True):
            first = plan.start + done
            if lits is None:
                cols.append(list(map((pre + b"%d" + post).__mod__, range(first, first + k))))
            elif split is not None:
                heads = map(split[0].__getitem__, ix)
                tails = map(split[1].__getitem__, ix)
                counters = range(first, first + k)
                cols.append(list(map(b"%s%d%s".__mod__, zip(heads, counters, tails, strict=True))))
            elif plan.unique:
                vals = map(self.pools[len(cols)].values.__getitem__, ix)  # type: ignore[union-attr]
                cols.append(
                    [
                        pre + sql_literal(make_unique(plan.kind, v, first + j)).encode() + post
                        for j, v in enumerate(vals)
                    ]
                )
            else:
                cols.append(list(map(lits.__getitem__, ix)))
        return cols


_Split = tuple[list[bytes], list[bytes]]
_Framed = tuple[bytes, bytes, list[bytes] | None, _Split | None]


def _unique_split(kind: str, literals: list[bytes]) -> tuple[list[bytes], list[bytes]] | None:
    """Each text literal cut where ``make_unique`` puts its counter; None for other values."""
    if kind == "uuid" or not all(lit[:1] == b"'" for lit in literals):
        return None
    if kind == "email" and not all(b"@" in lit for lit in literals):
        return None
    if kind == "email":
        cuts = [lit.rfind(b"@") for lit in literals]
        heads = [lit[:c] + b"." for lit, c in zip(literals, cuts, strict=True)]
        return heads, [lit[c:] for lit, c in zip(literals, cuts, strict=True)]
    return [lit[:-1] + b"-" for lit in literals], [b"'"] * len(literals)


def fake_rows(
    schema: TableSchema,
    n: int,
    *,
    seed: int,
    locale: str = "en_US",
    start_ids: Mapping[str, int] | None = None,
) -> Iterator[tuple[object, ...]]:
    """Yield ``n`` fake rows for ``schema`` (values in column order); same seed, same rows.

    ``start_ids`` maps a key column to the table's current maximum: keys continue after it.
    """
    cols = _Columns(schema, seed, locale, start_ids or {})
    done = 0
    while done < n:
        k = min(BATCH, n - done)
        yield from zip(*cols.values(done, k, cols.draw(k)), strict=True)
        done += k


class _Packer:
    """Greedy statement packing, byte-identical to ``InsertWriter``, a batch at a time."""

    def __init__(self, write: Write, prefix: bytes) -> None:
        self.write, self.prefix = write, prefix
        self.room = STATEMENT_LIMIT - len(prefix)  # for the rows, each with its ',' or ';'
        self.pending: list[bytes] = []
        self.used = 0
        self.statements = self.bytes_written = 0

    def add(self, rows: list[bytes]) -> None:
        """Pack rows that each fit a statement of their own."""
        ends = list(map(add, accumulate(map(len, rows)), range(1, len(rows) + 1)))
        start, base = 0, 0
        while start < len(rows):
            cut = bisect_right(ends, base + self.room - self.used, lo=start)
            if cut == start:  # the pending statement is full
                self._emit()
                continue
            self.pending += rows[start:cut]
            self.used += ends[cut - 1] - base
            base, start = ends[cut - 1], cut
            if start < len(rows):
                self._emit()

    def _emit(self) -> None:
        data = self.prefix + b",".join(self.pending) + b";\n"
        self.write(data)
        self.statements += 1
        self.bytes_written += len(data)
        self.pending, self.used = [], 0

    def close(self) -> None:
        """Write the pending statement."""
        if self.pending:
            self._emit()


def write_fake_sql(
    schema: TableSchema,
    n: int,
    out: Write,
    *,
    seed: int,
    locale: str = "en_US",
    start_ids: Mapping[str, int] | None = None,
    progress: Callable[[PrepareProgress], None] | None = None,
    cancel: threading.Event | None = None,
) -> FakeReport:
    """Write INSERTs for ``n`` fake rows to ``out``: the bytes ``InsertWriter`` would write."""
    cols = _Columns(schema, seed, locale, start_ids or {})
    names = [c.name for c in schema.columns]
    key = schema.key_column
    packer = _Packer(out, insert_prefix(schema.name, names).encode())
    writer: InsertWriter | None = None  # takes over if a row is too long for one statement
    framed = cols.framed()
    done = batches = 0
    while done < n:
        if cancel is not None and cancel.is_set():
            raise ImportCancelledError("cancelled while generating fake rows")
        k = min(BATCH, n - done)
        idx = cols.draw(k)
        rows = list(map(b",".join, zip(*cols.literals(done, k, idx, framed), strict=True)))
        if writer is None and max(map(len, rows)) + 1 <= packer.room:
            packer.add(rows)
        else:
            if writer is None:
                writer = InsertWriter(out, schema.name, names, key_column=key)
                for row in packer.pending:
                    writer.add_rendered(row, ())
                packer.pending = []
            values = zip(*cols.values(done, k, idx), strict=True)
            for row, vals in zip(rows, values, strict=True):
                writer.add_rendered(row, vals)
        done += k
        batches += 1
        if progress is not None and batches % _PROGRESS_EVERY == 0:
            progress(_progress(done, packer, writer))
    packer.close()
    if writer is not None:
        writer.close()
    if progress is not None:
        progress(_progress(done, packer, writer))
    first = next((p.start for p in cols.plans if p.serial and p.name == key), None)
    statements, written = _totals(packer, writer)
    return FakeReport(schema.name, n, statements, written, first)


def _totals(packer: _Packer, writer: InsertWriter | None) -> tuple[int, int]:
    if writer is None:
        return packer.statements, packer.bytes_written
    return packer.statements + writer.statements, packer.bytes_written + writer.bytes_written


def _progress(rows: int, packer: _Packer, writer: InsertWriter | None) -> PrepareProgress:
    statements, written = _totals(packer, writer)
    return PrepareProgress(
        bytes_read=0, total_bytes=None, rows=rows, statements=statements, bytes_written=written
    )
