"""The `_ff_*` host functions: the sandbox's only way out.

Each takes plain values from the sandbox, checks them, calls the scheduler or
the workspace, and turns fanflow errors into the builtin exceptions a script
can catch (`ValueError`, `PermissionError`, ...), with the same message.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable
from typing import Any

from ._errors import AgentCapError, FanflowError, RunError, UserError
from ._journal._lifecycle import result_sha
from ._journal._unredact import restore
from ._replay import tool_key
from ._scheduler import Scheduler
from ._synthesis import synthesize
from ._tools import ToolContext, script_call, script_tools
from ._workspace import ToolError

_BUILTIN_ERRORS: dict[str, type[Exception]] = {
    "ValueError": ValueError,
    "TypeError": TypeError,
    "PermissionError": PermissionError,
    "IsADirectoryError": IsADirectoryError,
    "NotADirectoryError": NotADirectoryError,
    "FileExistsError": FileExistsError,
    "FileNotFoundError": FileNotFoundError,
    "OSError": OSError,
    "TimeoutError": TimeoutError,
}


def _translate(error: FanflowError) -> Exception:
    if isinstance(error, ToolError):
        return _BUILTIN_ERRORS.get(error.kind, ValueError)(str(error))
    if isinstance(error, AgentCapError):
        return RuntimeError(str(error))
    if isinstance(error, UserError):
        return ValueError(str(error))
    return RuntimeError(str(error))


def _guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any) -> Any:
            try:
                return await fn(*args)
            except FanflowError as exc:
                raise _translate(exc) from None

        return async_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any) -> Any:
        try:
            return fn(*args)
        except FanflowError as exc:
            raise _translate(exc) from None

    return wrapper


def host_functions(scheduler: Scheduler, on_log: Callable[[str], None]) -> dict[str, Any]:
    """The dict handed to the sandbox as `external_lookup`."""

    def ff_spawn(agent, prompt, tools, max_tokens, model, effort, schema, label):
        return scheduler.register(
            agent,
            prompt,
            tools=tools,
            max_tokens=max_tokens,
            model=model,
            effort=effort,
            schema=schema,
            label=label,
        )

    async def ff_synthesize(data, instructions, model, schema):
        return await synthesize(scheduler, data, instructions, model, schema)

    def ff_log(text):
        scheduler.check_fatal()
        on_log(str(text)[:2000])

    async def ff_tool(name, args):
        scheduler.check_fatal()
        if not isinstance(name, str) or name not in script_tools() or not isinstance(args, list):
            raise ToolError(f"unknown tool {name!r}")
        return await _replayed_tool(scheduler, name, args)

    def ff_budget():
        held = scheduler.budget
        return {"total": held.tokens, "spent": held.spent_tokens, "remaining": held.remaining()}

    functions = {
        "_ff_budget": ff_budget,
        "_ff_spawn": ff_spawn,
        "_ff_await": scheduler.await_agent,
        "_ff_gather": scheduler.gather_agents,
        "_ff_gather_limit": scheduler.gather_limit,
        "_ff_unit_failed": scheduler.unit_failed,
        "_ff_phase": scheduler.set_phase,
        "_ff_synthesize": ff_synthesize,
        "_ff_log": ff_log,
        "_ff_tool": ff_tool,
    }
    return {name: _guard(fn) for name, fn in functions.items()}


async def _replayed_tool(scheduler: Scheduler, name: str, args: list[Any]) -> Any:
    """A script tool call, journaled; on resume, what the first attempt saw or did.

    Matched to the earlier attempt's calls by (tool, arguments) and occurrence
    (`Replay.take_tool_call`); the journal's copy is redacted, so a copy that
    redaction changed is first filled back with this process's secrets, kept
    only if it reproduces the fingerprint of what was seen (`_unredact`).
    - A read (`read`, `glob`, `grep`, a read plugin) that cannot be restored so
      is done again and must give what the first attempt got; else the run
      stops (it never hands the script a `[redacted]` copy).
    - A side effect (`write`, `run`, `git_restore`) is never repeated once done:
      its journaled outcome is returned (a command's output, if unrestorable,
      redacted). Its intent is journaled before it starts, so a call an earlier
      attempt began but never saw end is known, said in the events, and done once
      more.
    """
    key = tool_key(name, args)
    reads = script_tools()[name].access == "read"
    earlier = scheduler.replay.take_tool_call(key)
    journal, run_id = scheduler.journal, scheduler.run_id
    if earlier is not None and earlier["state"] == "done":
        if earlier["error_kind"]:
            raise ToolError(earlier["error"], earlier["error_kind"])
        stored = json.loads(earlier["result_json"])
        if earlier["exact"]:
            return stored
        restored = restore(stored, earlier["result_sha"])  # the secrets put back, proved
        if restored is not None:
            return restored
        if not reads:  # a side effect is never redone: its redacted outcome it is
            return stored
        return await _read_again(scheduler, name, args, earlier)
    if earlier is not None:  # begun by an earlier attempt that ended before it did
        seq = earlier["seq"]
        journal.event(
            run_id,
            "replay",
            f"tools.{name}() was started by an earlier attempt that ended before it "
            "finished; its outcome is unknown, so it runs again",
        )
    else:
        seq = scheduler.replay.next_tool_seq
        scheduler.replay.next_tool_seq += 1
    if not reads:
        journal.record_tool_intent(run_id, seq, name, key)
    try:
        result = await _run_tool(scheduler, name, args)
    except ToolError as exc:
        journal.record_tool_call(run_id, seq, name, key, None, exc.kind, str(exc), flush=not reads)
        raise
    journal.record_tool_call(run_id, seq, name, key, result, flush=not reads)
    return result


async def _read_again(scheduler: Scheduler, name: str, args: list[Any], earlier: Any) -> Any:
    """A read whose journaled copy was redacted: done again, it must match what was seen."""
    try:
        result = await _run_tool(scheduler, name, args)
    except ToolError:
        result = None
    if result is not None and result_sha(result) == earlier["result_sha"]:
        return result
    error = RunError(
        f"cannot resume: tools.{name}() no longer gives what the first attempt read, and "
        "the journal keeps only a redacted copy (it held a secret); start a new run"
    )
    scheduler.outcomes.stop(error, scheduler.phases.current)  # fatal: nothing more runs
    raise error


async def _run_tool(scheduler: Scheduler, name: str, args: list[Any]) -> Any:
    tool = script_tools()[name]
    ctx = ToolContext(scheduler.workspace, "script", tool, scheduler.commands)
    return await script_call(tool, args, ctx, scheduler.permissions)
