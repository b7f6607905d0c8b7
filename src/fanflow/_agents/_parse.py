"""Turning a model's final text into a value, defensively.

Models wrap JSON in prose, code fences, or cut it short at the token limit.
A reply that holds one JSON value anywhere is that value; otherwise it is text.
"""

from __future__ import annotations

import json
import re
from typing import Any

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n(.*?)\n?```", re.DOTALL)
_DECODER = json.JSONDecoder()


def parse_reply(text: str) -> Any:
    """The JSON value in `text` if there is one, else the stripped text."""
    stripped = text.strip()
    for candidate in _candidates(stripped):
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    for start, char in enumerate(stripped):
        if char in "{[":
            try:
                value, _ = _DECODER.raw_decode(stripped, start)
                return value
            except ValueError:
                continue
    return stripped


def _candidates(text: str) -> list[str]:
    found = [text]
    found += [m.group(1).strip() for m in _FENCE.finditer(text)]
    return found


def looks_like_truncated_json(text: str) -> bool:
    """True when the reply starts a JSON value it never finishes."""
    stripped = _FENCE.sub(lambda m: m.group(1), text).strip()
    return stripped[:1] in "{[" and isinstance(parse_reply(stripped), str)
