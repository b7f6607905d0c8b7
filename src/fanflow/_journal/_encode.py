"""What the journal stores: every text redacted, every JSON value valid JSON.

This is the journal writer's one chokepoint (`Journal._write` calls
`sql_param` on every parameter), so a field added later is redacted without
anyone remembering to. Two kinds of parameter pass unchanged:

- `Exact`: identifiers fanflow makes itself (run ids, statuses, hashes) and the
  two texts a resume must find unchanged (the script, the workspace path). A run id
  starts with a date, so a numeric-looking secret such as `20261201` would
  otherwise rewrite the key every later query looks up.
- `Stored`: JSON that `stored_json` already redacted value by value. Replacing
  a secret inside JSON *text* is what broke `{"n": 20261201}` into invalid JSON;
  here strings are redacted as strings, a number whose digits hold a secret
  becomes the string `"[redacted]"`, and NaN or Infinity become `null`
  (docs/SECURITY.md), so the journal never holds what `json.loads` in another
  language, or `json.dumps(allow_nan=False)`, would refuse.
"""

from __future__ import annotations

import json
import math
from typing import Any

from .._redact import MARK, redact, secret_values

_MAX_DEPTH = 400  # deeper values are cut with a marker, not a RecursionError mid-write


class Exact(str):
    """Stored exactly as given: an identifier fanflow made, or text resume needs as is."""


class Stored(str):
    """JSON text already redacted by `stored_json`: stored as is."""


def sql_param(value: Any, secrets: list[str] | None = None) -> Any:
    """One SQL parameter as the journal stores it (`secrets`: `secret_values()`, if known)."""
    if isinstance(value, Exact | Stored):
        return str(value)
    if isinstance(value, str):
        return _without(value, secret_values() if secrets is None else secrets)
    return value


def sql_params(values: tuple) -> tuple:
    """Every parameter of one statement, with the secrets looked up once, not per value."""
    secrets = secret_values()
    return tuple(sql_param(v, secrets) for v in values)


def _without(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MARK)
    return text


def stored_json(value: Any) -> Stored:
    """`value` as JSON for the journal: redacted, finite, always valid."""
    clean = safe_value(value)
    return Stored(json.dumps(clean, ensure_ascii=False, allow_nan=False))


def safe_value(value: Any) -> Any:
    """`value` as plain JSON data, secrets redacted and non-finite numbers `None`."""
    return _walk(value, secret_values(), set(), 0)


def finite_value(value: Any) -> Any:
    """`value` as plain JSON data with NaN and Infinity as `None`; text untouched."""
    return _walk(value, [], set(), 0)


def _walk(value: Any, secrets: list[str], path: set[int], depth: int) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return redact(value) if secrets else value
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        text = repr(value)
        return MARK if any(s in text for s in secrets) else value
    if depth >= _MAX_DEPTH:
        return "[nested too deep]"
    if isinstance(value, dict | list | tuple):
        if id(value) in path:
            return "[cycle]"
        path.add(id(value))
        try:
            if isinstance(value, dict):
                return {
                    _key(k, secrets): _walk(v, secrets, path, depth + 1) for k, v in value.items()
                }
            return [_walk(v, secrets, path, depth + 1) for v in value]
        finally:
            path.discard(id(value))
    # what json.dumps(default=repr) did before, redacted like any other text
    return redact(repr(value))


def _key(key: Any, secrets: list[str]) -> str:
    if isinstance(key, str):
        text = key
    elif key is None or isinstance(key, bool | int | float):
        text = json.dumps(key)  # the key json.dumps itself would write: "null", "1", "NaN"
    else:
        text = repr(key)
    return redact(text) if secrets else text


def loads(text: str | None) -> Any:
    """Read a stored JSON value; older journals may hold NaN or a redaction that broke it."""
    if text is None:
        return None
    try:
        return json.loads(text, parse_constant=lambda _name: None)
    except ValueError:
        return text  # invalid JSON (a pre-fix redaction): show the text rather than crash
