"""The answers planted in the sample, one comment line each, and what a conversation read.

// planted: finding id=R1 confidence=0.9 lines=27-32 state=oauthTokens bug="..." fix="..."
// planted: refute id=FP1 reason="..."
// planted: related path=./void.ts
// planted: cross id=X1 files=src/billing/invoice.ts,src/billing/void.ts state=... bug="..."
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

from fanflow import Message

_MARKER = re.compile(r"planted:\s*(finding|refute|related|cross)\s+(.*)$", re.MULTILINE)
_PATH = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w-]+\.[A-Za-z]{1,5})(?![\w/])")


def parse_markers(text: str) -> list[dict[str, Any]]:
    """Every `planted:` marker in `text`, as dicts with a `kind` key."""
    found = []
    for kind, rest in _MARKER.findall(text):
        try:
            pairs = shlex.split(rest.strip().rstrip("*/").strip())
        except ValueError:
            continue
        fields: dict[str, Any] = {"kind": kind}
        for pair in pairs:
            key, _, value = pair.partition("=")
            fields[key] = float(value) if key == "confidence" else value
        found.append(fields)
    return found


def mentioned_paths(prompt: str) -> list[str]:
    """The file paths a prompt names, in order (at most 8)."""
    seen: dict[str, None] = {}
    for path in _PATH.findall(prompt):
        if not path[0].isdigit():
            seen.setdefault(path)
    return list(seen)[:8]


def files_read(messages: list[Message]) -> dict[str, str]:
    """Path -> content of every file this conversation read successfully."""
    asked = {c.id: c.input.get("path") for m in messages for c in m.tool_calls if c.name == "read"}
    return {
        asked[r.call_id]: r.content
        for m in messages
        for r in m.tool_results
        if r.call_id in asked and not r.is_error
    }


def paths_asked(messages: list[Message]) -> set[str]:
    """Every path this conversation asked to read, whether or not the read was allowed."""
    return {c.input.get("path") for m in messages for c in m.tool_calls if c.name == "read"}


def billed_text(messages: list[Message]) -> str:
    """What a provider bills as input: texts, tool calls and tool results."""
    return "".join(
        m.text
        + "".join(json.dumps(c.input) for c in m.tool_calls)
        + "".join(r.content for r in m.tool_results)
        for m in messages
    )
