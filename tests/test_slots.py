"""The run's subagent slots: later phases first, spawn order within a phase, no leaks."""

from __future__ import annotations

import asyncio

from helpers import Probe, run

from fanflow._slots import PrioritySlots


async def hold(slots: PrioritySlots, key: tuple[int, ...], log: list, gate: asyncio.Event) -> None:
    async with slots.slot(key):
        log.append(key)
        await gate.wait()


class OneSlot:
    """One slot, held by a first task until `gate` opens, and tasks queued behind it."""

    def __init__(self) -> None:
        self.slots, self.log, self.gate = PrioritySlots(1), [], asyncio.Event()

    async def start(self, *keys: tuple[int, ...]) -> list[asyncio.Task]:
        tasks = [asyncio.create_task(hold(self.slots, key, self.log, self.gate)) for key in keys]
        await asyncio.sleep(0)
        return tasks


async def test_waiters_are_served_lowest_key_first_and_in_arrival_order_among_equals():
    one = OneSlot()
    first = await one.start((0, 0))
    waiters = await one.start((0, 2), (-1, 9), (0, 1), (-1, 3))
    one.gate.set()
    await asyncio.gather(*first, *waiters)
    assert one.log == [(0, 0), (-1, 3), (-1, 9), (0, 1), (0, 2)]


async def test_a_cancelled_waiter_neither_takes_nor_loses_a_slot():
    one = OneSlot()
    [first] = await one.start((0, 0))
    gone, last = await one.start((0, 1), (0, 2))
    gone.cancel()
    one.gate.set()
    await asyncio.gather(first, last)
    assert one.log == [(0, 0), (0, 2)]
    await asyncio.wait_for(hold(one.slots, (0, 3), one.log, one.gate), 1)  # the slot came back


async def test_a_waiter_cancelled_as_its_turn_came_passes_the_slot_on():
    one = OneSlot()
    [first] = await one.start((0, 0))
    unlucky, after = await one.start((0, 1), (0, 2))
    one.gate.set()
    await first  # its release hands the slot to `unlucky`, which is cancelled before it runs
    unlucky.cancel()
    await asyncio.wait_for(after, 1)
    assert (0, 2) in one.log


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
    from fanflow._host_gather import gather_limit

    assert gather_limit(None, 42, cap=16) == 42
    assert gather_limit(5, 42, cap=16) == 5
    assert gather_limit(500, 42, cap=16) == 16
    explicit = Probe(gate=2)
    script = (
        "async def unit(i):\n    return await spawn('general', f'u{i}')\n"
        "await gather([unit(i) for i in range(6)], concurrency=2)"
    )
    await run(script, model=explicit)
    assert explicit.peak == 2
