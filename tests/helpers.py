"""Shared test helpers: a concurrency probe model, a second executor, a one-call runner."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fanflow import FunctionModel, Model, ModelRequest, ModelResponse, RunOptions
from fanflow._agents import AgentJob, AgentOutcome, AgentSpec, run_agent
from fanflow._executors import Executor, RunServices
from fanflow._journal import Journal
from fanflow._models import ToolCall, ToolResult, ToolSpec
from fanflow._run import execute_script

REPO = Path(__file__).resolve().parent.parent


async def fanflow_process(*args: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    """`python -m fanflow ARGS` started from the repo with `env`, its output piped."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "fanflow",
        *args,
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


EXAMPLE = REPO / "examples" / "race_audit" / "audit.py"


class Probe:
    """A model function that counts calls and calls in flight.

    With `gate=N` the first calls block until N are in flight at once, which
    proves N concurrent calls happen without relying on timing.
    """

    def __init__(
        self, *, gate: int | None = None, reply: Any = None, fail_when: str | None = None
    ) -> None:
        self.calls = self.in_flight = self.peak = 0
        self.gate = gate
        self.opened = asyncio.Event()
        self.reply = reply if reply is not None else {"ok": True}
        self.fail_when = fail_when
        self.prompts: list[str] = []

    async def __call__(self, req: ModelRequest) -> str:
        self.calls += 1
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        prompt = req.messages[-1].text
        self.prompts.append(prompt)
        try:
            if self.gate is not None:
                if self.in_flight >= self.gate:
                    self.opened.set()
                await asyncio.wait_for(self.opened.wait(), 10)
            for _ in range(3):
                await asyncio.sleep(0)
            if self.fail_when and self.fail_when in prompt:
                raise RuntimeError(f"model exploded on {prompt!r}")
            return json.dumps(self.reply)
        finally:
            self.in_flight -= 1


class ThreadExecutor(Executor):
    """Runs each agent's loop on an event loop of its own in a worker thread.

    The second executor that proves the seam: it gets the agent as JSON (as a
    remote one would) and reaches the run only through `RunServices`, every call
    handed back to the run's loop. Cancelling the awaiting task cancels the
    agent's task on its loop, and the thread ends.
    """

    name = "thread"

    def __init__(self) -> None:
        self.agent_threads: set[int] = set()
        """Threads the agent loops ran on."""
        self.threads: list[threading.Thread] = []

    async def run(self, spec: AgentSpec, services: RunServices) -> AgentOutcome:
        home = asyncio.get_running_loop()
        wire = json.dumps(spec.to_dict())  # nothing live crosses, as to another machine
        loop = asyncio.new_event_loop()
        ended: asyncio.Future[Any] = home.create_future()
        args = (loop, wire, services, home, ended)
        thread = threading.Thread(target=self._main, args=args, daemon=True)
        self.threads.append(thread)
        thread.start()
        try:
            result = await asyncio.shield(ended)
        except asyncio.CancelledError:
            with contextlib.suppress(RuntimeError):  # its loop just closed: the agent ended
                loop.call_soon_threadsafe(_cancel_all, loop)
            await ended  # the agent's loop has stopped once this resolves
            raise
        if isinstance(result, BaseException):
            raise result
        return AgentOutcome.from_dict(json.loads(json.dumps(result.to_dict(), default=str)))

    def _main(self, loop, wire, services, home, ended) -> None:
        self.agent_threads.add(threading.get_ident())
        try:
            job = _remote_job(AgentSpec.from_dict(json.loads(wire)), services, home)
            result: Any = loop.run_until_complete(run_agent(job))
        except BaseException as exc:  # cancelled: the awaiting side re-raises its own
            result = exc
        finally:
            loop.close()
        home.call_soon_threadsafe(_resolve, ended, result)


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    for task in asyncio.all_tasks(loop):
        task.cancel()


def _resolve(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _remote_job(spec: AgentSpec, services: RunServices, home: asyncio.AbstractEventLoop):
    """The agent's side of the services: each call runs on the run's loop, awaited here."""

    def on_home(fn: Callable[..., Any], *args: Any) -> Any:
        done: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def call() -> None:
            try:
                done.set_result(fn(*args))
            except BaseException as exc:
                done.set_exception(exc)

        home.call_soon_threadsafe(call)
        return done.result()

    on_home(services.agent_started, spec)
    return AgentJob(
        spec=spec,
        model=_RemoteModel(on_home(services.model, spec), home),
        tools=_RemoteTools(on_home(services.tools, spec), home),
        reserve=lambda request: _on_home(home, services.reserve(spec, request)),
        settle=lambda *args, **kw: on_home(lambda: services.settle(*args, **kw)),
    )


async def _on_home(home: asyncio.AbstractEventLoop, coro: Any) -> Any:
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, home))


class _RemoteModel(Model):
    def __init__(self, model: Model, home: asyncio.AbstractEventLoop) -> None:
        self.name, self._model, self._home = model.name, model, home

    async def request(self, req: ModelRequest) -> ModelResponse:
        return await _on_home(self._home, self._model.request(req))


class _RemoteTools:
    def __init__(self, tools: Any, home: asyncio.AbstractEventLoop) -> None:
        self._specs: list[ToolSpec] = tools.specs()
        self._tools, self._home = tools, home

    def specs(self) -> list[ToolSpec]:
        return self._specs

    async def execute(self, call: ToolCall) -> ToolResult:
        return await _on_home(self._home, self._tools.execute(call))


def live_threads(executor: Executor | None) -> list[threading.Thread]:
    """The executor's agent threads still running a moment after their agents ended."""
    threads = getattr(executor, "threads", [])
    for thread in threads:
        thread.join(timeout=5)  # each resolves its agent as its last act, then returns
    return [t for t in threads if t.is_alive()]


EXECUTORS: dict[str, Callable[[], Executor | None]] = {
    "local": lambda: None,
    "thread": ThreadExecutor,
}
"""What tests run agents with; tests/test_scheduler.py runs under each."""

executor_factory: Callable[[], Executor | None] = EXECUTORS["local"]


async def run(
    script: str,
    *,
    model: Any = None,
    journal: Journal | None = None,
    model_name: str | None = None,
    executor: Executor | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Run `script` on a FunctionModel (`model`), a named model (`model_name`), or the
    offline `test` model; its agents on `executor` (default: `executor_factory()`)."""
    models = None
    if model_name is not None:
        options["model"] = model_name
    if model is not None:
        fn = model if isinstance(model, FunctionModel) else FunctionModel(model, name="fake")
        models = {"fake": fn}
        options.setdefault("model", "fake")
    options.setdefault("model", "test")
    options.setdefault("workspace", str(REPO))
    return await execute_script(
        script,
        RunOptions(**options),
        journal=journal or Journal(),
        models=models,
        executor=executor or executor_factory(),
    )


def journal_run(journal: Journal, run_id: str, **fields: Any) -> None:
    """Journal a pending run for a test: the fields it names, plain defaults for the rest."""
    defaults: dict[str, Any] = {
        "script_hash": "h",
        "script_path": None,
        "workflow_name": None,
        "args": {},
        "settings": {},
    }
    journal.create_run(run_id, **{**defaults, **fields})
