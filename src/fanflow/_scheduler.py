"""The scheduler: every host-side limit of a run, whatever the script asks for.

It registers spawns (checking the agent cap before any request is made),
runs subagents under the run-wide concurrency cap inside the run's task
group (so cancelling the run cancels every call in flight), keeps per-phase
accounting, and journals each agent as it starts and ends.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._admission import (
    checked_definition,
    checked_effort,
    checked_max_tokens,
    checked_model,
    checked_schema,
    checked_tools,
    require_str,
)
from ._agents import AgentDefinition, AgentJob, AgentRegistry, AgentTools, run_agent
from ._budget import Budget, BudgetExceeded
from ._commands import Commands
from ._errors import AccountStop, AgentCapError, FanflowError
from ._journal import Journal
from ._limits import Limits
from ._models import (
    AdaptiveLimit,
    FatalModelError,
    Message,
    Model,
    Price,
    SharedBackoff,
    Usage,
    resolve_model,
)
from ._permissions import Permissions
from ._replay import Replay, identity_of
from ._slots import PrioritySlots
from ._workspace import Workspace


@dataclass(frozen=True)
class RunSettings:
    """Model choices for a run's subagents."""

    model: str
    agent_model: str | None = None
    agent_effort: str = "high"
    default_max_tokens: int = 8000


@dataclass
class Spawn:
    """One registered subagent, from `spawn()` until its result is journaled."""

    id: int
    phase: str
    definition: AgentDefinition
    prompt: str
    tools: tuple[str, ...]
    max_tokens: int
    model_name: str
    effort: str | None
    schema: dict[str, Any] | None
    label: str | None
    context: list[Message] = field(default_factory=list)
    started: bool = False
    cached: dict[str, Any] | None = None
    """On resume: the envelope of an earlier attempt's succeeded agent (no model call)."""


class ModelCache:
    """One model object per model name for the whole run (clients are reused)."""

    def __init__(
        self,
        preset: dict[str, Model] | None = None,
        prices: dict[str, Price] | None = None,
        limiter: Callable[[str], AdaptiveLimit | None] | None = None,
        options: dict[str, dict[str, str]] | None = None,
    ) -> None:
        self._models: dict[str, Model] = dict(preset or {})
        self._prices = prices
        self._options = options or {}
        self._backoffs: dict[str, SharedBackoff] = {}
        self._limiter = limiter
        self.limiters: dict[str, AdaptiveLimit] = {}
        """One adaptive in-flight limit per provider, shared by every agent of the run."""

    def get(self, name: str) -> Model:
        if name not in self._models:
            self._models[name] = resolve_model(
                name,
                options=self._options,
                prices=self._prices,
                backoffs=self._backoffs,
                limiters=self.limiters,
                new_limiter=self._limiter,
            )
        return self._models[name]

    async def aclose(self) -> None:
        for model in self._models.values():
            await model.aclose()


