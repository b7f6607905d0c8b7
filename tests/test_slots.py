"""The run's subagent slots: later phases first, spawn order within a phase, no leaks."""

from __future__ import annotations

import asyncio

from helpers import Probe, run

from fanflow._slots import PrioritySlots


async def hold(slots: PrioritySlots, key: tuple[int, ...], log: list, gate: asyncio.Event) -> None:
    async with slots.slot(key):
        log.append(key)
        await gate.wait()


async def test_waiters_are_served_lowest_key_first_and_in_arrival_order_among_equals():
    slots, log, gate = PrioritySlots(1), [], asyncio.Event()
    first = asyncio.create_task(hold(slots, (0, 0), log, gate))
    await asyncio.sleep(0)
    waiters = [
        asyncio.create_task(hold(slots, key, log, gate))
        for key in [(0, 2), (-1, 9), (0, 1), (-1, 3)]
    ]
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(first, *waiters)
    assert log == [(0, 0), (-1, 3), (-1, 9), (0, 1), (0, 2)]


async def test_a_cancelled_waiter_neither_takes_nor_loses_a_slot():
    slots, log, gate = PrioritySlots(1), [], asyncio.Event()
    first = asyncio.create_task(hold(slots, (0, 0), log, gate))
    await asyncio.sleep(0)
    gone = asyncio.create_task(hold(slots, (0, 1), log, gate))
    last = asyncio.create_task(hold(slots, (0, 2), log, gate))
    await asyncio.sleep(0)
    gone.cancel()
    gate.set()
    await asyncio.gather(first, last)
    assert log == [(0, 0), (0, 2)]
    await asyncio.wait_for(hold(slots, (0, 3), log, gate), 1)  # the slot came back


async def test_a_waiter_cancelled_as_its_turn_came_passes_the_slot_on():
    slots, log, gate = PrioritySlots(1), [], asyncio.Event()
    first = asyncio.create_task(hold(slots, (0, 0), log, gate))
    await asyncio.sleep(0)
    unlucky = asyncio.create_task(hold(slots, (0, 1), log, gate))
    after = asyncio.create_task(hold(slots, (0, 2), log, gate))
    await asyncio.sleep(0)
    gate.set()
    await first  # its release hands the slot to `unlucky`, which is cancelled before it runs
    unlucky.cancel()
    await asyncio.wait_for(after, 1)
    assert (0, 2) in log


async def test_a_pipelined_script_reviews_before_the_last_audit_starts():
    """At one slot, FIFO would run every audit before any review; later phases go first."""
    prompts = []

    async def probe(req):
        prompts.append(req.messages[-1].text)
        await asyncio.sleep(0.02)  # long enough for a finished audit's review to be spawned
        return '{"ok": 1}'

    script = (
        "phase('audit')\naudits = [spawn('general', f'audit {i}') for i in range(5)]\n"
        "phase('review')\n"
        "async def reviewed(a):\n    await a\n    return await spawn('general', 'review')\n"
        "await gather([reviewed(a) for a in audits])"
    )
    report = await run(script, model=probe, concurrency=1)
    assert report["status"] == "succeeded"
    assert prompts.index("review") < prompts.index("audit 4"), prompts


async def test_gather_starts_every_unit_that_is_not_a_bare_spawn():
    """Units that wait on agents all start (their agents share the run's slots); a number
    given to gather still bounds them, and can only lower the run's cap."""
    from fanflow._scheduler import Scheduler

    scheduler = Scheduler.__new__(Scheduler)
    scheduler.limits = type("L", (), {"concurrency": 16})()
    assert scheduler.gather_limit(None, 42) == 42
    assert scheduler.gather_limit(5, 42) == 5
    assert scheduler.gather_limit(500, 42) == 16
    explicit = Probe(gate=2)
    script = (
        "async def unit(i):\n    return await spawn('general', f'u{i}')\n"
        "await gather([unit(i) for i in range(6)], concurrency=2)"
    )
    await run(script, model=explicit)
    assert explicit.peak == 2
