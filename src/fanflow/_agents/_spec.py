"""What an executor is handed to run one agent, and what it hands back: plain data only.

An `AgentSpec` names everything the agent loop needs by value (definition,
prompt, tools, schema, model name, limits) and nothing live: no client, no
journal, no scheduler. It round-trips through JSON, so an executor may run the
agent in another thread, process or machine. `AgentOutcome` is its answer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .._models import Message, ToolCall, ToolResult, Usage
from ._definitions import AgentDefinition

# How an agent that did not succeed ended; the scheduler decides what each means for the run.
BUDGET = "budget"  # the run's budget stopped it before a request
FATAL = "fatal"  # no later agent can succeed either (a bad key, a model that does not exist)
ACCOUNT_STOP = "account_stop"  # the account cannot go on (quota, credit): the run pauses
FAILED = "failed"  # this agent's own failure (no answer, turn limit, bad schema reply)
CRASHED = "crashed"  # an unexpected exception in a provider or tool
CONTEXT = "context_too_long"  # the request did not fit the model's context: a caller that
# can send less (synthesize, by splitting its data) may try again with smaller parts
ERROR_KINDS = (BUDGET, FATAL, ACCOUNT_STOP, FAILED, CRASHED, CONTEXT)


@dataclass(frozen=True, kw_only=True)
class AgentSpec:
    """One agent to run, by value."""

    run_id: str
    agent_id: int
    phase: str
    definition: AgentDefinition
    prompt: str
    context: tuple[Message, ...] = ()
    """Blocks after the prompt (the fan-in data of `synthesize`)."""
    tools: tuple[str, ...] = ()
    """The tool names granted to the agent; only these are offered and executed."""
    schema: dict[str, Any] | None = None
    model: str
    effort: str | None = None
    max_tokens: int
    max_turns: int = 24
    label: str | None = None

    @property
    def who(self) -> str:
        """How permission questions and blocks name the agent."""
        return f"agent {self.agent_id} ({self.definition.name})"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["definition"]["tools"] = list(self.definition.tools)
        data["context"] = [asdict(m) for m in self.context]
        data["tools"] = list(self.tools)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AgentSpec:
        definition = dict(data["definition"])
        definition["tools"] = tuple(definition.get("tools", ()))
        return cls(
            **{
                **data,
                "definition": AgentDefinition(**definition),
                "context": tuple(_message(m) for m in data.get("context", ())),
                "tools": tuple(data.get("tools", ())),
            }
        )


@dataclass(frozen=True, kw_only=True)
class AgentOutcome:
    """How one agent ended: its value, or an error kind (one of `ERROR_KINDS`) and message."""

    ok: bool
    value: Any = None
    error_kind: str | None = None
    error: str | None = None
    turns: int = 0
    """Model replies the agent got (a failed call is no turn), however it ended."""
    attempts: int = 1
    """Model calls sent, retries and a failed last call included, however it ended."""
    usage: Usage = field(default_factory=Usage)
    """Every call's tokens added up (each call was also reported as it ended)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AgentOutcome:
        return cls(**{**data, "usage": Usage(**data.get("usage", {}))})


def _message(data: dict[str, Any]) -> Message:
    return Message(
        data["role"],
        data.get("text", ""),
        tool_calls=[ToolCall(**c) for c in data.get("tool_calls", ())],
        tool_results=[ToolResult(**r) for r in data.get("tool_results", ())],
    )
