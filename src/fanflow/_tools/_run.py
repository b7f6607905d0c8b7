"""`run`: a command declared in `.fanflow/config.toml` `[commands]`, argv only, no shell."""

from __future__ import annotations

import json
from typing import Any

from .._workspace import ToolError
from ._base import BuiltinTool, ToolContext


class Run(BuiltinTool):
    name = "run"
    description = (
        "Run a command declared in .fanflow/config.toml [commands]. Arguments that start "
        "with - + or @, NAME=value arguments and paths outside the workspace are refused "
        "unless the command's declaration allows them."
    )
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
    Option-like arguments (-x, +x, @file, NAME=value) and paths outside the workspace
    are refused unless the declaration allows them. Returns {"code", "stdout", "stderr"}."""'''

    def target(self, args: dict[str, Any]) -> str:
        """The command line: the permission rules check its first word is declared."""
        return " ".join(map(str, [args.get("name"), *_args(args)]))

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        return json.dumps(await self.script_call(args, ctx))

    async def script_call(self, args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
        if ctx._commands is None:
            raise ToolError("no commands are available to this caller", "PermissionError")
        if not isinstance(args.get("name"), str):
            raise ToolError("run needs the declared command's name as a string", "TypeError")
        return await ctx._commands.run(args["name"], *_args(args))


def _args(args: dict[str, Any]) -> list[Any]:
    # a model may send a string where a list belongs: never split it into characters
    value = args.get("args", [])
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):  # a script's *args arrive as a tuple
        raise ToolError("run's args must be a list of strings", "TypeError")
    return list(value)


TOOL = Run()
