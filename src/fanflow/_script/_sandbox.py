"""Runs workflow scripts in the pydantic-monty sandbox.

The script runs in a monty worker subprocess: no filesystem, network, shell
or imports beyond pure modules, with CPU time, memory and recursion limits.
It reaches the host only through the `_ff_*` functions a `HostBridge` gives
it. Time is frozen at the run's start and `random` is seeded from the run id,
so a script re-executed on resume takes the same path.

Rejected: running scripts with CPython `exec` and a restricted globals dict
(escapable through dunder walks, as the smolagents CVEs showed).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import functools
import inspect
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic_monty as monty

from .._errors import SandboxError, ScriptError
from .._limits import MAX_MESSAGE_CHARS, Limits
from .._sizes import clip
from .._tools import tools_stub
from ._channels import Channels
from ._depth import TOO_DEEP, deepest_line
from ._prelude import PRELUDE

_TOOLS_MARK = "# @tools: `ToolName` and the `tools` object, written from the tool registry"
STUBS = (
    "\n".join(
        tools_stub() if line.startswith(_TOOLS_MARK) else line
        for line in (Path(__file__).parent / "api.pyi").read_text(encoding="utf-8").splitlines()
    )
    + "\n"
)
"""The script API as the type checker and the planner read it (`api.pyi` plus the tools)."""
_CHECK_WRAPPER = "async def __fanflow_check__():\n"
_DIAGNOSTIC = re.compile(
    r"^(?P<path>.*?):(?P<line>\d+):(?P<col>\d+): (?P<level>\w+)\[(?P<code>[\w-]+)\] (?P<msg>.*)$"
)
_PRINT_LIMIT = 200_000
CHECK_SECONDS = 60.0
"""Wall time the type check of one script may take before it is refused (exit 2)."""


@dataclass(frozen=True)
class ScriptOutcome:
    """What the script's last expression evaluated to, made JSON-safe."""

    value: Any


class Sandbox:
    """A small pool of monty workers; `async with Sandbox() as sb` around a run."""

    def __init__(self, *, check_seconds: float = CHECK_SECONDS) -> None:
        self._pool = monty.AsyncMonty(min_processes=1, max_processes=2)
        self._check_seconds = check_seconds

    async def __aenter__(self) -> Sandbox:
        await self._pool.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._pool.__aexit__(*exc)

    async def check(self, script: str, path: str) -> None:
        """Parse and type-check `script` against the API stubs without running it."""
        wrapped = _CHECK_WRAPPER + "".join(f"    {line}\n" for line in script.splitlines())
        session = self._pool.checkout(
            script_name=Path(path).name,
            type_check=True,
            type_check_stubs=STUBS,
            type_check_format="concise",
            # the type check is superlinear in some shapes (nested list literals): bounded
            limits={"max_feed_duration_secs": self._check_seconds},
        )
        async with session:
            try:
                await session.feed_run(wrapped)
            except monty.MontyTypingError as exc:
                raise _typing_error(exc.display(), path) from None
            except monty.MontyCrashedError:
                raise ScriptError(
                    f"the script's type check did not finish in {self._check_seconds:g} s; "
                    "simplify deeply nested literals or very long expressions",
                    path=path,
                ) from None
            except (monty.MontySyntaxError, monty.MontyRuntimeError) as exc:
                if "too deeply nested" in str(exc):  # monty's parser has a nesting limit too
                    raise ScriptError(TOO_DEEP, path=path, line=deepest_line(script)) from None
                raise _check_runtime_error(exc, path) from None

    async def execute(
        self,
        script: str,
        path: str,
        *,
        host: dict[str, Callable[..., Any]],
        args: dict[str, str],
        limits: Limits,
        seed: str,
        started_at: float,
        on_print: Callable[[str], None],
    ) -> ScriptOutcome:
        """Run a checked script with `host` functions; its result or a `SandboxError`."""
        session = self._pool.checkout(
            script_name=Path(path).name,
            limits=_resource_limits(limits),
            os_policy={
                "datetime": dt.datetime.fromtimestamp(started_at, tz=dt.UTC),
                "random_start": {"seed": seed},
                "sleep": "zero",
            },
        )
        loop = asyncio.get_running_loop()
        host = {name: _on_loop_thread(fn, loop) for name, fn in Channels().wrap(host).items()}
        printer = _on_loop_thread(_CappedPrinter(on_print), loop)
        async with session:
            try:
                await session.feed_run(PRELUDE, external_lookup=host, print_callback=printer)
                value = await session.feed_run(
                    script,
                    external_lookup=host,
                    inputs={"args": dict(args)},
                    print_callback=printer,
                )
            except monty.MontyCrashedError as exc:
                raise SandboxError(
                    f"the script's sandbox worker died ({exc}); "
                    "it may have exhausted memory; simplify the script"
                ) from None
            except monty.MontyError as exc:
                raise _runtime_error(exc, path) from None
        return ScriptOutcome(to_jsonable(value))


