"""Keep secrets out of everything fanflow writes.

Any environment variable whose name ends in `_KEY`, `_TOKEN` or `_SECRET`
(API keys included) is a secret; its value is replaced by `[redacted]` in the
journal, events, logs and error messages.
"""

from __future__ import annotations

import os
from typing import Any

_SUFFIXES = ("_KEY", "_TOKEN", "_SECRET")
MARK = "[redacted]"
_MIN_SECRET_LEN = 8


_cache: tuple[Any, list[str]] = ((), [])


def secret_values() -> list[str]:
    """Current secret values, longest first so overlapping ones redact whole."""
    global _cache
    # redact runs several times per agent; decoding the whole environment each time
    # was a measurable share of a run's CPU, so the answer is kept until it changes
    snapshot = tuple(getattr(os.environ, "_data", os.environ).items())
    if snapshot == _cache[0]:
        return _cache[1]
    values = {
        v
        for k, v in os.environ.items()
        if k.upper().endswith(_SUFFIXES) and len(v) >= _MIN_SECRET_LEN
    }
    _cache = (snapshot, sorted(values, key=len, reverse=True))
    return _cache[1]


def redact(text: str | None) -> str | None:
    """`text` with every secret value replaced."""
    if not text:
        return text
    for value in secret_values():
        if value in text:
            text = text.replace(value, MARK)
    return text
