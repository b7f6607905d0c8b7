"""A running run's signs of life, and the ways to stop it from outside.

While a run executes it beats a heartbeat into the journal every second (so
`ls` and `watch` can tell running from dead) and watches for a stop request:
`fanflow cancel` writes one into the journal and sends SIGTERM (which the
`fanflow` command, not the library, turns into a cancel); either makes the run
cancel everything in flight and end as `cancelled`.
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
from ._journal._lifecycle import LIVE

BEAT_S = 1.0
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


def request_stop(journal: Journal, ref: str) -> tuple[str, bool]:
    """Ask a run to stop, from any process: (run id, whether it still has to stop itself).

    A live run gets a journal request and SIGTERM; one whose process is gone
    (`interrupted`) is marked cancelled at once. A run that already ended is a
    `ConfigError`.
    """
    row = journal.get_run(ref)
    status = effective_status(row)
    if status == "interrupted":  # its process is gone: just record the decision
        journal.cancel_unfinished_agents(row["id"])
        journal.finish_run(row["id"], "cancelled", error="cancelled after it was interrupted")
        return row["id"], False
    if status not in LIVE:
        raise ConfigError(f"run {row['id']} already ended {status}; nothing to cancel")
    journal.request_cancel(row["id"])
    journal.commit()
    if row["pid"]:  # else the journal request reaches it on its next heartbeat
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(row["pid"], signal.SIGTERM)
    return row["id"], True
