"""Admission: what a script passes to `spawn`, checked, under the run's agent cap.

Everything arrives from the sandbox as plain values; each check turns a bad
one into the builtin exception a script can catch, with a message that says
what is expected. A spawn past `--max-agents` is refused before any request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from . import _schemas as schemas
from ._agents import AgentDefinition, AgentRegistry, AgentSpec
from ._errors import AgentCapError, ConfigError
from ._limits import (
    MAX_NAME_CHARS,
    MAX_PENDING_PROMPT_CHARS,
    MAX_PROMPT_CHARS,
    MAX_SCHEMA_CHARS,
)
from ._models import Message
from ._sizes import json_chars
from ._tools import agent_tool

MAX_OUTPUT_TOKENS = 200_000
DEFAULT_MAX_TOKENS = 8000
EFFORTS = ("low", "medium", "high", "xhigh", "max")
MAX_TOOLS = 64


@dataclass
class Spawn:
    """One admitted subagent, from `spawn()` until its result is journaled (host side)."""

    spec: AgentSpec
    cached: dict[str, Any] | None = None
    """On resume: the envelope of an earlier attempt's succeeded agent (no model call)."""
    on_start: Callable[[], None] = field(default=lambda: None, repr=False)
    """Called once when it leaves `pending` (awaited, or never to start): frees its quota."""
    _started: bool = field(default=False, repr=False)

    @property
    def started(self) -> bool:
        return self._started

    @started.setter
    def started(self, value: bool) -> None:
        if value and not self._started:
            self.on_start()
        self._started = value


class Admission:
    """Turns a spawn's arguments into spec fields (no id yet), counting against the cap."""

    def __init__(
        self, *, run_id: str, registry: AgentRegistry, models: Any, options: Any, limits: Any
    ) -> None:
        self.run_id, self.registry, self.models = run_id, registry, models
        self.options, self.limits = options, limits
        self.spawned = 0
        self.pending_chars = 0
        """Prompt and context characters of admitted spawns not yet started (host memory
        and journal rows a script could pile up with spawns it never awaits)."""

    def check(
        self,
        phase: str,
        agent: object,
        prompt: object,
        *,
        tools: object,
        max_tokens: object,
        model: object,
        effort: object,
        schema: object,
        label: object,
        context: list[Message] | None,
    ) -> dict[str, Any]:
        """The checked spawn's `AgentSpec` fields; raises the builtin error a bad one deserves."""
        definition = checked_definition(self.registry, agent)
        prompt_text = require_str(prompt, "prompt", limit=None)
        self.checked_size(prompt_text, context)
        granted = checked_tools(tools, definition)  # in this order: the first bad one is named
        model_name = checked_model(self.models, self.options, model, definition)
        spawn_effort = checked_effort(effort, self.options.agent_effort)
        tokens = checked_max_tokens(max_tokens, DEFAULT_MAX_TOKENS)
        schema_dict = checked_schema(schema)
        label_text = None if label is None else require_str(label, "label", limit=None)[:200]
        return {  # the spec's fields; the id comes from replay (an AgentSpec is built once)
            "run_id": self.run_id,
            "phase": phase,
            "definition": definition,
            "prompt": prompt_text,
            "context": tuple(context or ()),
            "tools": granted,
            "schema": schema_dict,
            "model": model_name,
            "effort": spawn_effort,
            "max_tokens": tokens,
            "max_turns": self.limits.max_turns,
            "label": label_text,
        }

    def checked_size(self, prompt: str, context: list[Message] | None) -> int:
        """The spawn's prompt and context size; an error past either cap (the second
        counts spawns admitted and not yet started, see `admitted`)."""
        size = len(prompt) + sum(len(m.text) for m in context or ())
        if size > MAX_PROMPT_CHARS:
            raise ValueError(
                f"spawn() prompt is {size:,} characters; at most {MAX_PROMPT_CHARS:,} "
                "(prompt and context): write the data to a workspace file and have the "
                "agent read it"
            )
        if self.pending_chars + size > MAX_PENDING_PROMPT_CHARS:
            raise RuntimeError(
                f"spawned agents not yet started already hold {self.pending_chars:,} "
                f"characters of prompts (at most {MAX_PENDING_PROMPT_CHARS:,}); await or "
                "gather the spawns before making more"
            )
        return size

    def admitted(self, spec: AgentSpec, cached: dict[str, Any] | None) -> Spawn:
        """The host-side record of a journaled spawn; its prompt counts until it starts."""
        size = len(spec.prompt) + sum(len(m.text) for m in spec.context)
        self.pending_chars += size

        def release() -> None:
            self.pending_chars -= size

        return Spawn(spec, cached=cached, on_start=release)

    def count(self, phase: str) -> None:
        """Count one more spawn; an `AgentCapError` when it would pass the cap."""
        if self.spawned >= self.limits.max_agents:
            raise AgentCapError(
                f"agent cap of {self.limits.max_agents} reached in phase {phase}; "
                "chunk the work or filter before spawning"
            )
        self.spawned += 1


