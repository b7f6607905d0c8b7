"""A run's wall time: the time its attempts ran, not the idle gaps between them.

A resumed run keeps its first `started_at`, so `ended_at - started_at` would count
the hours between a crash and its resume. Each attempt's run time is journaled
instead, as an `attempt_time` event at its end (`attempt 2 ran 12.345 s (succeeded)`);
an attempt that ended without one (its process died) is closed by the resume that
follows, from its last heartbeat or recorded end. The wall time is their sum, plus
the attempt running now.
"""

from __future__ import annotations

import re
import time
from typing import Any

ATTEMPT_TIME = "attempt_time"
_LINE = re.compile(r"^attempt (\d+) ran ([\d.]+) s")


def attempt_ended(journal: Any, run_id: str, started: float, status: str) -> None:
    """Journal the run time of the attempt that began at `started` and ends now."""
    attempt = journal.get_run(run_id)["attempt"]
    ran = max(0.0, time.time() - started)
    journal.event(run_id, ATTEMPT_TIME, f"attempt {attempt} ran {ran:.3f} s ({status})")


def close_lost_attempt(journal: Any, run_id: str, before: dict[str, Any]) -> None:
    """On resume, journal the run time of the attempt before it if that attempt never
    journaled its own (killed, or stopped by force); `before` is the run's row as it
    was before this resume took it."""
    attempt = before.get("attempt") or 1
    if len(_spans(journal, run_id)) >= attempt:
        return
    end = before.get("ended_at") or before.get("heartbeat_at")
    start = _attempt_start(journal, before)
    if not end or not start:
        return
    ran = max(0.0, end - start)
    journal.event(run_id, ATTEMPT_TIME, f"attempt {attempt} ran {ran:.3f} s (no end journaled)")


def wall_seconds(journal: Any, run: dict[str, Any], now: float | None = None) -> float:
    """The run's wall time: its finished attempts' run times and the live one's so far."""
    if not run["started_at"]:
        return 0.0
    spans = _spans(journal, run["id"])
    if not spans:  # one attempt (or a journal from before attempt times)
        end = run["ended_at"] or now or run["heartbeat_at"] or run["started_at"]
        return round(max(0.0, end - run["started_at"]), 3)
    total = sum(spans.values())
    if run["attempt"] not in spans:  # the current attempt is still running
        start = _attempt_start(journal, run)
        end = run["ended_at"] or now or run["heartbeat_at"] or start
        total += max(0.0, (end or 0.0) - (start or 0.0))
    return round(total, 3)


def _spans(journal: Any, run_id: str) -> dict[int, float]:
    """Journaled run time per attempt number."""
    spans: dict[int, float] = {}
    for event in journal.events_of_kind(run_id, ATTEMPT_TIME):
        match = _LINE.match(event["message"])
        if match:
            spans[int(match[1])] = float(match[2])
    return spans


def _attempt_start(journal: Any, run: dict[str, Any]) -> float | None:
    """When the run's latest attempt began: its last `resumed` event, else the run's start."""
    resumed = journal.events_of_kind(run["id"], "resumed")
    return resumed[-1]["at"] if resumed else run["started_at"]
