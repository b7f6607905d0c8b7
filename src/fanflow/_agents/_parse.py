"""Turning a model's final text into a value, defensively.

Models wrap JSON in prose, code fences, or cut it short at the token limit.
A reply that holds a JSON value is that value (the longest one when prose
holds several); a reply cut off mid-JSON is recognised as cut off, never
mistaken for one of the complete values nested inside it; else it is text.
"""

from __future__ import annotations

import json
import re
from typing import Any

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n(.*?)\n?```", re.DOTALL)
_OPEN_FENCE = re.compile(r"^```(?:json|JSON)?\s*\n")
_DECODER = json.JSONDecoder()
_NOTHING = object()


def parse_reply(text: str) -> Any:
    """The JSON value in `text` if there is one, else the stripped text."""
    stripped = text.strip()
    for candidate in [stripped, *(m.group(1).strip() for m in _FENCE.finditer(stripped))]:
        try:
            return json.loads(candidate)
        except (ValueError, RecursionError):  # nested past the decoder's depth: not a value
            continue
    value, _ = _scan(stripped)
    return stripped if value is _NOTHING else value


def looks_like_truncated_json(text: str) -> bool:
    """True when the reply opens a JSON value and the text ends before it closes."""
    stripped = _OPEN_FENCE.sub("", text.strip()).rstrip("`").strip()
    _, truncated = _scan(stripped)
    return truncated


def _scan(text: str) -> tuple[Any, bool]:
    """(longest complete JSON object/array in prose, whether one was cut off by the end).

    Each failed try from a bracket costs the characters it decoded before failing,
    so prose such as `[1,[1,[1,...x` would cost the square of its length; the tries
    share a budget linear in the text, and past it the best value so far stands.
    """
    best, best_len, position = _NOTHING, 0, 0
    work, budget = 0, 8 * len(text) + 100_000
    while True:
        starts = [i for i in (text.find("{", position), text.find("[", position)) if i >= 0]
        if not starts or work > budget:
            return best, False
        start = min(starts)
        try:
            value, end = _DECODER.raw_decode(text, start)
        except RecursionError:  # nested deeper than the decoder goes: prose, not a value
            position = start + 1
            work += budget // 64  # each try decoded a thousand levels before it gave up
            continue
        except json.JSONDecodeError as exc:
            if exc.pos >= len(text) - 1 or exc.msg.startswith("Unterminated string"):
                return (_NOTHING if start == _first_bracket(text) else best), True
            work += exc.pos - start
            position = start + 1
            continue
        if end - start > best_len:
            best, best_len = value, end - start
        position = end


def _first_bracket(text: str) -> int:
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    return min(starts) if starts else -1
