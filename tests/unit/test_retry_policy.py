"""Retry rules: backoff math, Retry-After parsing, which calls may be repeated."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from d1tui.api.retry import CallKind, RetryPolicy, parse_retry_after, should_retry
from d1tui.errors import (
    AuthError,
    ImportBusyError,
    NetworkError,
    RateLimitedError,
    ServerError,
    SQLError,
)


def test_backoff_doubles_to_the_cap_and_jitter_only_shortens() -> None:
    policy = RetryPolicy(base=0.5, cap=8.0, jitter=0.25)
    assert [policy.backoff(n, rand=lambda: 0.0) for n in range(1, 7)] == [
        0.5,
        1.0,
        2.0,
        4.0,
        8.0,
        8.0,
    ]
    assert policy.backoff(3, rand=lambda: 1.0) == pytest.approx(1.5)
    assert RetryPolicy(jitter=0.0).backoff(2, rand=lambda: 0.9) == 1.0


def test_retry_after_wins_but_is_capped() -> None:
    policy = RetryPolicy(max_retry_after=60.0)
    assert policy.delay(1, retry_after=3.0) == 3.0
    assert policy.delay(1, retry_after=600.0) == 60.0
    assert policy.delay(2, retry_after=None, rand=lambda: 0.0) == 1.0


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after({"Retry-After": "12"}) == 12.0
    assert parse_retry_after({"retry-after": " 0.5 "}) == 0.5
    assert parse_retry_after({"retry-after-ms": "250", "Retry-After": "9"}) == 0.25
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC).timestamp()
    date = format_datetime(datetime(2026, 1, 1, 12, 0, 30, tzinfo=UTC), usegmt=True)
    assert parse_retry_after({"Retry-After": date}, now=lambda: now) == pytest.approx(30.0)
    past = format_datetime(datetime(2025, 1, 1, tzinfo=UTC), usegmt=True)
    assert parse_retry_after({"Retry-After": past}, now=lambda: now) == 0.0
    assert parse_retry_after({"Retry-After": "soon"}) is None
    assert parse_retry_after({"Retry-After": "-3"}) is None
    assert parse_retry_after({}) is None


def test_which_failures_are_repeated_per_call_kind() -> None:
    limited = RateLimitedError("slow")
    server = ServerError("boom")
    net = NetworkError("reset")
    for kind in (CallKind.SAFE, CallKind.UNSAFE):
        assert should_retry(kind, limited, request_sent=True)
    assert should_retry(CallKind.SAFE, server, request_sent=True)
    assert not should_retry(CallKind.UNSAFE, server, request_sent=True)
    assert should_retry(CallKind.SAFE, net, request_sent=True)
    assert not should_retry(CallKind.UNSAFE, net, request_sent=True)  # e.g. read timeout
    assert should_retry(CallKind.UNSAFE, net, request_sent=False)  # connect refused
    for error in (limited, server, net):
        assert not should_retry(CallKind.NEVER, error, request_sent=False)
    for error in (AuthError("no"), SQLError("bad"), ImportBusyError("busy")):
        assert not should_retry(CallKind.SAFE, error, request_sent=True)
