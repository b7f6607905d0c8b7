"""The run's services, handed to an executor explicitly with every agent it runs.

Everything an agent touches on the host goes through here: the budget (each
call's worst case reserved before it is sent, settled when it ends), the prefix
stagger (calls that share a cacheable prefix take turns), the models (one object per name for the
whole run, so provider pacing and back-off are shared), the journal (the
agent's start and its usage rows) and the workspace tools under the run's
permissions. An executor reaches nothing else: no scheduler, no globals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .._agents import AgentSpec, AgentTools
from .._budget import Budget, Reservation, follow_up_bound, input_bound, worst_cost
from .._commands import Commands
from .._journal import Journal
from .._models import (
    AdaptiveLimit,
    Model,
    ModelRequest,
    Price,
    SharedBackoff,
    Usage,
    resolve_model,
)
from .._models._base import billed_tokens
from .._permissions import Permissions
from .._replay import AgentEffects
from .._stagger import PrefixTurn, Stagger
from .._workspace import Workspace


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


@dataclass
class CallTicket:
    """One model call's hold on the run: its budget reservation and its stagger turn."""

    spec: AgentSpec
    request: ModelRequest
    held: Reservation
    lease: PrefixTurn | None
    stagger: Stagger

    @property
    def on_begin(self) -> Callable[[], None] | None:
        """What the provider calls when the response begins; None when nobody waits on it."""
        if self.lease is None or not self.lease.leader:
            return None
        return lambda: self.stagger.began(self.lease)


@dataclass(frozen=True, kw_only=True)
class RunServices:
    """The host side of a run that an agent may use, all in one place."""

    journal: Journal
    budget: Budget
    models: ModelCache
    workspace: Workspace
    commands: Commands
    permissions: Permissions
    stagger: Stagger = field(default_factory=Stagger)
    answered: dict[int, tuple[ModelRequest, int]] = field(default_factory=dict)
    """Each running agent's last answered call and the input tokens it was billed: the
    next call's input is bounded by that count plus what was added since."""

    def model(self, spec: AgentSpec) -> Model:
        return self.models.get(spec.model)

    def tools(self, spec: AgentSpec) -> AgentEffects:
        """The agent's granted workspace tools, under the run's permission mode."""
        tools = AgentTools(self.workspace, spec.tools, self.commands, self.permissions, spec.who)
        return AgentEffects(tools, self.journal, spec.run_id, spec.agent_id)  # no redone effects

    async def reserve(self, spec: AgentSpec, request: ModelRequest) -> CallTicket:
        """Wait until the call may be sent: its worst case fits the budget, and a call
        sharing its prefix has begun its response. Raises `BudgetExceeded`."""
        model = self.models.get(spec.model)
        inputs = input_bound(request)
        earlier = self.answered.get(spec.agent_id)
        if earlier is not None:
            tighter = follow_up_bound(*earlier, request)
            inputs = inputs if tighter is None else min(inputs, tighter)
        usd = 0.0
        if self.budget.usd is not None:
            usd = worst_cost(model.price, inputs, request.max_tokens)
        held = await self.budget.reserve(inputs + request.max_tokens, usd)
        try:
            lease = await self.stagger.turn(self.stagger.key(model, spec.model, request))
        except BaseException:
            self.budget.settle(held, Usage(), 0.0)  # never sent: nothing billed
            raise
        return CallTicket(spec, request, held, lease, self.stagger)

    def settle(self, ticket: CallTicket, usage: Usage | None, answered: bool = True) -> None:
        """The call ended. `usage`: what it was billed; for a call that failed, `Usage()`
        (providers bill no failed request); None when cancelled in flight (not known: its
        whole reservation stays spent). Journals the usage row of a call that answered."""
        spec = ticket.spec
        self.stagger.ended(ticket.lease, answered=answered and usage is not None)
        if usage is None:
            self.budget.settle(ticket.held, None, None)
            return
        cost = self.models.get(spec.model).price(usage)
        overruns = self.budget.overruns
        self.budget.settle(ticket.held, usage, cost)
        if answered:
            self.journal.add_usage(spec.run_id, spec.agent_id, spec.phase, spec.model, usage, cost)
            billed_input = billed_tokens(usage) - usage.output_tokens
            self.answered[spec.agent_id] = (ticket.request, billed_input)
        if self.budget.overruns > overruns:
            self.journal.event(
                spec.run_id,
                "budget_overrun",
                f"a call of agent {spec.agent_id} was billed more than its reserved worst "
                "case; the input bound did not hold for this model",
                agent_id=spec.agent_id,
                phase=spec.phase,
            )

    def agent_started(self, spec: AgentSpec) -> None:
        self.journal.start_agent(spec.run_id, spec.agent_id)

    def agent_ended(self, spec: AgentSpec) -> None:
        self.answered.pop(spec.agent_id, None)
