"""Checking what a script passes to `spawn`, before the spawn is admitted.

Everything arrives from the sandbox as plain values; each check turns a bad
one into the builtin exception a script can catch, with a message that says
what is expected.
"""

from __future__ import annotations

from typing import Any

import jsonschema

from . import _schemas as schemas
from ._agents import AgentDefinition, AgentRegistry
from ._errors import ConfigError
from ._tools import agent_tool

MAX_OUTPUT_TOKENS = 200_000
EFFORTS = ("low", "medium", "high", "xhigh", "max")


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
    for tool in tools:
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
        raise ValueError(f"effort must be one of {', '.join(EFFORTS)} (got {effort!r})")
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
            f"(got {str(max_tokens)[:40]})"
        )
    return max_tokens


def require_str(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"{what} must be a non-empty string (got {type(value).__name__})")
    return value


def checked_schema(schema: object) -> dict[str, Any] | None:
    if schema is None:
        return None
    if not isinstance(schema, dict):
        raise TypeError("schema= takes a JSON Schema dict")
    try:
        schemas.check(schema)
    except jsonschema.SchemaError as exc:
        raise ValueError(f"schema= is not valid JSON Schema: {exc.message}") from None
    return schema
