"""The workspace tools as a subagent sees them: JSON-schema specs and their execution.

Only granted tools are offered; a call to any other (a model that makes one
up, or text in a file telling it to) comes back as a tool error.
"""

from __future__ import annotations

import json
from typing import Any

from .._models import ToolCall, ToolResult, ToolSpec
from .._permissions import action_target
from .._workspace import ToolError, Workspace

_RESULT_LIMIT = 60_000

TOOL_SPECS: dict[str, ToolSpec] = {
    "read": ToolSpec(
        "read",
        "Read a workspace file; lines come numbered.",
        {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
    ),
    "grep": ToolSpec(
        "grep",
        "Search workspace files for a regular expression.",
        {
            "type": "object",
            "properties": {
                "pattern": {"type": "string"},
                "path_glob": {"type": "string", "description": "e.g. src/**/*.ts"},
            },
            "required": ["pattern"],
        },
    ),
    "glob": ToolSpec(
        "glob",
        "List workspace files matching a glob pattern (** recurses).",
        {"type": "object", "properties": {"pattern": {"type": "string"}}, "required": ["pattern"]},
    ),
    "write": ToolSpec(
        "write",
        "Write a workspace file (whole content).",
        {
            "type": "object",
            "properties": {"path": {"type": "string"}, "text": {"type": "string"}},
            "required": ["path", "text"],
        },
    ),
    "run": ToolSpec(
        "run",
        "Run a command declared in .fanflow/config.toml [commands].",
        {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "args": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["name"],
        },
    ),
}


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

    def specs(self) -> list[ToolSpec]:
        return [TOOL_SPECS[name] for name in self.granted]

    async def execute(self, call: ToolCall) -> ToolResult:
        if call.name not in self.granted:
            return ToolResult(
                call.id,
                f"tool {call.name!r} is not granted to this agent; "
                f"granted: {', '.join(self.granted) or 'none'}",
                is_error=True,
            )
        try:
            if call.name in ("write", "run") and self.permissions is not None:
                target = (
                    action_target("write", call.input.get("path"))
                    if call.name == "write"
                    else action_target("run", call.input.get("name"), call.input.get("args", []))
                )
                await self.permissions.check(call.name, target, self.who)
            output = await self._dispatch(call.name, call.input)
        except ToolError as exc:
            return ToolResult(call.id, str(exc), is_error=True)
        except (TypeError, KeyError, ValueError, AttributeError) as exc:
            return ToolResult(call.id, f"bad arguments for {call.name}: {exc}", is_error=True)
        except OSError as exc:
            return ToolResult(call.id, f"{call.name} failed: {exc.strerror or exc}", is_error=True)
        if len(output) > _RESULT_LIMIT:
            output = output[:_RESULT_LIMIT] + f"\n[... cut: {len(output) - _RESULT_LIMIT} more ...]"
        return ToolResult(call.id, output)

    async def _dispatch(self, name: str, args: dict[str, Any]) -> str:
        ws = self.workspace
        if name == "read":
            return ws.read_numbered(args["path"])
        if name == "grep":
            return json.dumps(ws.grep(args["pattern"], args.get("path_glob")))
        if name == "glob":
            return json.dumps(ws.glob(args["pattern"]))
        if name == "write":
            ws.write(args["path"], args["text"])
            return f"wrote {args['path']}"
        result = await self.commands.run(args["name"], *[str(a) for a in args.get("args", [])])
        return json.dumps(result)
