"""One workflow run, from checked script to journaled report.

Order matters and is the contract of DESIGN §6: everything that can be
checked (workspace, config, model names, agent names, the script's syntax and
types) is checked before the run is journaled or any model is called; a
failure there is a `UserError` and nothing is spent.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from ._agents import AgentRegistry
from ._breaker import PAUSED, is_pause
from ._bridge import host_functions
from ._budget import Budget
from ._commands import Commands
from ._config import chosen_model, load_config
from ._errors import ConfigError, FanflowError, RunError
from ._estimate import Assumptions, EstimatingModels, summarize
from ._executors import Executor, ModelCache, RunServices
from ._journal import Journal
from ._limits import run_limits
from ._liveness import alive
from ._models import HOW_TO_CHOOSE, AdaptiveLimit, Model
from ._options import RunOptions
from ._permissions import Asker, Permissions
from ._replay import Replay
from ._report import build_report, work_counts, work_warning
from ._rights import secrets_granted
from ._run_record import RunRecord
from ._run_time import attempt_ended, close_lost_attempt
from ._scheduler import Scheduler
from ._script import Sandbox, ScriptInfo, check_syntax_and_names
from ._stagger import Stagger
from ._workspace import Workspace


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


class Run(RunRecord):
    """Prepare with the constructor, then `await check(sandbox)` and `await execute(sandbox)`."""

    def __init__(
        self,
        script: str,
        options: RunOptions,
        journal: Journal,
        models: dict[str, Model] | None = None,
        asker: Asker | None = None,
        *,
        run_id: str | None = None,
        mode: str = "new",
        estimating: Assumptions | None = None,
        estimated_models: Any = None,
        executor: Executor | None = None,
    ) -> None:
        """`mode`: "new"; "prepared" (the row exists, e.g. for --background); "resume".

        With `estimating`, the run is the no-model twin that `estimate` executes,
        answering for the real run's `estimated_models`. `executor`: where agents
        run (None: on this event loop).
        """
        self.script, self.options, self.journal = script, options, journal
        self.run_id = run_id or new_run_id()
        self.mode = mode
        self.workspace = Workspace(
            options.workspace,
            on_state=lambda path, sha: journal.set_file_state(self.run_id, path, sha),
            dry=estimating is not None,
        )
        config = load_config(self.workspace.root)
        model = chosen_model(options.model, config)
        if model is None:  # never a silent default: an offline model would "succeed" empty
            raise ConfigError(HOW_TO_CHOOSE)
        self.options = options = replace(options, model=model)
        self.workspace.allow_secrets = secrets_granted(options.allow_secrets, config)
        self.limits = run_limits(  # the workspace config may only lower the caps
            options.limits,
            concurrency=options.concurrency,
            max_agents=options.max_agents,
            config_concurrency=config.concurrency,
            config_max_agents=config.max_agents,
        )
        self.commands = Commands(
            self.workspace.root,
            config.commands,
            dry=estimating is not None,
            concurrency=self.limits.concurrency,
        )
        self.registry = AgentRegistry(self.workspace.root)
        self.permissions = Permissions(
            "auto"
            if estimating and options.permission_mode == "prompt"
            else options.permission_mode,
            asker=asker,
            declared_commands=frozenset(self.commands.declared),
            on_block=lambda message: self.journal.event(self.run_id, "blocked", message),
        )
        if estimating is not None:  # the twin stands in for `estimated_models`, never calls them
            self.models: Any = EstimatingModels(estimated_models, estimating)
        else:
            self.models = ModelCache(
                models,
                prices=config.prices,
                limiter=self._limiter,
                options=config.model_options,
            )
            for name in {options.model, options.agent_model} - {None}:
                self.models.get(name)  # type: ignore[arg-type]  # unknown model: ConfigError now
        self.info: ScriptInfo = check_syntax_and_names(script, options.script_path, self.registry)
        for agent_type in set(self.info.agent_types) if estimating is None else ():
            model = self.registry.get(agent_type).model  # an agent file's model: known now
            if model:
                self.models.get(model)
        self.replay = Replay(journal, self.run_id) if mode == "resume" else Replay()
        self.budget = Budget(
            tokens=options.budget_tokens or config.budget_tokens,
            usd=options.budget_usd or config.budget_usd,
        )
        self.options = replace(  # what the run uses, config included: what the journal keeps
            options,
            concurrency=self.limits.concurrency,
            max_agents=self.limits.max_agents,
            budget_tokens=self.budget.tokens,
            budget_usd=self.budget.usd,
        )
        self.executor = executor
        self.started = asyncio.Event()
        self.lead_usage: list[tuple[str, Any, float | None]] = []
        """(model, usage, cost) of the lead model's planning calls, journaled as phase plan."""

    def _limiter(self, provider: str) -> AdaptiveLimit | None:
        """The run's adaptive in-flight limit for one provider (None: adaptation off)."""
        if not self.limits.adaptive:
            return None

        def changed(limit: int, why: str) -> None:
            self.journal.event(
                self.run_id, "concurrency", f"{provider}: in-flight limit {limit} ({why})"
            )

        return AdaptiveLimit(self.limits.concurrency, changed)

    async def estimate(
        self, sandbox: Sandbox, assumptions: Assumptions | None = None
    ) -> dict[str, Any]:
        """Per-phase agents, tokens and cost of this run, from a run with no model calls."""
        assumptions = assumptions or Assumptions()
        journal = Journal(":memory:")
        twin = Run(
            self.script,
            replace(self.options, budget_tokens=None, budget_usd=None),
            journal,
            run_id=self.run_id,
            estimating=assumptions,
            estimated_models=self.models,
        )
        report = await twin.execute(sandbox, propagate_cancel=True)
        summary = summarize(journal, self.run_id, report, assumptions, twin.models.worst)
        journal.close()
        return summary

    async def check(self, sandbox: Sandbox) -> None:
        """The sandbox's type check; a `ScriptError` with the line if it fails."""
        await sandbox.check(self.script, self.options.script_path)

    async def execute(self, sandbox: Sandbox, *, propagate_cancel: bool = False) -> dict[str, Any]:
        """Run the checked script; the report, whatever happened.

        Cancelled, the run is journaled `cancelled` first; then, with `propagate_cancel`
        (a library caller's task), the `CancelledError` goes on to the caller; without
        (the CLI, which prints the report and exits 130), the report is returned.
        """
        before = self.journal.get_run(self.run_id) if self.mode == "resume" else {}
        started = self._journal_start()  # takes the run's lease (or raises LeaseHeld)
        attempt_started = time.time()
        if self.mode == "resume":  # what the journal holds now that we own it, not before
            self.replay = Replay(self.journal, self.run_id)
            close_lost_attempt(self.journal, self.run_id, before)
            self._event("resumed", self._resumed_line())
        status, result, error = "failed", None, None
        scheduler: Scheduler | None = None
        failure: FanflowError | None = None
        cancelled: asyncio.CancelledError | None = None
        try:
            async with alive(self.journal, self.run_id), asyncio.TaskGroup() as tg:
                scheduler = self._scheduler(tg)
                try:
                    outcome = await sandbox.execute(
                        self.script,
                        self.options.script_path,
                        host=host_functions(scheduler, self._log),
                        args=self.options.args,
                        limits=self.limits,
                        seed=self.run_id,
                        started_at=started,
                        on_print=lambda text: self._event("print", text),
                    )
                except FanflowError as exc:
                    failure = exc
                    scheduler.cancel_in_flight()  # the script is gone: stop spending
            why = None
            if failure is None:
                result = outcome.value
                status, why = self._status(scheduler)
            elif is_pause(scheduler.fatal):
                status = PAUSED  # the account stopped it (the breaker): resumable, not a bug
            elif scheduler.budget_hit is not None and scheduler.fatal is None:
                status = "budget_exceeded"  # the script died of the budget stop, not a bug
            stop = scheduler.fatal or scheduler.budget_hit or failure
            error = str(stop) if stop else why
        except asyncio.CancelledError as exc:
            status, cancelled = "cancelled", exc
        finally:
            await self.models.aclose()
        attempt_ended(self.journal, self.run_id, attempt_started, status)
        self._journal_end(status, result, error, scheduler)
        if cancelled is not None:
            if propagate_cancel:
                raise cancelled
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()  # the CLI's own Ctrl-C or stop request: handled, reported
        return build_report(self.journal, self.run_id)

    def _scheduler(self, tg: asyncio.TaskGroup) -> Scheduler:
        services = RunServices(
            journal=self.journal,
            budget=self.budget,
            models=self.models,
            workspace=self.workspace,
            commands=self.commands,
            permissions=self.permissions,
            stagger=Stagger(self.options.stagger_ms),
        )
        return Scheduler(
            run_id=self.run_id,
            options=self.options,
            limits=self.limits,
            registry=self.registry,
            services=services,
            task_group=tg,
            replay=self.replay,
            executor=self.executor,
        )

    def _status(self, scheduler: Scheduler) -> tuple[str, str | None]:
        """The status of a run whose script finished, and why it failed if it did."""
        if is_pause(scheduler.fatal):
            return PAUSED, None
        if scheduler.fatal is not None:
            return "failed", None
        if scheduler.budget_hit is not None:
            return "budget_exceeded", None
        counts = self.journal.agent_counts(self.run_id)
        failed = counts.get("failed", 0) + len(scheduler.unit_failures)
        if failed and not counts.get("succeeded"):
            return "failed", None  # a run that only fails is not a partial success
        succeeded, work_failed = work_counts(self.journal, self.run_id)
        if work_failed and not succeeded:  # only synthesizers succeeded: over nothing
            return "failed", work_warning(self.journal, self.run_id)
        return ("partial" if failed else "succeeded"), None

    def _resumed_line(self) -> str:
        """The one line a resume prints about what it takes from earlier attempts."""
        attempt = self.journal.get_run(self.run_id)["attempt"]
        agents = self.journal.agent_counts(self.run_id).get("succeeded", 0)
        calls = len(self.journal.tool_calls(self.run_id))
        return (
            f"attempt {attempt}: re-executing the script; {agents} finished agent(s) and "
            f"{calls} script tool call(s) of earlier attempts are replayed, not re-run"
        )

    def _log(self, text: str) -> None:
        self._event("log", text)

    def _event(self, kind: str, text: str) -> None:
        self.journal.event(self.run_id, kind, text)


