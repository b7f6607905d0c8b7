"""A running run's signs of life, and the ways to stop it from outside.

While a run executes it beats a heartbeat into the journal every second (so
`ls` and `watch` can tell running from dead) and watches for a stop request:
`fanflow cancel` writes one into the journal and sends SIGTERM; either makes
the run cancel everything in flight and end as `cancelled`.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from typing import Any

from ._journal import Journal
from ._limits import Limits

BEAT_S = 1.0
POLL_S = 0.25


@contextlib.asynccontextmanager
async def alive(journal: Journal, run_id: str) -> AsyncIterator[None]:
    """Heartbeat and stop-request watch around the body; a stop cancels the caller's task."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
    watcher = asyncio.create_task(_watch(journal, run_id, task))
    try:
        yield
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.remove_signal_handler(signal.SIGTERM)


async def _watch(journal: Journal, run_id: str, target: asyncio.Task[Any]) -> None:
    since_beat = BEAT_S
    while True:
        if since_beat >= BEAT_S:
            journal.heartbeat(run_id)
            since_beat = 0.0
        if journal.cancel_requested(run_id):
            target.cancel()
            return
        await asyncio.sleep(POLL_S)
        since_beat += POLL_S


def options_record(options: Any, limits: Limits, budget: Any) -> dict[str, Any]:
    """What a run's settings column holds: enough to run it again in another process."""
    return {
        "model": options.model,
        "agent_model": options.agent_model,
        "agent_effort": options.agent_effort,
        "concurrency": limits.concurrency,
        "max_agents": limits.max_agents,
        "permission_mode": options.permission_mode,
        "budget_tokens": budget.tokens,
        "budget_usd": budget.usd,
    }
