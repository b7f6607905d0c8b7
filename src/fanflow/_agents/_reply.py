"""Caps on what one model reply may make an agent hold and run.

A reply is the model's (untrusted) output: its text and tool-call arguments
are kept in the conversation and re-sent on every later turn, and each tool
call's result is too. One reply once asked for 2,000 tool calls, and the
agent held 345 MB. So, per agent:

- a reply whose text and tool-call arguments pass `MAX_REPLY_CHARS` fails
  the agent (more than any model's `max_tokens` can make: a broken or hostile
  provider);
- at most `MAX_TOOL_CALLS_PER_REPLY` calls of a reply run; each call past it
  gets an error result telling the model to ask for fewer at once;
- tool results (each already cut at 60,000 characters) add up to at most
  `MAX_AGENT_TOOL_CHARS` in the conversation, more than a model's context
  holds; past it a result is replaced by an error asking for an answer.
"""

from __future__ import annotations

import asyncio

from .._errors import ModelError
from .._limits import MAX_AGENT_TOOL_CHARS, MAX_REPLY_CHARS, MAX_TOOL_CALLS_PER_REPLY
from .._models import ModelResponse, ToolCall, ToolResult
from .._sizes import json_chars
from ._tools import AgentTools

TOO_MANY = (
    f"not run: this reply asked for more than {MAX_TOOL_CALLS_PER_REPLY} tool calls, "
    f"and only the first {MAX_TOOL_CALLS_PER_REPLY} run; ask for fewer at once"
)
_FULL = (
    f"this agent's tool results reached {MAX_AGENT_TOOL_CHARS:,} characters, more than "
    "a model's context holds; answer with what you have"
)
TOOLS_FULL = f"not run: {_FULL}"
DROPPED = f"the call ran, but its result is dropped: {_FULL}"


class ReplyCaps:
    """One agent's running totals; `check` each reply, then `run_tools` its calls."""

    def __init__(self) -> None:
        self.tool_chars = 0
        self.full = False
        """Set once a result had to be dropped: later calls do not run at all."""

    def check(self, reply: ModelResponse) -> None:
        """A `ModelError` (the agent fails) for a reply too big to keep."""
        size = len(reply.text) if isinstance(reply.text, str) else 0
        for call in reply.tool_calls:
            if size > MAX_REPLY_CHARS:
                break
            size += json_chars([call.name, call.input], MAX_REPLY_CHARS - size + 1)
        if size > MAX_REPLY_CHARS:
            raise ModelError(
                f"the model's reply is over {MAX_REPLY_CHARS:,} characters (text and tool "
                "arguments); no max_tokens allows that, so the reply is refused"
            )

    async def run_tools(self, tools: AgentTools, calls: list[ToolCall]) -> list[ToolResult]:
        """Results for every call, in order: the first calls run, the rest get an error."""
        run = calls[:MAX_TOOL_CALLS_PER_REPLY]
        if self.full:
            kept = [ToolResult(c.id, TOOLS_FULL, is_error=True) for c in run]
        else:
            kept = [self._kept(r) for r in await asyncio.gather(*(tools.execute(c) for c in run))]
        return kept + [ToolResult(c.id, TOO_MANY, is_error=True) for c in calls[len(run) :]]

    def _kept(self, result: ToolResult) -> ToolResult:
        if self.full or self.tool_chars + len(result.content) > MAX_AGENT_TOOL_CHARS:
            self.full = True
            return ToolResult(result.call_id, DROPPED, is_error=True)
        self.tool_chars += len(result.content)
        return result
