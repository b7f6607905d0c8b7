"""The tools one subagent was granted: the specs it is offered and the calls it makes.

Only granted tools are offered; a call to any other (a model that makes one
up, or text in a file telling it to) comes back as a tool error. The tools
themselves, built-in and plugin, live in `fanflow._tools`.
"""

from __future__ import annotations

from typing import Any

from .._models import ToolCall, ToolResult, ToolSpec
from .._tools import ToolContext, agent_call, agent_tool
from .._workspace import ToolError, Workspace


class AgentTools:
    """Executes one subagent's tool calls against the workspace, within its grant."""

    def __init__(
        self,
        workspace: Workspace,
        granted: tuple[str, ...],
        commands: Any,
        permissions: Any = None,
        who: str = "agent",
    ) -> None:
        self.workspace, self.granted, self.commands = workspace, granted, commands
        self.permissions, self.who = permissions, who
        # resolved once: the names were checked when the spawn was admitted
        self._tools = {name: agent_tool(name) for name in granted}

    def specs(self) -> list[ToolSpec]:
        return [tool.spec for tool in self._tools.values()]

    async def execute(self, call: ToolCall) -> ToolResult:
        tool = self._tools.get(call.name)
        if tool is None:
            return ToolResult(
                call.id,
                f"tool {call.name!r} is not granted to this agent; "
                f"granted: {', '.join(self.granted) or 'none'}",
                is_error=True,
            )
        ctx = ToolContext(self.workspace, self.who, tool, self.commands)
        try:
            return ToolResult(call.id, await agent_call(tool, call.input, ctx, self.permissions))
        except ToolError as exc:
            return ToolResult(call.id, str(exc), is_error=True)
