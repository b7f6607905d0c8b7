"""The subagent loop: one fresh conversation from prompt to final answer.

model call -> run the tool calls it asks for (concurrently) -> feed results
back -> ... until a final answer or the turn limit. Tool errors go back to
the model; they never crash the agent. With a JSON Schema the answer is
validated and gets one repair turn.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from .. import _schemas as schemas
from .._errors import ModelError
from .._models import Message, Model, ModelRequest, Usage
from ._definitions import AgentDefinition
from ._parse import looks_like_truncated_json, parse_reply
from ._tools import AgentTools

ANSWER_NOW = "Answer now, following the instructions above."


@dataclass
class AgentJob:
    """Everything one subagent run needs."""

    definition: AgentDefinition
    prompt: str
    model: Model
    tools: AgentTools
    max_tokens: int
    effort: str | None = None
    schema: dict[str, Any] | None = None
    context: list[Message] = field(default_factory=list)
    """Blocks after the prompt (the fan-in data of `synthesize`)."""
    max_turns: int = 24
    before_request: Callable[[], None] = lambda: None
    """Called before every model request; raises to stop (the run's budget check)."""


@dataclass
class AgentOutcome:
    value: Any
    turns: int
    attempts: int = 1
    """Model calls made, retries included (one agent however many retries)."""


async def run_agent(job: AgentJob, on_usage: Callable[[Usage], None]) -> AgentOutcome:
    """Drive one subagent to its final value; raises `ModelError` when it cannot."""
    messages = [Message("user", job.prompt), *job.context]
    if job.context:  # the conversation ends on the ask, after the context blocks
        messages.append(Message("user", ANSWER_NOW))
    repaired = False
    calls = 0
    for turn in range(1, job.max_turns + 1):
        job.before_request()
        reply = await job.model.request(
            ModelRequest(
                system=job.definition.system_prompt,
                messages=list(messages),
                tools=job.tools.specs(),
                max_tokens=job.max_tokens,
                effort=job.effort,
                schema=job.schema,
            )
        )
        on_usage(reply.usage)
        calls += 1 + reply.retries
        if reply.tool_calls:
            messages.append(Message("assistant", reply.text, tool_calls=reply.tool_calls))
            results = await asyncio.gather(*(job.tools.execute(c) for c in reply.tool_calls))
            messages.append(Message("user", tool_results=list(results)))
            continue
        problem = _problem(reply.text, reply.stop_reason, job.schema)
        if problem is None:
            return AgentOutcome(parse_reply(reply.text), turn, calls)
        if repaired or job.schema is None:
            raise ModelError(problem)
        repaired = True
        messages.append(Message("assistant", reply.text))
        messages.append(
            Message(
                "user",
                f"{problem}. Answer again with only a JSON value "
                f"matching this schema:\n{json.dumps(job.schema)}",
            )
        )
    raise ModelError(
        f"no final answer after {job.max_turns} turns (the turn limit); "
        "give the agent a narrower task"
    )


def _problem(text: str, stop_reason: str, schema: dict[str, Any] | None) -> str | None:
    if not text.strip():
        return "the model returned an empty answer"
    if stop_reason == "max_tokens" and looks_like_truncated_json(text):
        return "the answer was cut at max_tokens mid-JSON; raise max_tokens"
    if schema is None:
        return None
    value = parse_reply(text)
    try:
        error = schemas.first_error(value, schema)
    except jsonschema.SchemaError as exc:
        raise ModelError(
            f"the schema given to spawn() is not valid JSON Schema: {exc.message}"
        ) from None
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "the top level"
    return f"the answer does not match the schema at {where}: {error.message}"
