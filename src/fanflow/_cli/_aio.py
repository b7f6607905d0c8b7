"""Process-wide settings that belong to the `fanflow` command, never to the library.

A program that imports fanflow keeps its own signal handlers and garbage
collector; the command line, which owns its process, sets both.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)`, where SIGTERM (what `fanflow cancel` sends) cancels `main`.

    The run then ends as `cancelled` through the same path as Ctrl-C.
    """

    async def guarded() -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
        try:
            return await main
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(signal.SIGTERM)

    return asyncio.run(guarded())


def freeze_heap() -> None:
    """Exempt what is alive now (fanflow and the provider SDKs, ~150k objects that live
    as long as the process) from garbage collection. Unfrozen, each full collection
    walks them all while every thread waits, stalling the event loop 70-100 ms mid-run
    (measured). Call it once the run's models are built."""
    gc.freeze()
