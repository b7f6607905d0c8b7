"""`grep`: lines of workspace files that match a regular expression."""

from __future__ import annotations

import json
from typing import Any

from ._base import BuiltinTool, ToolContext


class Grep(BuiltinTool):
    name = "grep"
    description = "Search workspace files for a regular expression."
    input_schema = {  # noqa: RUF012 - the schema is the tool's, never mutated
        "type": "object",
        "properties": {
            "pattern": {"type": "string"},
            "path_glob": {"type": "string", "description": "e.g. src/**/*.ts"},
        },
        "required": ["pattern"],
    }
    stub = '''async def grep(
    self, pattern: str, path_glob: str | None = None
) -> list[dict[str, Any]]:
    """Lines matching a regex: [{"file", "line", "text"}], at most 200."""'''

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        return json.dumps(await self.script_call(args, ctx))

    async def script_call(self, args: dict[str, Any], ctx: ToolContext) -> list[dict[str, Any]]:
        return await ctx._workspace.agrep(args["pattern"], args.get("path_glob"))


TOOL = Grep()