CALLBACK_TIMEOUT_S = 600.0


def _on_loop_thread(fn: Callable[..., Any], loop: asyncio.AbstractEventLoop) -> Callable[..., Any]:
    """`fn`, made to run on the event loop's thread whoever calls it.

    monty calls sync host functions and the print callback on a thread of its
    own, while agents run on the loop; the scheduler and the journal are not
    thread-safe (two threads writing once met as "cannot start a transaction
    within a transaction"), so every such call is handed to the loop and
    waited for. Coroutine functions are already awaited on the loop.
    """
    if inspect.iscoroutinefunction(fn):
        return fn
    owner = threading.get_ident()

    @functools.wraps(fn)
    def on_loop(*args: Any, **kwargs: Any) -> Any:
        if threading.get_ident() == owner:
            return fn(*args, **kwargs)
        done: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def call() -> None:
            if done.set_running_or_notify_cancel():
                try:
                    done.set_result(fn(*args, **kwargs))
                except BaseException as exc:  # handed to the sandbox's thread as is
                    done.set_exception(exc)

        loop.call_soon_threadsafe(call)
        return done.result(timeout=CALLBACK_TIMEOUT_S)

    return on_loop


class _CappedPrinter:
    """Sends the script's print() output to the event log, cut after a limit."""

    def __init__(self, sink: Callable[[str], None]) -> None:
        self._sink, self._left = sink, _PRINT_LIMIT

    def __call__(self, stream: str, text: str) -> None:
        if self._left <= 0:
            return
        text = text.rstrip("\n")
        if len(text) > self._left:
            text = text[: self._left] + " [... print output cut ...]"
        self._left -= len(text)
        if text:
            self._sink(text)


def _resource_limits(limits: Limits) -> monty.ResourceLimits:
    return {
        "max_feed_duration_secs": limits.script_cpu_seconds,
        "max_memory": limits.script_memory_bytes,
        "max_recursion_depth": limits.script_recursion_depth,
        "max_suspensions": 20 * limits.max_agents + 50_000,
    }


def _typing_error(text: str, path: str) -> ScriptError:
    errors = []
    for raw in text.splitlines():
        match = _DIAGNOSTIC.match(raw.strip())
        if match and match["level"] == "error":
            errors.append(
                (
                    int(match["line"]) - 1,
                    max(1, int(match["col"]) - 4),
                    f"{match['msg']} [{match['code']}]",
                )
            )
    if not errors:
        first = text.strip().splitlines()[0] if text.strip() else "type check failed"
        return ScriptError(clip(first, MAX_MESSAGE_CHARS), path=path)
    line, col, msg = errors[0]
    msg = clip(msg, MAX_MESSAGE_CHARS)
    details = [f"{path}:{ln}:{c}: {clip(m, MAX_MESSAGE_CHARS)}" for ln, c, m in errors[:50]]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return ScriptError(msg + more, path=path, line=line, column=col, details=details)


def _check_runtime_error(exc: monty.MontyError, path: str) -> ScriptError:
    frames = exc.traceback() if hasattr(exc, "traceback") else []
    line = frames[-1].line - 1 if frames else None
    message = exc.display("type-msg") if hasattr(exc, "display") else str(exc)
    if message.startswith("NotImplementedError: "):
        message = message.removeprefix("NotImplementedError: ") + " (not supported in scripts)"
    message = clip(message, MAX_MESSAGE_CHARS)
    return ScriptError(message, path=path, line=line if line and line > 0 else None)


def _runtime_error(exc: monty.MontyError, path: str) -> SandboxError:
    message = exc.display("type-msg") if hasattr(exc, "display") else str(exc)
    frames = exc.traceback() if hasattr(exc, "traceback") else []
    script_frames = [f for f in frames if f.filename == "<python-input-1>"]
    where = f"{path}:{script_frames[-1].line}: " if script_frames else f"{path}: "
    hint = _limit_hint(message)
    # the script's own exception text: the run's error, journaled and in every report
    return SandboxError(f"{where}{clip(message, MAX_MESSAGE_CHARS)}{hint}")


def _limit_hint(message: str) -> str:
    if message.startswith("TimeoutError"):
        return " (the script's CPU time limit; move heavy work into subagents)"
    if message.startswith("MemoryError"):
        return " (the script's memory limit; process data in smaller pieces)"
    if message.startswith("RecursionError"):
        return " (the script's recursion limit)"
    return ""


def to_jsonable(value: Any) -> Any:
    """Sandbox values as JSON data: tuples and sets become lists, other objects their repr."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 13_000:
        return f"<an int of about {int(value.bit_length() * 0.30103)} digits>"
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((to_jsonable(v) for v in value), key=repr)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return repr(value)
