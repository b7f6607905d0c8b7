"""Per-run caps on what a script sends out through the host functions.

A single `log()` line is cut at 2,000 characters (prelude and bridge), but a
loop of them could still write up to the suspension limit (about 70,000
lines) into the journal; and every script tool call's result is journaled
for replay, so re-reading a 2 MB file in a loop grew the journal without end.
These two channels get a total per run, checked before the next write:
log text past `MAX_LOG_CHARS` is dropped after one marker line, and a tool
call once the results (and error texts, which are journaled as well) passed
`MAX_SCRIPT_TOOL_CHARS` is refused before it runs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .._limits import MAX_LOG_CHARS, MAX_SCRIPT_TOOL_CHARS
from .._sizes import json_chars

LOG_CUT = (
    f"[... log output cut: the run's log() text passed {MAX_LOG_CHARS:,} characters; "
    "later lines are dropped ...]"
)


class Channels:
    """The script's host functions, with the run's totals on log text and tool results."""

    def __init__(self) -> None:
        self.log_left = MAX_LOG_CHARS
        self.tool_chars = 0

    def wrap(self, host: dict[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
        host = dict(host)
        if "_ff_log" in host:
            host["_ff_log"] = self._log(host["_ff_log"])
        if "_ff_tool" in host:
            host["_ff_tool"] = self._tool(host["_ff_tool"])
        return host

    def _log(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def log(text: object) -> Any:
            if self.log_left <= 0:
                return None
            line = text[:2000] if isinstance(text, str) else text
            size = len(line) if isinstance(line, str) else 2000
            self.log_left -= size
            if self.log_left <= 0:
                return fn(LOG_CUT)
            return fn(line)

        return log

    def _tool(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        async def tool(*args: Any) -> Any:
            if self.tool_chars > MAX_SCRIPT_TOOL_CHARS:
                raise OSError(
                    f"the run's script tool calls returned over {MAX_SCRIPT_TOOL_CHARS:,} "
                    "characters (all journaled for resume); read fewer or smaller files, "
                    "or let subagents read them"
                )
            try:
                result = await fn(*args)
            except Exception as exc:  # an error is journaled too (and a refusal's event)
                self.tool_chars += len(str(exc))
                raise
            self.tool_chars += json_chars(result, MAX_SCRIPT_TOOL_CHARS + 1)
            return result

        return tool
