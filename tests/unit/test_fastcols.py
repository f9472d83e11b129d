"""Bulk REAL rendering equals ``sqlgen.float_literal`` value by value, whatever the column."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from d1tui.convert.fast.columns import (
    _REPR_COLUMN,
    SEP,
    decimal_literals,
    float_literals,
    render_real,
)
from d1tui.convert.sql.inserts import float_literal

FLOATS = st.floats(allow_nan=False, allow_infinity=False)
# decimal texts as CSV files hold them: short, long, with and without leading/trailing zeros
DECIMALS = st.builds(
    lambda sign, whole, frac, exp: (
        f"{sign}{whole}{'.' if frac is not None else ''}{frac or ''}{exp}"
    ),
    st.sampled_from(["", "-"]),
    st.one_of(st.just("0"), st.integers(0, 10**17).map(str)),
    st.one_of(st.none(), st.just("0"), st.text("0123456789", min_size=1, max_size=20)),
    st.one_of(st.just(""), st.integers(-30, 30).map(lambda e: f"e{e}")),
)


def _reference(floats: list[float]) -> list[bytes]:
    return [float_literal(f).encode() for f in floats]


@settings(max_examples=300, deadline=None)
@given(st.lists(FLOATS, min_size=1, max_size=50))
def test_bulk_literals_equal_the_literal_of_each_float(floats: list[float]) -> None:
    assert float_literals(floats) == _reference(floats)


@settings(max_examples=300, deadline=None)
@given(st.lists(DECIMALS, min_size=1, max_size=50))
def test_a_column_of_decimal_texts_renders_as_their_floats_do(texts: list[str]) -> None:
    col = [t.encode() for t in texts]
    got = render_real(col)
    if got is not None:  # None: outside what the fast path takes (leading zeros, 19 digits, …)
        assert got == _reference([float(t) for t in texts])


@settings(max_examples=300, deadline=None)
@given(st.lists(FLOATS.map(repr), min_size=1, max_size=50))
def test_texts_the_repr_pattern_accepts_are_their_own_repr(texts: list[str]) -> None:
    """The claim the text path rests on: a short text in the pattern is the float's repr."""
    for text in texts:
        if len(text) <= 16 and _REPR_COLUMN.fullmatch(text.encode()):
            assert repr(float(text)) == text
    short = [t.encode() for t in texts if "e" not in t and len(t) <= 16]
    if short:
        assert decimal_literals(short) == _reference([float(t) for t in short])


def test_the_pattern_refuses_what_repr_would_write_otherwise() -> None:
    for text in ["2.50", "007.5", "1e3", "5", "0.00001", "+1.5", ".5", "5.", "-0", "1.0e2"]:
        assert not _REPR_COLUMN.fullmatch(text.encode()), text
    for text in ["2.5", "0.0001", "-0.0", "1428.0", "-500.123", "0.5"]:
        assert _REPR_COLUMN.fullmatch(text.encode()), text
    assert _REPR_COLUMN.fullmatch(SEP.join([b"1.5", b"-2.25", b"0.0"]))


def test_empty_fields_are_null_and_the_rest_exact() -> None:
    col = [b"2855.63", b"", b"-0.05", b"1428.0", b"", b"0.30000000000000004"]
    got = render_real(col)
    assert got is not None
    assert got[1] == got[4] == b"NULL"
    assert [g for i, g in enumerate(got) if i not in (1, 4)] == _reference(
        [2855.63, -0.05, 1428.0, 0.30000000000000004]
    )
    assert got[0] == b"(285563.0/100)" and got[2] == b"(-5.0/100)" and got[3] == b"1428.0"


def test_every_float_bit_pattern_class_matches() -> None:
    """Subnormals, powers of two, huge and tiny values, negative zero: bulk = one by one."""
    floats = [
        struct.unpack("<d", struct.pack("<Q", bits))[0]
        for bits in (1, 2**52 - 1, 2**52, 0x3FF0000000000001, 0x7FEFFFFFFFFFFFFF, 2**63)
    ]
    floats += [2.0**k for k in range(-1074, 1024, 97)] + [-0.0, 0.0, 1e15, 1e16, 9007199254740993.0]
    assert float_literals(floats) == _reference(floats)
