"""The scheduler: every host-side limit of a run, whatever the script asks for.

It is the one object the sandbox's host functions call. Each concern lives
in a module of its own, and the scheduler wires them in order:

    _admission   a spawn's arguments checked, the agent cap (before any request)
    _replay      the spawn's identity: an earlier attempt's agent on resume
    _phases      phases, positions in a phase, agents in flight
    _slots       the run-wide concurrency cap, later phases first
    _executors   where the agent runs: a plain spec in, a plain outcome out
    _outcomes    each outcome journaled; a budget or fatal stop for the run
    _host_gather gather() over spawns, run host-side

Agents run as tasks in the run's task group, so cancelling the run cancels
every agent, wherever its executor runs it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ._admission import Admission, Spawn
from ._agents import AgentRegistry, AgentSpec
from ._attempts import AgentWatch, watching
from ._budget import BudgetExceeded
from ._errors import AgentCapError, FanflowError
from ._executors import Executor, LocalExecutor, RunServices
from ._host_gather import gather_agents, gather_limit
from ._limits import Limits
from ._models import Message
from ._options import RunOptions
from ._outcomes import Outcomes
from ._phases import Phases
from ._replay import Replay, admit
from ._slots import PrioritySlots


class Scheduler:
    """Admits, runs and accounts for a run's subagents."""

    def __init__(
        self,
        *,
        run_id: str,
        options: RunOptions,
        limits: Limits,
        registry: AgentRegistry,
        services: RunServices,
        task_group: asyncio.TaskGroup,
        replay: Replay | None = None,
        executor: Executor | None = None,
    ) -> None:
        self.run_id, self.settings, self.limits = run_id, options, limits
        self.services, self._tg = services, task_group
        self.journal, self.models = services.journal, services.models
        self.workspace, self.commands = services.workspace, services.commands
        self.permissions, self.budget = services.permissions, services.budget
        self.replay = replay or Replay()
        self.executor = executor or LocalExecutor()
        self.phases = Phases(self.journal, run_id)
        self.outcomes = Outcomes(self.journal, run_id)
        self._admission = Admission(
            run_id=run_id, registry=registry, models=self.models, options=options, limits=limits
        )
        self._slots = PrioritySlots(limits.concurrency)
        self._spawns: dict[int, Spawn] = {}
        self._tasks: set[asyncio.Task[dict[str, Any]]] = set()
        self.last_synthesis: Any = None

    # the run's stop state and failures (kept by _outcomes) ---------------------------
    @property
    def fatal(self) -> FanflowError | None:
        return self.outcomes.fatal

    @property
    def budget_hit(self) -> BudgetExceeded | None:
        return self.outcomes.budget_hit

    @property
    def unit_failures(self) -> list[dict[str, Any]]:
        return self.outcomes.unit_failures

    def check_fatal(self) -> None:
        if self.fatal is not None:
            raise self.fatal

    # what the host functions call ----------------------------------------------------
    def set_phase(self, name: object) -> None:
        self.phases.set(name)

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
        phase = self.phases.current
        checked = self._admission.check(
            phase,
            agent,
            prompt,
            tools=tools,
            max_tokens=max_tokens,
            model=model,
            effort=effort,
            schema=schema,
            label=label,
            context=context,
        )
        try:
            self._admission.count(phase)
        except AgentCapError as exc:
            self.outcomes.stop(exc, phase)
            raise
        agent_id, cached = admit(self.replay, self.journal, checked, self.phases.next_position())
        spec = AgentSpec(agent_id=agent_id, **checked)
        self._spawns[agent_id] = self._admission.admitted(spec, cached)
        return agent_id

    def gather_limit(self, concurrency: object, count: int) -> int:
        return gather_limit(concurrency, count, self.limits.concurrency)

    async def gather_agents(
        self, agent_ids: object, concurrency: object, strict: object
    ) -> list[Any]:
        return await gather_agents(self, agent_ids, concurrency, strict)

    def unit_failed(self, index: object, kind: object, message: object) -> None:
        self.check_fatal()
        self.outcomes.unit_failed(index, kind, message, self.phases.current)

    # running -------------------------------------------------------------------------
    async def await_agent(self, agent_id: object) -> dict[str, Any]:
        """Run a registered spawn to its end; an envelope `{ok, value|error}`."""
        spawn = self.unawaited(agent_id)
        spawn.started = True
        if spawn.cached is not None:
            return spawn.cached
        task = self._tg.create_task(self._run(spawn))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return await task

    def unawaited(self, agent_id: object) -> Spawn:
        """The registered spawn `agent_id` names, if nothing awaited it yet."""
        spawn = self._spawns.get(agent_id) if isinstance(agent_id, int) else None
        if spawn is None or spawn.started:
            raise RuntimeError("each spawn() can be awaited once")
        return spawn

    def never_started(self, agent_ids: list[int], why: str) -> None:
        """Spawns a stopped gather will not start: journaled `not_run`, with the reason."""
        for agent_id in agent_ids:
            spawn = self._spawns[agent_id]
            spawn.started = True
            self.outcomes.failed(spawn, why, status="not_run")

    def cancel_in_flight(self) -> None:
        """Cancel every running subagent (the script that wanted them has failed)."""
        for task in list(self._tasks):
            task.cancel()

    async def _run(self, spawn: Spawn) -> dict[str, Any]:
        spec = spawn.spec
        async with self._slots.slot((-self.phases.rank(spec.phase), spec.agent_id)):
            refused = self.outcomes.refusal(spawn)
            if refused is not None:
                return refused
            self.phases.took_off()
            watch = AgentWatch(self.journal, spec, self.outcomes.breaker)
            try:
                with watching(watch):  # its calls: attempts journaled, the breaker's gate
                    outcome = await self.executor.run(spec, self.services)
            except asyncio.CancelledError as exc:  # journaled with the turns and calls it made
                self.outcomes.cancelled(spawn, getattr(exc, "progress", None), watch.sent)
                raise
            finally:
                self.phases.landed()
        return self.outcomes.settle(spawn, watch.amend(outcome))
