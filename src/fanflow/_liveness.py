"""A running run's signs of life, and the ways to stop it from outside.

While a run executes, its lease is renewed every second by a thread
(`_journal/_lease.py`), so `ls` and `watch` tell running from dead even when the
event loop is stalled. Here, on the loop, the run watches for a stop request:
`fanflow cancel` writes one into the journal and sends SIGTERM (which the
`fanflow` command, not the library, turns into a cancel); either makes the run
cancel everything in flight and end as `cancelled`. A loop too busy to do that
in time is stopped by the lease thread instead (the CLI's hard stop). A run
whose lease was taken over stops too: its writes are refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator
from typing import Any

from ._errors import ConfigError
from ._journal import Journal, effective_status
from ._journal._lease import HOST, LeaseHeld, stop_taken_up_here
from ._journal._lifecycle import LIVE

POLL_S = 0.25


@contextlib.asynccontextmanager
async def alive(journal: Journal, run_id: str) -> AsyncIterator[None]:
    """Heartbeat and stop-request watch around the body; a stop cancels the caller's task."""
    task = asyncio.current_task()
    assert task is not None
    watcher = asyncio.create_task(_watch(journal, run_id, task))
    try:
        yield
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)  # never swallows our own cancel


async def _watch(journal: Journal, run_id: str, target: asyncio.Task[Any]) -> None:
    while True:
        if journal.lease_lost() or journal.cancel_requested(run_id):
            stop_taken_up_here()  # this loop is alive and stopping: no forced stop yet
            target.cancel()
            return
        await asyncio.sleep(POLL_S)


def request_stop(journal: Journal, ref: str) -> tuple[str, bool]:
    """Ask a run to stop, from any process: (run id, whether it still has to stop itself).

    A live run gets a journal request and SIGTERM; one whose process is gone
    (`interrupted`) is marked cancelled at once. A run that already ended is a
    `ConfigError`.
    """
    row = journal.get_run(ref)
    status = effective_status(row)
    if status == "interrupted" and _take_over(journal, row["id"]):
        journal.cancel_unfinished_agents(row["id"])  # its owner is gone: record the decision
        journal.finish_run(row["id"], "cancelled", error="cancelled after it was interrupted")
        return row["id"], False
    if status not in LIVE and status != "interrupted":
        raise ConfigError(f"run {row['id']} already ended {status}; nothing to cancel")
    journal.request_cancel(row["id"])
    journal.commit()
    local = row.get("lease_host") in (None, HOST)  # a pid on another host is not ours to signal
    if row["pid"] and local:  # else the journal request reaches its lease thread
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(row["pid"], signal.SIGTERM)
    return row["id"], True


def _take_over(journal: Journal, run_id: str) -> bool:
    """Own an interrupted run to mark it cancelled; False if a live owner got it first."""
    try:
        journal.acquire_lease(run_id)
    except LeaseHeld:
        return False  # e.g. a resume took it a moment ago: ask that owner to stop instead
    return True
