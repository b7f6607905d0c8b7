"""One tool call, from an agent or a script: checked, permitted, run, its result cut.

The order is the same for every tool, built-in or plugin: the arguments are
validated against the tool's `input_schema` (agents) or bound to its stub
(scripts); a `write` or `run` tool then asks the run's permission mode; only
then does the tool run. Every failure comes back as a `ToolError`.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match

from .._workspace import ToolError
from ._base import BuiltinTool, Tool, ToolContext

RESULT_LIMIT = 60_000
"""Characters of one tool result an agent sees; the rest is cut with a marker."""


async def permit(tool: Tool, args: dict[str, Any], permissions: Any, who: str) -> None:
    """Raise a `ToolError` unless the permission mode lets `who` use this `write`/`run` tool."""
    if tool.access != "read" and permissions is not None:
        await permissions.check(tool.name, tool.target(args), who)


async def agent_call(tool: Tool, args: Any, ctx: ToolContext, permissions: Any) -> str:
    """Run an agent's call; the text for the model, or a `ToolError` to send it instead."""
    validator = _validator(tool)
    if not validator.is_valid(args):
        error = best_match(validator.iter_errors(args))
        raise ToolError(f"bad arguments for {tool.name}: {error.message}", "TypeError")
    await permit(tool, args, permissions, ctx.who)
    try:
        output = await tool.call(args, ctx)
    except ToolError:
        raise
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        raise ToolError(f"bad arguments for {tool.name}: {exc}", "TypeError") from None
    except OSError as exc:
        raise ToolError(f"{tool.name} failed: {exc.strerror or exc}", "OSError") from None
    except Exception as exc:  # a plugin's bug is this call's error, not the agent's death
        raise ToolError(f"{tool.name} failed: {type(exc).__name__}: {exc}", "OSError") from None
    return cut(output if isinstance(output, str) else _json(tool, output))


async def script_call(tool: BuiltinTool, values: list[Any], ctx: ToolContext, permissions: Any):
    """Run a script's `tools.NAME(*values)`; a Python value back, or a `ToolError`."""
    try:
        args = tool.bind_script(values)
    except TypeError as exc:
        raise ToolError(f"tools.{tool.name}(): {exc}", "TypeError") from None
    await permit(tool, args, permissions, ctx.who)
    try:
        return await tool.script_call(args, ctx)
    except TypeError as exc:
        raise ToolError(f"tools.{tool.name}(): {exc}", "TypeError") from None


_VALIDATORS: dict[int, tuple[Tool, Any]] = {}


def _validator(tool: Tool) -> Any:
    # one per tool object for the process (keyed by id: a plugin's Tool may be unhashable);
    # the registry checked the schema when it loaded the tool
    held = _VALIDATORS.get(id(tool))
    if held is None or held[0] is not tool:
        schema = tool.input_schema
        held = _VALIDATORS[id(tool)] = (tool, jsonschema.validators.validator_for(schema)(schema))
    return held[1]


def cut(output: str) -> str:
    if len(output) > RESULT_LIMIT:
        return output[:RESULT_LIMIT] + f"\n[... cut: {len(output) - RESULT_LIMIT} more ...]"
    return output


def _json(tool: Tool, value: Any) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise ToolError(f"{tool.name} returned a value that is not JSON: {exc}") from None
