"""`read`: a workspace file's text (numbered lines for an agent, plain for a script)."""

from __future__ import annotations

from typing import Any

from ._base import BuiltinTool, ToolContext


class Read(BuiltinTool):
    name = "read"
    description = "Read a workspace file; lines come numbered."
    input_schema = {  # noqa: RUF012 - the schema is the tool's, never mutated
        "type": "object",
        "properties": {"path": {"type": "string"}},
        "required": ["path"],
    }
    stub = '''async def read(self, path: str) -> str:
    """A workspace file's text."""'''

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        return await ctx._workspace.aread_numbered(args["path"])

    async def script_call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        return await ctx._workspace.aread(args["path"])


TOOL = Read()