def checked_definition(registry: AgentRegistry, agent: object) -> AgentDefinition:
    name = require_str(agent, "agent")
    try:
        return registry.get(name)
    except ConfigError as exc:
        raise ValueError(str(exc)) from None


def checked_tools(tools: object, definition: AgentDefinition) -> tuple[str, ...]:
    if tools is None:
        return definition.tools
    if not isinstance(tools, list) or not all(isinstance(t, str) for t in tools):
        raise TypeError("tools= takes a list of tool names, e.g. ['read', 'grep']")
    if len(tools) > MAX_TOOLS:
        raise ValueError(f"tools= takes at most {MAX_TOOLS} names (got {len(tools):,})")
    for tool in tools:
        require_str(tool, "a tool name")
        try:
            agent_tool(tool)  # a built-in, or a plugin that loads
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
    return tuple(dict.fromkeys(tools))


def checked_model(models: Any, settings: Any, model: object, definition: AgentDefinition) -> str:
    """The model for a spawn: its own, its definition's, the run's agent model, the run's."""
    name = require_str(model or definition.model or settings.agent_model or settings.model, "model")
    try:
        models.get(name)
    except ConfigError as exc:
        raise ValueError(str(exc)) from None
    return name


def checked_effort(effort: object, default: str) -> str:
    if effort is None:
        return default
    if effort not in EFFORTS:
        raise ValueError(f"effort must be one of {', '.join(EFFORTS)} (got {short(effort)})")
    return str(effort)


def checked_max_tokens(max_tokens: object, default: int) -> int:
    if max_tokens is None:
        return default
    if (
        not isinstance(max_tokens, int)
        or isinstance(max_tokens, bool)
        or not 1 <= max_tokens <= MAX_OUTPUT_TOKENS
    ):
        raise ValueError(
            f"max_tokens must be an integer from 1 to {MAX_OUTPUT_TOKENS:,} "
            f"(got {short(max_tokens)})"
        )
    return max_tokens


def require_str(value: object, what: str, *, limit: int | None = MAX_NAME_CHARS) -> str:
    """A non-empty string; a name (`limit` characters) unless `limit` is None."""
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"{what} must be a non-empty string (got {type(value).__name__})")
    if limit is not None and len(value) > limit:
        raise ValueError(f"{what} is {len(value):,} characters; a name has at most {limit}")
    return value


def short(value: object, limit: int = 40) -> str:
    """A bad value named in an error, cut: a script may pass anything, of any size."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"an int of {value.bit_length():,} bits"
    if isinstance(value, (str, int, float, bool)) or value is None:
        text = repr(value)
        return text if len(text) <= limit else text[:limit] + "..."
    return f"a {type(value).__name__}"


def checked_schema(schema: object) -> dict[str, Any] | None:
    if schema is None:
        return None
    if not isinstance(schema, dict):
        raise TypeError("schema= takes a JSON Schema dict")
    if json_chars(schema, MAX_SCHEMA_CHARS) > MAX_SCHEMA_CHARS:
        raise ValueError(
            f"schema= is over {MAX_SCHEMA_CHARS:,} characters as JSON; a schema describes "
            "the answer's shape, keep data out of it"
        )
    try:
        schemas.check(schema)
    except jsonschema.SchemaError as exc:
        raise ValueError(f"schema= is not valid JSON Schema: {exc.message}") from None
    return schema
