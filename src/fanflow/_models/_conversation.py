"""Reading a conversation as a provider-free model sees it: what was read, what is billed.

Shared by the models that answer without an LLM (`test`, the estimator).
"""

from __future__ import annotations

import json
import re

from ._base import Message

_PATH = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w-]+\.[A-Za-z]{1,5})(?![\w/])")


def conversation_text(messages: list[Message]) -> str:
    """Everything a provider bills as input: texts, tool calls and tool results."""
    return "".join(
        m.text
        + "".join(json.dumps(c.input) for c in m.tool_calls)
        + "".join(r.content for r in m.tool_results)
        for m in messages
    )


def files_read(messages: list[Message]) -> dict[str, str]:
    """Path -> content of every file this conversation read successfully."""
    asked = {c.id: c.input.get("path") for m in messages for c in m.tool_calls if c.name == "read"}
    return {
        asked[r.call_id]: r.content
        for m in messages
        for r in m.tool_results
        if r.call_id in asked and not r.is_error
    }


def mentioned_paths(prompt: str, limit: int = 8) -> list[str]:
    """Workspace-looking paths (`dir/name.ext`) a prompt names, in order, at most `limit`."""
    seen: dict[str, None] = {}
    for path in _PATH.findall(prompt):
        if not path[0].isdigit():
            seen.setdefault(path)
    return list(seen)[:limit]
