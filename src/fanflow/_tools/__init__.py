"""Tools: one module per built-in tool, plugins from the `fanflow.tools` entry points.

A tool is defined in one place, its module: the JSON Schema the model sees,
the host function, its permission class (`access`) and, for the script API,
its `tools.NAME(...)` stub. The registry finds a tool by name; `_calls` runs
one call the same way for every tool; `_stubs` writes the script API's
`tools` object from the registry.

Who gets what: subagents can be granted `read`, `grep`, `glob`, `write`,
`run` and any plugin tool; scripts call `tools.glob/read/grep/write/run` and
`tools.git_restore` (script-only: undoing work is the workflow's decision).
Plugin tools are for subagents only, so the script API's stubs never depend
on what is installed.
"""

from ._base import ACCESS, BuiltinTool, Tool, ToolContext, ToolWorkspace
from ._calls import RESULT_LIMIT, agent_call, cut, permit, script_call
from ._registry import (
    BUILTIN_TOOLS,
    ENTRY_POINT_GROUP,
    ToolSource,
    agent_tool,
    builtin_agent_tools,
    builtin_tools,
    clear_cache,
    script_tools,
    tool_sources,
)
from ._stubs import tools_prelude, tools_stub

__all__ = [
    "ACCESS",
    "BUILTIN_TOOLS",
    "ENTRY_POINT_GROUP",
    "RESULT_LIMIT",
    "BuiltinTool",
    "Tool",
    "ToolContext",
    "ToolSource",
    "ToolWorkspace",
    "agent_call",
    "agent_tool",
    "builtin_agent_tools",
    "builtin_tools",
    "clear_cache",
    "cut",
    "permit",
    "script_call",
    "script_tools",
    "tool_sources",
    "tools_prelude",
    "tools_stub",
]