class Scheduler:
    """Admits, runs and accounts for a run's subagents."""

    def __init__(
        self,
        *,
        run_id: str,
        journal: Journal,
        limits: Limits,
        settings: RunSettings,
        workspace: Workspace,
        registry: AgentRegistry,
        commands: Commands,
        models: ModelCache,
        task_group: asyncio.TaskGroup,
        permissions: Permissions,
        replay: Replay | None = None,
        budget: Budget | None = None,
    ) -> None:
        self.run_id, self.journal, self.limits, self.settings = run_id, journal, limits, settings
        self.workspace, self.registry, self.commands = workspace, registry, commands
        self.models, self._tg = models, task_group
        self.permissions = permissions
        self.replay = replay or Replay()
        self.budget = budget or Budget()
        self.budget_hit: BudgetExceeded | None = None
        self._slots = PrioritySlots(limits.concurrency)
        self._spawns: dict[int, Spawn] = {}
        self._phase_seq: dict[str, int] = {}
        self._phase_rank: dict[str, int] = {}
        self.phase = "main"
        self.in_flight = self.peak_in_flight = self.spawned = 0
        self.fatal: FanflowError | None = None
        self.failure_messages: set[str] = set()
        self.unit_failures: list[dict[str, Any]] = []
        self.last_synthesis: Any = None
        self._tasks: set[asyncio.Task[dict[str, Any]]] = set()

    # phases ----------------------------------------------------------------------
    def set_phase(self, name: object) -> None:
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise TypeError("phase() takes a non-empty name of at most 100 characters")
        self.phase = name.strip()
        self._ensure_phase(self.phase)

    def _ensure_phase(self, name: str) -> None:
        if name not in self._phase_seq:
            self._phase_seq[name] = 0
            self._phase_rank[name] = len(self._phase_rank)
            self.journal.add_phase(self.run_id, len(self._phase_seq) - 1, name)

    # admission -------------------------------------------------------------------
    def check_fatal(self) -> None:
        if self.fatal is not None:
            raise self.fatal

    def register(
        self,
        agent: object,
        prompt: object,
        *,
        tools: object = None,
        max_tokens: object = None,
        model: object = None,
        effort: object = None,
        schema: object = None,
        label: object = None,
        context: list[Message] | None = None,
    ) -> int:
        """Admit one spawn; raises before any request when it would pass the agent cap."""
        self.check_fatal()
        definition = checked_definition(self.registry, agent)
        prompt_text = require_str(prompt, "prompt")
        granted = checked_tools(tools, definition)
        model_name = checked_model(self.models, self.settings, model, definition)
        spawn_effort = checked_effort(effort, self.settings.agent_effort)
        tokens = checked_max_tokens(max_tokens, self.settings.default_max_tokens)
        schema_dict = checked_schema(schema)
        label_text = None if label is None else require_str(label, "label")[:200]
        if self.spawned >= self.limits.max_agents:
            self.fatal = AgentCapError(
                f"agent cap of {self.limits.max_agents} reached in phase {self.phase}; "
                "chunk the work or filter before spawning"
            )
            self.journal.event(self.run_id, "error", str(self.fatal), phase=self.phase)
            raise self.fatal
        self._ensure_phase(self.phase)
        self.spawned += 1
        seq = self._phase_seq[self.phase]
        self._phase_seq[self.phase] = seq + 1
        spawn = Spawn(
            0,
            self.phase,
            definition,
            prompt_text,
            granted,
            tokens,
            model_name,
            spawn_effort,
            schema_dict,
            label_text,
            context or [],
        )
        self._admit(spawn, seq)
        return spawn.id

    def _admit(self, spawn: Spawn, seq: int) -> None:
        """Give the spawn its id: an earlier attempt's agent on resume, else a new one."""
        prompt_hash = hashlib.sha256(
            (spawn.prompt + "".join(m.text for m in spawn.context)).encode()
        ).hexdigest()
        identity = identity_of(
            spawn.phase,
            spawn.definition.name,
            prompt_hash,
            spawn.tools,
            spawn.model_name,
            spawn.effort,
            spawn.schema,
        )
        earlier = self.replay.take_agent(identity)
        if earlier is not None:
            spawn.id = earlier["id"]
            if earlier["status"] == "succeeded":
                spawn.cached = {"ok": True, "value": json.loads(earlier["result_json"])}
                self.replay.reused_results += 1
            else:
                self.journal.reopen_agent(self.run_id, spawn.id)
        else:
            spawn.id = self.replay.next_agent_id
            self.replay.next_agent_id += 1
            self.journal.add_agent(
                self.run_id,
                spawn.id,
                phase=spawn.phase,
                seq_in_phase=seq,
                agent_type=spawn.definition.name,
                label=spawn.label,
                model=spawn.model_name,
                tools=list(spawn.tools),
                prompt=spawn.prompt,
                prompt_hash=prompt_hash,
                identity=identity,
            )
        self._spawns[spawn.id] = spawn

    def gather_limit(self, concurrency: object, count: int) -> int:
        """How many units of a gather run at once: the script's number can only lower the cap.

        Without a number, every unit starts: units that are not bare spawns (a
        coroutine that audits a file, then reviews its findings) mostly wait on
        agents, and the agents of all of them share the run's slots, which is
        what bounds the work. Holding units back as well would leave slots idle
        while a started unit waits for its reviewers.
        """
        if concurrency is None:
            return count
        if not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1:
            raise ValueError(
                f"gather(concurrency=) must be a positive integer (got {concurrency!r})"
            )
        return min(count, concurrency, self.limits.concurrency)

    # running -------------------------------------------------------------------------
    async def await_agent(self, agent_id: object) -> dict[str, Any]:
        """Run a registered spawn to its end; an envelope `{ok, value|error}`."""
        spawn = self._unawaited(agent_id)
        spawn.started = True
        if spawn.cached is not None:
            return spawn.cached
        task = self._tg.create_task(self._run(spawn))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return await task

    async def gather_agents(
        self, agent_ids: object, concurrency: object, strict: object
    ) -> list[Any]:
        """`gather()` over spawns only, run host-side: the script's workers, without the
        round trip through the sandbox each time an agent ends and the next one starts.

        The same semantics as the sandbox-side pool: results in order, at most
        `gather_limit` units in flight, started in order; a failure yields None,
        or with `strict` raises (units not yet started then never start).
        """
        if not isinstance(agent_ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in agent_ids
        ):
            raise TypeError("gather() takes a list of awaitables")
        for agent_id in agent_ids:
            self._unawaited(agent_id)
        if len(set(agent_ids)) != len(agent_ids):
            raise RuntimeError("each spawn() can be awaited once")
        limit = min(self.gather_limit(concurrency, len(agent_ids)), self.limits.concurrency)
        results: list[Any] = [None] * len(agent_ids)
        started = 0
        failure: list[str] = []

        async def worker() -> None:
            nonlocal started
            while started < len(agent_ids) and not failure and self.fatal is None:
                index, started = started, started + 1
                outcome = await self.await_agent(agent_ids[index])
                if outcome["ok"]:
                    results[index] = outcome["value"]
                elif strict and not failure:
                    failure.append(outcome["error"])

        async with asyncio.TaskGroup() as workers:
            for _ in range(limit):
                workers.create_task(worker())
        if failure or self.fatal is not None:
            why = str(self.fatal) if self.fatal else "an earlier unit of its strict gather failed"
            for agent_id in agent_ids[started:]:  # never started: say why, not "never awaited"
                spawn = self._spawns[agent_id]
                spawn.started = True
                self._finish(spawn, error=f"not run: {why}", status="not_run")
        self.check_fatal()
        if failure:
            raise RuntimeError(failure[0])
        return results

    def _unawaited(self, agent_id: object) -> Spawn:
        """The registered spawn `agent_id` names, if nothing awaited it yet."""
        spawn = self._spawns.get(agent_id) if isinstance(agent_id, int) else None
        if spawn is None or spawn.started:
            raise RuntimeError("each spawn() can be awaited once")
        return spawn

    def cancel_in_flight(self) -> None:
        """Cancel every running subagent (the script that wanted them has failed)."""
        for task in list(self._tasks):
            task.cancel()

    async def _run(self, spawn: Spawn) -> dict[str, Any]:
        async with self._slots.slot((-self._phase_rank[spawn.phase], spawn.id)):
            if self.fatal is not None:
                return self._finish(spawn, error=f"not run: {self.fatal}")
            if self.budget_hit is not None:
                return self._finish(spawn, error=f"not run: {self.budget_hit}", status="not_run")
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            self.journal.start_agent(self.run_id, spawn.id)
            try:
                outcome = await run_agent(self._job(spawn), lambda u: self._usage(spawn, u))
            except BudgetExceeded as exc:
                if self.budget_hit is None:
                    self.budget_hit = exc
                    self.journal.event(self.run_id, "budget", str(exc), phase=spawn.phase)
                return self._finish(spawn, error=f"stopped: {exc}", status="not_run")
            except (FatalModelError, AccountStop) as exc:
                if self.fatal is None:  # no other agent can get past this: stop spending
                    self.fatal = exc
                    self.journal.event(self.run_id, "error", str(exc), phase=spawn.phase)
                return self._finish(spawn, error=str(exc))
            except FanflowError as exc:
                return self._finish(spawn, error=str(exc))
            except Exception as exc:  # a provider bug must not take the other agents down
                return self._finish(spawn, error=f"{type(exc).__name__}: {exc}")
            finally:
                self.in_flight -= 1
        return self._finish(
            spawn, value=outcome.value, turns=outcome.turns, attempts=outcome.attempts
        )

    def _job(self, spawn: Spawn) -> AgentJob:
        return AgentJob(
            definition=spawn.definition,
            prompt=spawn.prompt,
            model=self.models.get(spawn.model_name),
            tools=AgentTools(
                self.workspace,
                spawn.tools,
                self.commands,
                self.permissions,
                f"agent {spawn.id} ({spawn.definition.name})",
            ),
            max_tokens=spawn.max_tokens,
            effort=spawn.effort,
            schema=spawn.schema,
            context=spawn.context,
            max_turns=self.limits.max_turns,
            before_request=self.budget.check_before_request,
        )

    def _usage(self, spawn: Spawn, usage: Usage) -> None:
        cost = self.models.get(spawn.model_name).price(usage)
        self.budget.add(usage, cost)
        self.journal.add_usage(self.run_id, spawn.id, spawn.phase, spawn.model_name, usage, cost)

    def _finish(
        self,
        spawn: Spawn,
        *,
        value: Any = None,
        error: str | None = None,
        turns: int = 0,
        attempts: int = 1,
        status: str = "failed",
    ) -> dict[str, Any]:
        if error is None:
            self.journal.finish_agent(
                self.run_id, spawn.id, "succeeded", result=value, turns=turns, attempts=attempts
            )
            return {"ok": True, "value": value}
        who = f"agent {spawn.id} ({spawn.definition.name}"
        who += f", {spawn.label})" if spawn.label else ")"
        message = f"{who} failed: {error}" if status == "failed" else f"{who} {error}"
        self.failure_messages.add(message)
        self.journal.finish_agent(self.run_id, spawn.id, status, error=error, turns=turns)
        if status == "failed":
            self.journal.event(
                self.run_id, "agent_failed", message, agent_id=spawn.id, phase=spawn.phase
            )
        return {"ok": False, "error": message}

    def unit_failed(self, index: object, kind: object, message: object) -> None:
        """A gathered unit raised; agent failures are already recorded, others are not."""
        self.check_fatal()
        text = f"{kind}: {message}" if kind != "RuntimeError" else str(message)
        if str(message) in self.failure_messages:
            return
        self.unit_failures.append(
            {"agent": None, "phase": self.phase, "error": f"gathered unit {index} raised {text}"}
        )
        self.journal.event(
            self.run_id, "unit_failed", f"gathered unit {index} raised {text}", phase=self.phase
        )
