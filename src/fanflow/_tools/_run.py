"""`run`: a command declared in `.fanflow/config.toml` `[commands]`, argv only, no shell."""

from __future__ import annotations

import json
from typing import Any

from .._workspace import ToolError
from ._base import BuiltinTool, ToolContext


class Run(BuiltinTool):
    name = "run"
    description = "Run a command declared in .fanflow/config.toml [commands]."
    input_schema = {  # noqa: RUF012 - the schema is the tool's, never mutated
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "args": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["name"],
    }
    access = "run"
    stub = '''async def run(self, name: str, *args: str) -> dict[str, Any]:
    """Run a command declared in .fanflow/config.toml [commands], argv only, no shell.
    Returns {"code", "stdout", "stderr"}."""'''

    def target(self, args: dict[str, Any]) -> str:
        """The command line: the permission rules check its first word is declared."""
        return " ".join(map(str, [args.get("name"), *args.get("args", [])]))

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        return json.dumps(await self.script_call(args, ctx))

    async def script_call(self, args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
        if ctx._commands is None:
            raise ToolError("no commands are available to this caller", "PermissionError")
        return await ctx._commands.run(args["name"], *args.get("args", []))


TOOL = Run()
