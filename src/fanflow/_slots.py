"""The run's subagent slots: a semaphore that serves the most advanced work first.

With a plain FIFO semaphore, a pipelined script (audit a file, then review its
findings while other files are still being audited) queues each reviewer
behind every auditor that asked before it, so reviews pile up at the end and
the run waits for the longest review chain after the last audit. Serving the
waiter of the latest phase first drains each pipeline as it goes; within a
phase, agents run in the order they were spawned.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import AsyncIterator


class PrioritySlots:
    """`limit` slots; waiters are served lowest `key` first, first come first among equals."""

    def __init__(self, limit: int) -> None:
        self._free = limit
        self._waiting: list[tuple[tuple[int, ...], int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @contextlib.asynccontextmanager
    async def slot(self, key: tuple[int, ...]) -> AsyncIterator[None]:
        await self._acquire(key)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, key: tuple[int, ...]) -> None:
        if self._free > 0 and not self._waiting:
            self._free -= 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (key, next(self._order), turn))
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._release()  # the slot came with the cancellation: pass it on
            raise  # a cancelled turn stays in the heap and is skipped when reached

    def _release(self) -> None:
        while self._waiting:
            _, _, turn = heapq.heappop(self._waiting)
            if not turn.done():
                turn.set_result(None)
                return
        self._free += 1
