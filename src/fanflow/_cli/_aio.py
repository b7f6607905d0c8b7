"""Process-wide settings that belong to the `fanflow` command, never to the library.

A program that imports fanflow keeps its own signal handlers and garbage
collector; the command line, which owns its process, sets both.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import socket
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from .._journal import _lease

T = TypeVar("T")


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)`, where SIGTERM (what `fanflow cancel` sends) cancels `main`.

    The run then ends as `cancelled` through the same path as Ctrl-C. SIGTERM is
    taken by a thread, not by the loop (`loop.add_signal_handler` only acts when
    the loop runs, so a stalled loop ignored it): the signal's byte arrives on a
    wakeup socket that thread reads; it cancels `main` through the loop and asks
    every run this process owns to stop, which the run's lease thread forces
    (journal `cancelled`, `os._exit`) if the loop has not taken it up within
    `_lease.HARD_STOP_AFTER_S`. A SIGTERM while no run is owned ends the process
    after the same grace.
    """

    async def guarded() -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        with _sigterm_thread(loop, task):
            return await main

    with _lease.hard_stop_allowed():
        return asyncio.run(guarded())


@contextlib.contextmanager
def _sigterm_thread(loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any]):
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only: nothing to take over here
        return
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    try:
        previous_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        previous = signal.signal(signal.SIGTERM, lambda *_: None)  # the thread does the work
    except (ValueError, OSError):
        reader.close(), writer.close()
        yield
        return
    done = threading.Event()
    watcher = threading.Thread(
        target=_watch_signals, args=(reader, loop, task, done), name="fanflow-sigterm", daemon=True
    )
    watcher.start()
    try:
        yield
    finally:
        done.set()
        signal.signal(signal.SIGTERM, previous)
        signal.set_wakeup_fd(previous_fd)
        writer.close()  # wakes the thread; it closes the reader


def _watch_signals(
    reader: socket.socket,
    loop: asyncio.AbstractEventLoop,
    task: asyncio.Task[Any],
    done: threading.Event,
) -> None:
    with reader:
        while not done.is_set():
            try:
                data = reader.recv(64)
            except OSError:
                return
            if not data:
                return
            if signal.SIGTERM not in data:  # other signals (SIGINT) are the loop's
                continue
            with contextlib.suppress(RuntimeError):  # the loop already closed
                loop.call_soon_threadsafe(_cancel, task)
            if _lease.owns_a_run():
                _lease.stop_requested_here()  # its lease thread forces it if need be
            else:
                threading.Thread(target=_exit_later, args=(done,), daemon=True).start()


def _cancel(task: asyncio.Task[Any]) -> None:
    """On the loop: it is alive and takes the stop up, so it gets time to finish it."""
    _lease.stop_taken_up_here()
    task.cancel()


def _exit_later(done: threading.Event) -> None:
    if not done.wait(_lease.HARD_STOP_AFTER_S) and not _lease.owns_a_run():
        os._exit(143)  # 128 + SIGTERM: the loop never got to the cancel


def freeze_heap() -> None:
    """Exempt what is alive now (fanflow and the provider SDKs, ~150k objects that live
    as long as the process) from garbage collection. Unfrozen, each full collection
    walks them all while every thread waits, stalling the event loop 70-100 ms mid-run
    (measured). Call it once the run's models are built."""
    gc.freeze()