async def run_script(
    script: str,
    options: RunOptions | None = None,
    *,
    journal: Journal | None = None,
    models: dict[str, Model] | None = None,
    asker: Asker | None = None,
) -> dict[str, Any]:
    """Check and run `script`; the DESIGN §5 report. The programmatic `fanflow run`.

    `asker` answers `--permission-mode prompt` questions (default: the terminal).
    Cancelling the task that awaits it cancels the run: the journal records
    `cancelled`, then `CancelledError` reaches the caller.
    """
    return await execute_script(script, options, journal=journal, models=models, asker=asker)


async def execute_script(
    script: str,
    options: RunOptions | None = None,
    *,
    journal: Journal | None = None,
    models: dict[str, Model] | None = None,
    asker: Asker | None = None,
    executor: Executor | None = None,
) -> dict[str, Any]:
    """`run_script` with the internal choices too: `executor` runs the agents."""
    journal = journal or Journal()
    run = Run(script, options or RunOptions(), journal, models, asker, executor=executor)
    async with Sandbox() as sandbox:
        await run.check(sandbox)
        return await run.execute(sandbox, propagate_cancel=True)


def read_script(path: str) -> str:
    """A script file's text, or a `ConfigError` that says what is wrong with it."""
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"no script at {path!r}; pass a file path or a saved workflow name")
    if p.is_dir():
        raise ConfigError(f"{path!r} is a directory; pass the workflow's .py file")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path!r}: {exc.strerror}") from None
    if b"\x00" in data:
        raise ConfigError(f"{path!r} is a binary file, not a Python workflow script")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path!r} is not UTF-8 text; save it as UTF-8") from None


__all__ = ["Run", "RunError", "RunOptions", "read_script", "run_script"]
