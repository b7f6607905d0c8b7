"""Two workspace tools: one that only looks, one that writes (the permission mode applies)."""

from __future__ import annotations

from typing import Any

import fanflow

_PATH = {
    "type": "object",
    "properties": {"path": {"type": "string", "description": "a workspace file"}},
    "required": ["path"],
}


class WordCount(fanflow.Tool):
    name = "word_count"
    description = "Count the words of a workspace file."
    input_schema = _PATH
    access = "read"

    async def call(self, args: dict[str, Any], ctx: fanflow.ToolContext) -> dict[str, Any]:
        text = ctx.workspace.read(args["path"])
        return {"path": args["path"], "words": len(text.split())}


class SaveCount(fanflow.Tool):
    name = "save_count"
    description = "Count the words of a workspace file and write the count to PATH.count."
    input_schema = _PATH
    access = "write"

    async def call(self, args: dict[str, Any], ctx: fanflow.ToolContext) -> str:
        words = len(ctx.workspace.read(args["path"]).split())
        ctx.workspace.write(f"{args['path']}.count", f"{words}\n")
        return f"{ctx.who} wrote {args['path']}.count: {words} words"


WORD_COUNT = WordCount()
SAVE_COUNT = SaveCount()
