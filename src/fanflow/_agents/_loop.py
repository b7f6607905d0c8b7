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
from .._errors import AccountStop, ContextTooLong, FanflowError, ModelError
from .._models import FatalModelError, Message, Model, ModelRequest, Usage
from .._models._base import watching_begin
from ._parse import looks_like_truncated_json, parse_reply
from ._reply import ReplyCaps
from ._spec import (
    ACCOUNT_STOP,
    BUDGET,
    CONTEXT,
    CRASHED,
    FAILED,
    FATAL,
    AgentOutcome,
    AgentSpec,
)
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


@dataclass
class _Progress:
    """How far the agent got, kept as it goes so that every ending reports it truly."""

    turns: int = 0
    """Replies received (each is one turn; the schema repair's too)."""
    calls: int = 0
    """Attempts sent: an answered call's retries, and a call that failed, count too."""


async def run_agent(job: AgentJob) -> AgentOutcome:
    """Drive one subagent to its end; every failure is an outcome, only cancellation raises.

    Whatever the ending, the outcome carries the turns and attempts the agent made
    (a failed agent once always said `turns=0, attempts=1`). A cancellation carries
    them too, as the `progress` attribute of the `CancelledError` (turns, calls).
    """
    used = Usage()
    done = _Progress()

    def ended(kind: str, error: str) -> AgentOutcome:
        return AgentOutcome(
            ok=False,
            error_kind=kind,
            error=error,
            usage=used,
            turns=done.turns,
            attempts=done.calls,
        )

    try:
        value = await _converse(job, used, done)
    except asyncio.CancelledError as exc:
        exc.progress = (done.turns, done.calls)  # type: ignore[attr-defined]
        raise
    except BudgetExceeded as exc:
        return ended(BUDGET, str(exc))
    except AccountStop as exc:
        return ended(ACCOUNT_STOP, str(exc))
    except FatalModelError as exc:
        return ended(FATAL, str(exc))
    except ContextTooLong as exc:  # before ModelError: a caller may split and try again
        return ended(CONTEXT, str(exc))
    except FanflowError as exc:
        return ended(FAILED, str(exc))
    except Exception as exc:  # a provider bug must not take the other agents down
        return ended(CRASHED, f"{type(exc).__name__}: {exc}")
    return AgentOutcome(ok=True, value=value, turns=done.turns, attempts=done.calls, usage=used)


async def _converse(job: AgentJob, used: Usage, done: _Progress) -> Any:
    """The agent's value; raises `ModelError` when there is no usable answer. `done`
    counts its turns and attempts as they happen."""
    spec = job.spec
    messages = [Message("user", spec.prompt), *spec.context]
    if spec.context:  # the conversation ends on the ask, after the context blocks
        messages.append(Message("user", ANSWER_NOW))
    repaired = False
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
            done.calls += 1  # sent, then cancelled in flight
            job.settle(ticket, None, answered=False)  # may have been billed: keep it all
            raise
        except BaseException:
            done.calls += 1  # at least this attempt was sent (the watch knows its retries)
            job.settle(ticket, Usage(), answered=False)  # a failed call is not billed
            raise
        job.settle(ticket, reply.usage)
        used += reply.usage
        done.calls += 1 + reply.retries
        done.turns = turn
        caps.check(reply)  # a reply too big to keep fails the agent
        if reply.tool_calls:
            messages.append(Message("assistant", reply.text, tool_calls=reply.tool_calls))
            results = await caps.run_tools(job.tools, reply.tool_calls)  # capped per reply
            messages.append(Message("user", tool_results=results))
            continue
        problem = _problem(reply.text, reply.stop_reason, spec.schema)
        if problem is None:
            return parse_reply(reply.text)
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
