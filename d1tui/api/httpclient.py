"""httpx, imported without its command-line extras.

``import httpx`` also imports ``httpx._main`` (its CLI), which loads ``rich`` and ``pygments``
whenever they are installed (Textual brings ``rich``). The domain layer must not load ``rich``,
and the CLI costs ~50 ms at start-up, so it is marked absent before httpx is first imported:
httpx then falls back to a stub ``main``.
"""

from __future__ import annotations

import sys

if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

import httpx

__all__ = ["httpx"]
