"""The executor seam: a spec goes in, an outcome comes out, the run's services beside it.

The scheduler decides *whether* and *when* an agent runs (agent cap, slots,
budget stop, replay); an executor only decides *where*. It gets a plain
`AgentSpec`, the run's `RunServices`, and answers with a plain `AgentOutcome`.
Cancelling the awaiting task must stop the agent wherever it runs.
"""

from __future__ import annotations

import abc

from .._agents import AgentOutcome, AgentSpec
from ._services import RunServices


class Executor(abc.ABC):
    """Runs agents somewhere: on this event loop, a thread, another machine."""

    name: str = "executor"

    @abc.abstractmethod
    async def run(self, spec: AgentSpec, services: RunServices) -> AgentOutcome:
        """Run one agent to its end; every failure is an outcome, cancellation raises."""
