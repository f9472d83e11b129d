"""A value that never shows itself: the API token travels in this wrapper."""

from __future__ import annotations

from typing import Final

MASK: Final = "••••••••"


class Secret:
    """Holds a secret string; ``str``/``repr``/format never reveal it.

    Call :meth:`reveal` only where the value must leave the program (the
    ``Authorization`` header, the user's chosen secret store).
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value.strip()

    def reveal(self) -> str:
        """Return the secret itself."""
        return self._value

    def masked(self) -> str:
        """Return a fixed mask (empty when there is no secret)."""
        return MASK if self._value else ""

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __repr__(self) -> str:
        return f"Secret({self.masked()!r})"

    def __str__(self) -> str:
        return self.masked()

    def __format__(self, spec: str) -> str:
        return format(self.masked(), spec)

    def __reduce__(self) -> tuple[type[Secret], tuple[str]]:
        # Pickling (e.g. into a worker process) keeps the value; printing never does.
        return (Secret, (self._value,))
