"""Strings for `format` and `pattern`: the `test` model's answers to constrained strings."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable

_TRIES = 512


def _stamp(f: float) -> tuple[int, int, int, int, int]:
    n = int(f * 365 * 24 * 60)
    day, minute = divmod(n, 24 * 60)
    return 2024, 1 + day // 31 % 12, 1 + day % 28, minute // 60, minute % 60


def _date(f: float) -> str:
    y, mo, d, _, _ = _stamp(f)
    return f"{y}-{mo:02d}-{d:02d}"


def _time(f: float) -> str:
    _, _, _, h, mi = _stamp(f)
    return f"{h:02d}:{mi:02d}:00Z"


def _tag(f: float) -> str:
    return f"{int(f * 16**6):06x}"


FORMATS: dict[str, Callable[[float], str]] = {
    "date-time": lambda f: f"{_date(f)}T{_time(f)}",
    "date": _date,
    "time": _time,
    "email": lambda f: f"test-{_tag(f)}@example.com",
    "idn-email": lambda f: f"test-{_tag(f)}@example.com",
    "uri": lambda f: f"https://example.com/test-{_tag(f)}",
    "iri": lambda f: f"https://example.com/test-{_tag(f)}",
    "uri-reference": lambda f: f"/test-{_tag(f)}",
    "iri-reference": lambda f: f"/test-{_tag(f)}",
    "uri-template": lambda f: "https://example.com/{id}",
    "uuid": lambda f: str(uuid.UUID(int=int(f * 2**128), version=4)),
    "hostname": lambda f: f"test-{_tag(f)}.example.com",
    "idn-hostname": lambda f: f"test-{_tag(f)}.example.com",
    "ipv4": lambda f: f"10.{int(f * 256) % 256}.{int(f * 65536) % 256}.1",
    "ipv6": lambda f: f"fd00::{int(f * 65536):x}",
    "duration": lambda f: f"P{1 + int(f * 30)}D",
    "json-pointer": lambda f: f"/test/{int(f * 100)}",
    "relative-json-pointer": lambda f: "0",
    "regex": lambda f: "^test",
}
"""A well-formed value per JSON Schema format, from a fraction in [0, 1)."""


def format_value(name: str, fraction: float) -> str | None:
    """A string of format `name`, or None for a format this module does not know."""
    make = FORMATS.get(name)
    return make(fraction) if make else None


def pattern_value(pattern: str, start: int, low: int, high: int | None, where: str) -> str:
    """A string matching `pattern` with a length in [low, high], the `start`-th that fits.

    exrex enumerates a regex's matches in a fixed order, so the answer is deterministic.
    """
    import exrex

    from ._schema_values import Unsatisfiable

    try:
        matches = exrex.generate(pattern, limit=max(20, low + 1))
        fitting = (
            s for s in itertools.islice(matches, _TRIES) if low <= len(s) <= (high or len(s))
        )
        found = list(itertools.islice(fitting, start + 1))
    except Exception as exc:  # exrex cannot read every regex (lookarounds, back references)
        raise Unsatisfiable("pattern", where, f"cannot generate from {pattern!r}: {exc}") from None
    if not found:
        raise Unsatisfiable("pattern", where, f"no match of {pattern!r} fits the lengths")
    return found[-1]
