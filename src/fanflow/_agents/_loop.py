"""The subagent loop: one fresh conversation from prompt to final answer.

model call -> run the tool calls it asks for (concurrently) -> feed results
back -> ... until a final answer or the turn limit. Tool errors go back to
the model; they never crash the agent. With a JSON Schema the answer is
validated and gets one repair turn. Whatever ends the agent, the loop answers
with an `AgentOutcome` (plain data); only cancellation propagates.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import jsonschema

from .. import _schemas as schemas
from .._budget import BudgetExceeded
from .._errors import AccountStop, FanflowError, ModelError
from .._models import FatalModelError, Message, Model, ModelRequest, Usage
from .._models._base import watching_begin
from ._parse import looks_like_truncated_json, parse_reply
from ._reply import ReplyCaps
from ._spec import ACCOUNT_STOP, BUDGET, CRASHED, FAILED, FATAL, AgentOutcome, AgentSpec
from ._tools import AgentTools

ANSWER_NOW = "Answer now, following the instructions above."


@dataclass
class AgentJob:
    """One spec bound to the live objects it runs against, in whatever thread runs it."""

    spec: AgentSpec
    model: Model
    tools: AgentTools
    reserve: Callable[[ModelRequest], Awaitable[Any]] = lambda req: _unbudgeted()
    """Awaited before every model request: returns once the call may be sent (its worst
    case reserved against the budget, its prefix's turn come), a ticket for `settle`;
    raises `BudgetExceeded` when it can never fit. A ticket's `on_begin`, if any, is
    called when the response begins."""
    settle: Callable[..., None] = lambda ticket, usage, answered=True: None
    """Called once per reserved call as it ends: `(ticket, usage)` when it answered,
    `(ticket, Usage(), answered=False)` when it failed, `(ticket, None, answered=False)`
    when it was cancelled in flight (billed unknown). Charges the budget, journals usage."""


async def _unbudgeted() -> None:
    return None


async def run_agent(job: AgentJob) -> AgentOutcome:
    """Drive one subagent to its end; every failure is an outcome, only cancellation raises."""
    used = Usage()
    try:
        value, turns, calls = await _converse(job, used)
    except BudgetExceeded as exc:
        return AgentOutcome(ok=False, error_kind=BUDGET, error=str(exc), usage=used)
    except AccountStop as exc:
        return AgentOutcome(ok=False, error_kind=ACCOUNT_STOP, error=str(exc), usage=used)
    except FatalModelError as exc:
        return AgentOutcome(ok=False, error_kind=FATAL, error=str(exc), usage=used)
    except FanflowError as exc:
        return AgentOutcome(ok=False, error_kind=FAILED, error=str(exc), usage=used)
    except Exception as exc:  # a provider bug must not take the other agents down
        message = f"{type(exc).__name__}: {exc}"
        return AgentOutcome(ok=False, error_kind=CRASHED, error=message, usage=used)
    return AgentOutcome(ok=True, value=value, turns=turns, attempts=calls, usage=used)


async def _converse(job: AgentJob, used: Usage) -> tuple[Any, int, int]:
    """(value, turns, model calls); raises `ModelError` when there is no usable answer."""
    spec = job.spec
    messages = [Message("user", spec.prompt), *spec.context]
    if spec.context:  # the conversation ends on the ask, after the context blocks
        messages.append(Message("user", ANSWER_NOW))
    repaired = False
    calls = 0
    caps = ReplyCaps()  # tool calls per reply, tool results per agent, reply size
    for turn in range(1, spec.max_turns + 1):
        request = ModelRequest(
            system=spec.definition.system_prompt,
            messages=list(messages),
            tools=job.tools.specs(),
            max_tokens=spec.max_tokens,
            effort=spec.effort,
            schema=spec.schema,
        )
        ticket = await job.reserve(request)
        try:
            with watching_begin(getattr(ticket, "on_begin", None)):
                reply = await job.model.request(request)
        except asyncio.CancelledError:
            job.settle(ticket, None, answered=False)  # may have been billed: keep it all
            raise
        except BaseException:
            job.settle(ticket, Usage(), answered=False)  # a failed call is not billed
            raise
        job.settle(ticket, reply.usage)
        used += reply.usage
        calls += 1 + reply.retries
        caps.check(reply)  # a reply too big to keep fails the agent
        if reply.tool_calls:
            messages.append(Message("assistant", reply.text, tool_calls=reply.tool_calls))
            results = await caps.run_tools(job.tools, reply.tool_calls)  # capped per reply
            messages.append(Message("user", tool_results=results))
            continue
        problem = _problem(reply.text, reply.stop_reason, spec.schema)
        if problem is None:
            return parse_reply(reply.text), turn, calls
        if repaired or spec.schema is None:
            raise ModelError(problem)
        repaired = True
        messages.append(Message("assistant", reply.text))
        messages.append(
            Message(
                "user",
                f"{problem}. Answer again with only a JSON value "
                f"matching this schema:\n{json.dumps(spec.schema)}",
            )
        )
    raise ModelError(
        f"no final answer after {spec.max_turns} turns (the turn limit); "
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
