"""Put a run's own secrets back into a redacted tool result, proved by its fingerprint.

The journal stores every tool result redacted (`_encode`), so a replayed
`tools.read` of a file holding a secret would hand the script `[redacted]`,
and a script that wrote back what it read wrote `[redacted]` into the file.
The journal keeps, beside each result, the SHA-256 of what the caller really
got (`result_sha`). Here every way of filling the markers with the secrets
this process knows is tried (a bounded number), and a candidate counts only
if its fingerprint matches: the value is then exactly the one seen before,
never a guess. Nothing secret is stored for this; the secrets come from the
environment of the process that resumes, as redaction's do.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from .._redact import MARK, secret_values
from ._lifecycle import result_sha

MAX_CANDIDATES = 256


def restore(stored: Any, fingerprint: str | None) -> Any:
    """`stored` with its markers filled so it matches `fingerprint`; `None` if no filling does."""
    if fingerprint is None:
        return None
    for candidate in _candidates(stored, secret_values()):
        if result_sha(candidate) == fingerprint:
            return candidate
    return None


def _candidates(stored: Any, secrets: list[str]) -> Iterator[Any]:
    marks = _count(stored)
    if marks == 0:
        yield stored
        return
    if not secrets:
        return
    if len(secrets) ** marks <= MAX_CANDIDATES:
        fillings: Any = itertools.product(secrets, repeat=marks)
    else:  # too many to try each: one secret throughout, the common case
        fillings = ((secret,) * marks for secret in secrets)
    for filling in fillings:
        yield _fill(stored, iter(filling))


def _count(value: Any) -> int:
    if isinstance(value, str):
        return value.count(MARK)
    if isinstance(value, list):
        return sum(_count(v) for v in value)
    if isinstance(value, dict):
        return sum(_count(k) + _count(v) for k, v in value.items())
    return 0


def _fill(value: Any, filling: Iterator[str]) -> Any:
    """The markers in `value`, in JSON text order, replaced by the next secrets."""
    if isinstance(value, str):
        parts = value.split(MARK)
        out = parts[0]
        for part in parts[1:]:
            out += next(filling) + part
        return out
    if isinstance(value, list):
        return [_fill(v, filling) for v in value]
    if isinstance(value, dict):
        filled = {}
        for k, v in value.items():
            key = _fill(k, filling)
            filled[key] = _fill(v, filling)
        return filled
    return value
