"""`git_restore`: put a file back to its committed state.

Scripts only: it undoes changes wholesale, which is the workflow's decision
(after a failed test, say), not one a subagent should make mid-conversation.
"""

from __future__ import annotations

from typing import Any

from ._base import BuiltinTool, ToolContext


class GitRestore(BuiltinTool):
    name = "git_restore"
    description = "Put a workspace file back to its committed state."
    input_schema = {  # noqa: RUF012 - the schema is the tool's, never mutated
        "type": "object",
        "properties": {"path": {"type": "string"}},
        "required": ["path"],
    }
    access = "write"
    agent = False
    stub = '''async def git_restore(self, path: str) -> None:
    """Put a file back to its committed state."""'''

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        await self.script_call(args, ctx)
        return f"restored {args['path']}"

    async def script_call(self, args: dict[str, Any], ctx: ToolContext) -> None:
        await ctx._workspace.agit_restore(args["path"])


TOOL = GitRestore()
