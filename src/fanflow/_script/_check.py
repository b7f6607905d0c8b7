"""Static checks of a workflow script, before any model call.

Two passes: this module's AST pass (syntax, literal agent and tool names,
the `meta` block, the phases in order) and the sandbox's type check against
`api.pyi`. Either failing is a `ScriptError` with the script's line.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from .._agents import AgentRegistry
from .._errors import ConfigError, ScriptError
from .._tools import agent_tool
from ._depth import MAX_DISPLAY_NESTING, TOO_DEEP, deepest_display, deepest_line

MAX_SCRIPT_BYTES = 512 * 1024


@dataclass(frozen=True)
class ScriptInfo:
    """What can be known of a script without running it."""

    meta: dict[str, Any] = field(default_factory=dict)
    phases: list[str] = field(default_factory=list)
    agent_types: list[str] = field(default_factory=list)


def check_syntax_and_names(script: str, path: str, registry: AgentRegistry) -> ScriptInfo:
    """The AST pass; raises `ScriptError` naming the first problem and its line."""
    if len(script.encode("utf-8", errors="replace")) > MAX_SCRIPT_BYTES:
        raise ScriptError(
            f"script is larger than {MAX_SCRIPT_BYTES // 1024} KiB; move data into workspace files",
            path=path,
        )
    if not script.strip():
        raise ScriptError("script is empty; write a workflow (see docs/scripts.md)", path=path)
    try:
        tree = ast.parse(script, filename=path)
    except SyntaxError as exc:
        raise ScriptError(
            f"syntax error: {exc.msg}", path=path, line=exc.lineno, column=exc.offset
        ) from None
    except (RecursionError, MemoryError):  # CPython's parser: a C stack limit, not the code
        raise too_deep(script, path) from None
    depth, line = deepest_display(tree)
    if depth > MAX_DISPLAY_NESTING:
        raise ScriptError(
            f"brackets are nested {depth} deep, over the {MAX_DISPLAY_NESTING} the check "
            "allows; build deeply nested data in a loop or keep it in a workspace file",
            path=path,
            line=line,
        )
    phases: list[str] = []
    agent_types: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            _check_call(node, path, registry, phases, agent_types)
    return ScriptInfo(meta=_meta(tree), phases=phases, agent_types=agent_types)


def too_deep(script: str, path: str) -> ScriptError:
    """The one line for a valid script whose nesting is past what a parser can hold."""
    line = deepest_line(script)
    return ScriptError(TOO_DEEP, path=path, line=line)


def _check_call(
    node: ast.Call, path: str, registry: AgentRegistry, phases: list[str], agent_types: list[str]
) -> None:
    name = node.func.id  # type: ignore[attr-defined]
    if name == "phase" and node.args and _literal_str(node.args[0]) is not None:
        phases.append(_literal_str(node.args[0]))  # type: ignore[arg-type]
    agent_node = None
    if name == "spawn" and node.args:
        agent_node = node.args[0]
    keywords = {k.arg: k.value for k in node.keywords if k.arg}
    if name in ("spawn", "agent") and "agent" in keywords:
        agent_node = keywords["agent"]
    if name in ("spawn", "agent"):
        agent_name = _literal_str(agent_node) if agent_node is not None else "general"
        if agent_name is not None:
            try:
                registry.get(agent_name)
            except ConfigError as exc:
                raise ScriptError(
                    str(exc), path=path, line=node.lineno, column=node.col_offset + 1
                ) from None
            agent_types.append(agent_name)
        _check_tools(keywords.get("tools"), path, node)


def _check_tools(tools: ast.expr | None, path: str, node: ast.Call) -> None:
    if not isinstance(tools, ast.List):
        return
    for element in tools.elts:
        tool = _literal_str(element)
        if tool is None:
            continue
        try:
            agent_tool(tool)  # a built-in, or a plugin that loads
        except ConfigError as exc:
            raise ScriptError(
                str(exc), path=path, line=element.lineno, column=element.col_offset + 1
            ) from None


def _literal_str(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _meta(tree: ast.Module) -> dict[str, Any]:
    for stmt in tree.body:
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and stmt.targets[0].id == "meta"
        ):
            try:
                value = ast.literal_eval(stmt.value)
            except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
                return {}
            return value if isinstance(value, dict) else {}
    return {}
