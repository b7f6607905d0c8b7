# The workflow script API: every name a fanflow script can use without an import.
# Scripts are type-checked against this file before they run, and the planner
# shows it to the lead model. Contract: docs/DESIGN.md section 2.
import asyncio as asyncio
import json as json
from typing import Any, Awaitable, Callable, Iterable, Literal, TypeVar

T = TypeVar("T")

Effort = Literal["low", "medium", "high", "xhigh", "max"]

args: dict[str, str]
"""The run's `--arg K=V` values."""

def spawn(
    agent: str,
    prompt: str,
    *,
    tools: list[ToolName] | None = None,
    max_tokens: int | None = None,
    model: str | None = None,
    effort: Effort | None = None,
    schema: dict[str, Any] | None = None,
    label: str | None = None,
) -> Awaitable[Any]:
    """Start one subagent. Awaited: its parsed JSON reply, or its text.
    Awaited directly, a failed agent raises RuntimeError; inside gather() it yields None."""

def agent(
    prompt: str,
    *,
    schema: dict[str, Any] | None = None,
    label: str | None = None,
    agent: str = "general",
    tools: list[ToolName] | None = None,
    max_tokens: int | None = None,
    model: str | None = None,
    effort: Effort | None = None,
) -> Awaitable[Any]:
    """spawn() in the shape of Claude Code workflow scripts."""

async def gather(
    awaitables: Iterable[Awaitable[T]], *, concurrency: int | None = None, strict: bool = False
) -> list[T | None]:
    """Await all, results in input order; a failure yields None unless strict=True.
    `concurrency` can only lower the run's cap."""

async def pipeline(
    items: Iterable[Any], fn: Callable[[Any], Awaitable[T]], *, concurrency: int | None = None
) -> list[T | None]:
    """gather([fn(item) for item in items]), failures as None."""

def phase(name: str) -> None:
    """Label the spawns that follow."""

async def synthesize(
    data: Any,
    *,
    instructions: str | None = None,
    model: str | None = None,
    schema: dict[str, Any] | None = None,
) -> Any:
    """Fan-in: one synthesizer agent over `data` (reduced hierarchically when too big)."""

def log(*values: Any) -> None:
    """A line in the run's event log."""

class _Budget:
    total: int | None
    """The run's --budget in tokens, or None."""
    def spent(self) -> int:
        """Billed tokens of this run so far (resumed attempts included)."""
    def remaining(self) -> float:
        """Tokens left under the budget; inf without one."""

budget: _Budget

# @tools: `ToolName` and the `tools` object, written from the tool registry (fanflow._tools)

# Builtin exceptions the tools raise; the sandbox has them, declared here for the type check.
class PermissionError(OSError): ...
class FileNotFoundError(OSError): ...
class FileExistsError(OSError): ...
class IsADirectoryError(OSError): ...
class NotADirectoryError(OSError): ...
