"""The run's services, handed to an executor explicitly with every agent it runs.

Everything an agent touches on the host goes through here: the budget (checked
before each request, charged after), the models (one object per name for the
whole run, so provider pacing and back-off are shared), the journal (the
agent's start and its usage rows) and the workspace tools under the run's
permissions. An executor reaches nothing else: no scheduler, no globals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .._agents import AgentSpec, AgentTools
from .._budget import Budget
from .._commands import Commands
from .._journal import Journal
from .._models import AdaptiveLimit, Model, Price, SharedBackoff, Usage, resolve_model
from .._permissions import Permissions
from .._replay import AgentEffects
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


@dataclass(frozen=True, kw_only=True)
class RunServices:
    """The host side of a run that an agent may use, all in one place."""

    journal: Journal
    budget: Budget
    models: ModelCache
    workspace: Workspace
    commands: Commands
    permissions: Permissions

    def model(self, spec: AgentSpec) -> Model:
        return self.models.get(spec.model)

    def tools(self, spec: AgentSpec) -> AgentEffects:
        """The agent's granted workspace tools, under the run's permission mode."""
        tools = AgentTools(self.workspace, spec.tools, self.commands, self.permissions, spec.who)
        return AgentEffects(tools, self.journal, spec.run_id, spec.agent_id)  # no redone effects

    def before_request(self) -> None:
        """Raises `BudgetExceeded` when the run may start no new request."""
        self.budget.check_before_request()

    def agent_started(self, spec: AgentSpec) -> None:
        self.journal.start_agent(spec.run_id, spec.agent_id)

    def record_usage(self, spec: AgentSpec, usage: Usage) -> None:
        """Charge one call to the budget and journal its usage row."""
        cost = self.models.get(spec.model).price(usage)
        self.budget.add(usage, cost)
        self.journal.add_usage(spec.run_id, spec.agent_id, spec.phase, spec.model, usage, cost)
