"""The default executor: each agent is a task on the run's own event loop."""

from __future__ import annotations

from .._agents import AgentJob, AgentOutcome, AgentSpec, run_agent
from ._base import Executor
from ._services import RunServices


class LocalExecutor(Executor):
    """Runs the agent loop in place, calling the services directly (no hop, no copy)."""

    name = "local"

    async def run(self, spec: AgentSpec, services: RunServices) -> AgentOutcome:
        services.agent_started(spec)
        job = AgentJob(
            spec=spec,
            model=services.model(spec),
            tools=services.tools(spec),
            reserve=lambda request: services.reserve(spec, request),
            settle=services.settle,
        )
        try:
            return await run_agent(job)
        finally:
            services.agent_ended(spec)
