"""When and how long to wait before repeating an API call: backoff, jitter, Retry-After.

Which calls may be repeated at all is decided per call in ``client.py`` (see ``CallKind``):

* ``SAFE`` calls (token verify, list/get databases, read-only queries, import ``init`` and
  ``poll``) are repeated on 429, 5xx and any network failure.
* ``UNSAFE`` calls (``query``/``raw`` that may write, create, delete) are repeated only when the
  server cannot have run them: a 429, or a connection that failed before the request was sent.
  Never after a read timeout or a 5xx, which may hide a statement that did run.
* ``NEVER`` (import ``ingest``, the upload PUT): the importer resolves those failures itself.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import StrEnum

from d1tui.errors import D1Error, NetworkError, RateLimitedError, ServerError


class CallKind(StrEnum):
    """How safe an API call is to repeat."""

    SAFE = "safe"
    UNSAFE = "unsafe"
    NEVER = "never"


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with jitter.

    Args:
        max_attempts: total tries, the first included.
        base: delay before the second try; it doubles each time.
        cap: the longest backoff delay.
        jitter: fraction of each delay that is random (0 = none, 1 = full jitter).
        max_retry_after: the longest server-requested ``Retry-After`` honoured.
        budget: the most seconds spent waiting over all retries of one call (None = no limit).
    """

    max_attempts: int = 4
    base: float = 0.5
    cap: float = 8.0
    jitter: float = 0.25
    max_retry_after: float = 60.0
    budget: float | None = None

    def backoff(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based), before jitter cap."""
        raw = min(self.cap, self.base * 2.0 ** max(0, attempt - 1))
        return raw * (1.0 - self.jitter * rand())

    def delay(
        self,
        attempt: int,
        retry_after: float | None = None,
        rand: Callable[[], float] = random.random,
    ) -> float:
        """Seconds to wait after try ``attempt``: the server's Retry-After (capped) or backoff."""
        if retry_after is not None and retry_after >= 0:
            return min(retry_after, self.max_retry_after)
        return self.backoff(attempt, rand)


@dataclass(frozen=True)
class RetryNotice:
    """A call failed and will be tried again after ``delay`` seconds."""

    operation: str
    attempt: int
    delay: float
    error: D1Error

    @property
    def reason(self) -> str:
        """The failure in one line (never contains request headers)."""
        return str(self.error)


def parse_retry_after(
    headers: Mapping[str, str], now: Callable[[], float] = time.time
) -> float | None:
    """Seconds the server asks us to wait: ``retry-after-ms``, ``Retry-After`` seconds or date."""
    lower = {k.lower(): v for k, v in headers.items()}
    millis = lower.get("retry-after-ms")
    if millis is not None:
        try:
            value = float(millis) / 1000.0
        except ValueError:
            value = -1.0
        if value >= 0:
            return value
    text = lower.get("retry-after")
    if text is None:
        return None
    text = text.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now())


def should_retry(kind: CallKind, error: D1Error, *, request_sent: bool) -> bool:
    """Whether ``error`` from a call of ``kind`` may be repeated (rules in the module docstring)."""
    if kind is CallKind.NEVER:
        return False
    if isinstance(error, RateLimitedError):
        return True
    if isinstance(error, NetworkError):
        return kind is CallKind.SAFE or not request_sent
    if isinstance(error, ServerError):
        return kind is CallKind.SAFE
    return False
