"""`gather()` over spawns only, run host-side.

The script's workers, without the round trip through the sandbox each time
an agent ends and the next one starts. The same semantics as the
sandbox-side pool: results in order, at most `gather_limit` units in flight,
started in order; a failure yields None, or with `strict` raises (units not
yet started then never start, and say why).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ._admission import short

if TYPE_CHECKING:
    from ._scheduler import Scheduler


def gather_limit(concurrency: object, count: int, cap: int) -> int:
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
            f"gather(concurrency=) must be a positive integer (got {short(concurrency)})"
        )
    return min(count, concurrency, cap)


async def gather_agents(
    scheduler: Scheduler, agent_ids: object, concurrency: object, strict: object
) -> list[Any]:
    """The results of the spawns `agent_ids`, in order (failures None unless `strict`)."""
    ids = _checked_ids(scheduler, agent_ids)
    cap = scheduler.limits.concurrency
    limit = min(gather_limit(concurrency, len(ids), cap), cap)
    results: list[Any] = [None] * len(ids)
    started = 0
    failure: list[str] = []
    outcomes = scheduler.outcomes

    async def worker() -> None:
        nonlocal started
        while started < len(ids) and not failure and outcomes.fatal is None:
            index, started = started, started + 1
            outcome = await scheduler.await_agent(ids[index])
            if outcome["ok"]:
                results[index] = outcome["value"]
            elif strict and not failure:
                failure.append(outcome["error"])

    async with asyncio.TaskGroup() as workers:
        for _ in range(limit):
            workers.create_task(worker())
    if failure or scheduler.fatal is not None:
        why = scheduler.fatal or "an earlier unit of its strict gather failed"
        scheduler.never_started(ids[started:], f"not run: {why}")
    scheduler.check_fatal()
    if failure:
        raise RuntimeError(failure[0])
    return results


def _checked_ids(scheduler: Scheduler, agent_ids: object) -> list[int]:
    if not isinstance(agent_ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in agent_ids
    ):
        raise TypeError("gather() takes a list of awaitables")
    for agent_id in agent_ids:
        scheduler.unawaited(agent_id)
    if len(set(agent_ids)) != len(agent_ids):
        raise RuntimeError("each spawn() can be awaited once")
    return agent_ids
