"""`write`: replace a workspace file's whole content (the permission mode applies)."""

from __future__ import annotations

from typing import Any

from ._base import BuiltinTool, ToolContext


class Write(BuiltinTool):
    name = "write"
    description = "Write a workspace file (whole content)."
    input_schema = {  # noqa: RUF012 - the schema is the tool's, never mutated
        "type": "object",
        "properties": {"path": {"type": "string"}, "text": {"type": "string"}},
        "required": ["path", "text"],
    }
    access = "write"
    stub = '''async def write(self, path: str, text: str) -> None:
    """Write a workspace file (the permission mode applies)."""'''

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        await self.script_call(args, ctx)
        return f"wrote {args['path']}"

    async def script_call(self, args: dict[str, Any], ctx: ToolContext) -> None:
        await ctx._workspace.awrite(args["path"], args["text"])


TOOL = Write()
