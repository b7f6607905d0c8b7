"""Which tool a name means: the built-ins, then installed plugins.

Built-in tools are loaded the way plugins are (a module's `TOOL`, checked the
same way), so the built-ins are also the first test of the plugin contract.
Plugins register through the `fanflow.tools` entry-point group
(`NAME = "pkg.module:TOOL"`) and are imported only when a name is not a
built-in, so a broken plugin never breaks a run that does not name it. A
built-in name wins a clash.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import jsonschema

from .._errors import ConfigError
from ._base import ACCESS, BuiltinTool, Tool

ENTRY_POINT_GROUP = "fanflow.tools"
BUILTIN_TOOLS = ("read", "grep", "glob", "write", "run", "git_restore")
"""In the order agents' specs and the script API list them."""


@dataclass(frozen=True)
class ToolSource:
    """One tool a name can grant: where it comes from, and why it cannot load."""

    name: str
    origin: str
    """`built-in`, or the distribution that registers it (`pkg 1.2`)."""
    access: str | None = None
    error: str | None = None


@functools.cache
def builtin_tools() -> dict[str, BuiltinTool]:
    """The built-in tools by name, in `BUILTIN_TOOLS` order."""
    tools = {}
    for name in BUILTIN_TOOLS:
        module = importlib.import_module(f"fanflow._tools._{name}")
        tools[name] = _checked(module.TOOL, name, "built-in")
    return tools  # type: ignore[return-value]


def builtin_agent_tools() -> tuple[str, ...]:
    """Built-in names a subagent can be granted."""
    return tuple(name for name, tool in builtin_tools().items() if tool.agent)


def script_tools() -> dict[str, BuiltinTool]:
    """The tools of the script API's `tools` object."""
    return {name: tool for name, tool in builtin_tools().items() if tool.stub is not None}


def agent_tool(name: str) -> Tool:
    """The tool a subagent is granted as `name`; `ConfigError` (one line) if there is none."""
    builtin = builtin_tools().get(name)
    if builtin is not None:
        if not builtin.agent:
            raise ConfigError(
                f"tool {name!r} is for scripts only (tools.{name}(...)); "
                f"agents can be granted {', '.join(_agent_names())}"
            )
        return builtin
    return _plugin(name)


def tool_sources() -> list[ToolSource]:
    """Every tool available here, built-ins first; plugins are loaded to check them."""
    sources = [ToolSource(n, "built-in", t.access) for n, t in builtin_tools().items()]
    for entry in _entry_points():
        origin = _origin(entry)
        if entry.name in BUILTIN_TOOLS:
            sources.append(ToolSource(entry.name, origin, None, "shadowed by the built-in tool"))
            continue
        try:
            tool = _plugin(entry.name)
        except ConfigError as exc:
            sources.append(ToolSource(entry.name, origin, None, str(exc)))
        else:
            sources.append(ToolSource(entry.name, origin, tool.access))
    return sources


def _agent_names() -> list[str]:
    """What an unknown-tool message offers: built-in agent tools and installed plugin names."""
    plugins = [e.name for e in _entry_points() if e.name not in BUILTIN_TOOLS]
    return [*builtin_agent_tools(), *dict.fromkeys(plugins)]


@functools.cache
def _plugin(name: str) -> Tool:
    # cached: a name is looked up for every spawn of a fan-out (a failure is not cached,
    # and costs a scan of the entry points each time it is named)
    for entry in _entry_points():
        if entry.name == name:
            return _checked(_load(entry), name, entry.value)
    raise ConfigError(f"unknown tool {name!r}; tools are {', '.join(_agent_names())}")


def clear_cache() -> None:
    """Forget loaded plugins (tests install and remove them within one process)."""
    _plugin.cache_clear()


def _entry_points() -> list[metadata.EntryPoint]:
    return sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)


def _load(entry: metadata.EntryPoint) -> Any:
    try:
        return entry.load()
    except Exception as exc:
        raise ConfigError(
            f"tool plugin {entry.name!r} ({entry.value}) failed to load: "
            f"{type(exc).__name__}: {exc}"
        ) from None


def _checked(tool: Any, name: str, where: str) -> Any:
    """`tool` if it keeps the contract; else a one-line `ConfigError` saying what is wrong."""
    if isinstance(tool, type) and issubclass(tool, Tool):
        tool = tool()  # a Tool subclass with no arguments is as good as its instance
    problem = _problem(tool, name)
    if problem:
        raise ConfigError(f"tool plugin {name!r} ({where}) {problem}")
    return tool


def _problem(tool: Any, name: str) -> str | None:
    if not isinstance(tool, Tool):
        return f"is a {type(tool).__name__}, not a fanflow.Tool"
    if tool.name != name:
        return f"is named {tool.name!r}; its entry point and its Tool.name must match"
    if tool.access not in ACCESS:
        return f"has access {tool.access!r}; use one of {', '.join(ACCESS)}"
    if not inspect.iscoroutinefunction(tool.call):
        return "has a call() that is not `async def`"
    if not isinstance(tool.input_schema, dict) or tool.input_schema.get("type") != "object":
        return 'has an input_schema that is not a JSON Schema with "type": "object"'
    try:
        jsonschema.validators.validator_for(tool.input_schema).check_schema(tool.input_schema)
    except jsonschema.SchemaError as exc:
        return f"has an input_schema that is not valid JSON Schema: {exc.message}"
    return None


def _origin(entry: metadata.EntryPoint) -> str:
    dist = entry.dist
    return f"{dist.name} {dist.version}" if dist is not None else entry.value
