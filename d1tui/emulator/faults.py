"""Injectable faults: latency, error statuses, dropped connections, bad ETags, spurious answers."""

from __future__ import annotations

import threading
from dataclasses import dataclass

OPS = frozenset(
    {
        "verify",
        "list",
        "get",
        "create",
        "delete",
        "query",
        "raw",
        "init",
        "ingest",
        "poll",
        "upload",
        "export",
        "download",
    }
)
KINDS = frozenset({"latency", "status", "drop", "wrong_etag", "no_etag", "not_importing"})

# Kinds that only make sense for some operations; elsewhere they never fire.
_ONLY_FOR = {
    "wrong_etag": {"upload"},
    "no_etag": {"upload"},
    "not_importing": {"ingest", "poll"},
}


@dataclass
class Fault:
    """One planned misbehaviour; fires `times` times, then is gone."""

    op: str
    kind: str
    times: int = 1
    status: int | None = None
    code: int | None = None
    message: str | None = None
    retry_after: float | None = None
    delay: float | None = None
    after_bytes: int | None = None

    def applies_to(self, op: str) -> bool:
        """Whether this fault targets `op` and its kind makes sense there."""
        allowed = _ONLY_FOR.get(self.kind)
        return (self.op in ("*", op)) and (allowed is None or op in allowed)


@dataclass(frozen=True)
class Firing:
    """The faults that fire for one request: every latency, then at most one other fault."""

    delay: float
    fault: Fault | None


class Faults:
    """The emulator's fault plan (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(
        self,
        op: str,
        kind: str,
        *,
        times: int = 1,
        status: int | None = None,
        code: int | None = None,
        message: str | None = None,
        retry_after: float | None = None,
        delay: float | None = None,
        after_bytes: int | None = None,
    ) -> Fault:
        """Plan a fault for an operation (or "*" for any)."""
        if op != "*" and op not in OPS:
            raise ValueError(f"unknown op {op!r}; expected one of {sorted(OPS)} or '*'")
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(KINDS)}")
        if kind == "status" and (status is None or not 400 <= status <= 599):
            raise ValueError("a 'status' fault needs status=<400..599>")
        if kind == "latency" and (delay is None or delay < 0):
            raise ValueError("a 'latency' fault needs delay=<seconds>")
        if times < 1:
            raise ValueError("times must be at least 1")
        fault = Fault(op, kind, times, status, code, message, retry_after, delay, after_bytes)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Forget every planned fault."""
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[Fault]:
        """Faults not yet used up (a copy)."""
        with self._lock:
            return list(self._faults)

    def take(self, op: str) -> Firing:
        """Consume the faults that fire for one request of `op`."""
        delay = 0.0
        chosen: Fault | None = None
        with self._lock:
            for fault in list(self._faults):
                if not fault.applies_to(op):
                    continue
                if fault.kind == "latency":
                    delay += fault.delay or 0.0
                elif chosen is None:
                    chosen = fault
                else:
                    continue
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
        return Firing(delay, chosen)
