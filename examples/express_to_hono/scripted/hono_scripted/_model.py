"""`HonoScriptedModel`: one Express-to-Hono migration in three model calls.

Every request it gets is a migrator's turn, decided from the conversation
alone: with nothing read yet it reads every file the prompt names; once it has
read an Express route (and its `node:test` test) it writes both rewritten;
after the writes it answers `{"file", "test", "changed"}`. `changed` is false,
with a `reason`, when it found no Express route, was not granted `write`, or a
write was refused.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fanflow import Message, Model, ModelRequest, ModelResponse, ToolCall, Usage

from ._rewrite import EXPRESS_IMPORT, rewrite_route, rewrite_test

# `users.test.js` is one path, not `users.te` plus the rest
_PROMPT_PATH = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w.-]*\w\.[A-Za-z]{1,5})(?![\w/]|\.\w)")
_NUMBERED = re.compile(r"^ *\d+  (.*)$")


def _tokens(text: str) -> int:
    return max(1, (len(text) + 3) // 4)


class HonoScriptedModel(Model):
    """The scripted model behind `--model hono-scripted`."""

    supports_mid_system = True
    scripted = (
        "the express_to_hono rewriter: textual Express-to-Hono rules play the migrators; "
        "no LLM wrote any code"
    )

    def __init__(self, *, name: str = "hono-scripted") -> None:
        self.name = name

    def price(self, usage: Usage) -> float | None:
        return 0.0  # offline: nothing is spent

    async def request(self, req: ModelRequest) -> ModelResponse:
        prompt = next((m.text for m in req.messages if m.role == "user" and m.text), "")
        text, calls = migrator_turn(prompt, req.messages, {t.name for t in req.tools})
        billed = req.system + "".join(
            m.text + "".join(r.content for r in m.tool_results) for m in req.messages
        )
        usage = Usage(
            input_tokens=_tokens(billed),
            output_tokens=_tokens(text + json.dumps([c.input for c in calls])),
        )
        stop = "tool_use" if calls else "end_turn"
        return ModelResponse(text=text, tool_calls=calls, usage=usage, stop_reason=stop)


def migrator_turn(
    prompt: str, messages: list[Message], tool_names: set[str]
) -> tuple[str, list[ToolCall]]:
    """The next reply of a migrator agent: (answer text, tool calls)."""
    reads, writes = _tool_history(messages)
    if not reads and not writes and "read" in tool_names:
        paths = prompt_paths(prompt)
        if paths:
            return "", [ToolCall(f"read_{i}", "read", {"path": p}) for i, p in enumerate(paths)]
    route = next((p for p, text in reads.items() if EXPRESS_IMPORT.search(text)), None)
    test = next((p for p, text in reads.items() if "node:test" in text and p != route), None)
    answer: dict[str, Any] = {"file": route or "", "test": test or "", "changed": False}
    if route is None:
        answer["reason"] = "no Express route among the files I could read"
        return json.dumps(answer), []
    if not writes:
        if "write" not in tool_names:
            answer["reason"] = "the write tool was not granted"
            return json.dumps(answer), []
        new_route = rewrite_route(reads[route])
        files = [(route, new_route)]
        if test is not None:
            files.append((test, rewrite_test(reads[test])))
        calls = [
            ToolCall(f"write_{i}", "write", {"path": p, "text": t})
            for i, (p, t) in enumerate(files)
        ]
        return "", calls
    failed = [p for p, ok in writes.items() if not ok]
    answer["changed"] = not failed
    if failed:
        answer["reason"] = "could not write " + ", ".join(failed)
    return json.dumps(answer), []


def prompt_paths(prompt: str) -> list[str]:
    """File paths named in the prompt, in order; `users.test.js` counts as one."""
    seen: dict[str, None] = {}
    for path in _PROMPT_PATH.findall(prompt):
        if not path[0].isdigit():
            seen.setdefault(path)
    return list(seen)[:8]


def _tool_history(messages: list[Message]) -> tuple[dict[str, str], dict[str, bool]]:
    """What the agent read ({path: source}) and wrote ({path: succeeded})."""
    calls = {c.id: c for m in messages for c in m.tool_calls}
    reads: dict[str, str] = {}
    writes: dict[str, bool] = {}
    for m in messages:
        for result in m.tool_results:
            call = calls.get(result.call_id)
            if call is None:
                continue
            path = str(call.input.get("path", ""))
            if call.name == "read" and not result.is_error:
                reads[path] = unnumber(result.content)
            elif call.name == "write":
                writes[path] = not result.is_error
    return reads, writes


def unnumber(content: str) -> str:
    """A file's text from the read tool's numbered lines."""
    lines = []
    for line in content.splitlines():
        match = _NUMBERED.match(line)
        lines.append(match.group(1) if match else line)
    return "\n".join(lines) + "\n"
