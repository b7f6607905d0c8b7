"""Reading a conversation as a provider-free model sees it: what was read, what is billed.

Shared by the models that answer without an LLM (`test`, the estimator).
"""

from __future__ import annotations

import json
import re

from ._base import Message, ModelRequest, ToolCall, estimate_tokens

_PATH = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w-]+\.[A-Za-z]{1,5})(?![\w/])")


def conversation_text(messages: list[Message]) -> str:
    """Everything a provider bills as input: texts, tool calls and tool results."""
    return "".join(
        m.text
        + "".join(json.dumps(c.input) for c in m.tool_calls)
        + "".join(r.content for r in m.tool_results)
        for m in messages
    )


def billed_input(req: ModelRequest) -> int:
    """Input tokens a provider would bill for `req`: system, tool schemas, conversation."""
    tools = json.dumps([t.input_schema for t in req.tools]) if req.tools else ""
    return estimate_tokens(req.system + tools + conversation_text(req.messages))


def opening(messages: list[Message]) -> str:
    """The conversation before the model's first turn: the prompt and any data block."""
    text = []
    for m in messages:
        if m.role == "assistant":
            break
        text.append(m.text)
    return "\n".join(text)


def first_reads(req: ModelRequest, id_prefix: str) -> list[ToolCall]:
    """On the first turn of an agent granted `read`: a read of each path its prompt names."""
    if not any(t.name == "read" for t in req.tools):
        return []
    if any(m.tool_results or m.tool_calls for m in req.messages):
        return []
    prompt = next((m.text for m in req.messages if m.role == "user"), "")
    paths = mentioned_paths(prompt)
    return [ToolCall(f"{id_prefix}_{i}", "read", {"path": p}) for i, p in enumerate(paths)]


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
