"""`glob`: the workspace files a pattern matches."""

from __future__ import annotations

import json
from typing import Any

from ._base import BuiltinTool, ToolContext


class Glob(BuiltinTool):
    name = "glob"
    description = "List workspace files matching a glob pattern (** recurses)."
    input_schema = {  # noqa: RUF012 - the schema is the tool's, never mutated
        "type": "object",
        "properties": {"pattern": {"type": "string"}},
        "required": ["pattern"],
    }
    stub = '''async def glob(self, pattern: str) -> list[str]:
    """Workspace files matching `pattern` (`**` recurses), sorted."""'''

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        return json.dumps(await self.script_call(args, ctx))

    async def script_call(self, args: dict[str, Any], ctx: ToolContext) -> list[str]:
        return await ctx._workspace.aglob(args["pattern"])


TOOL = Glob()
