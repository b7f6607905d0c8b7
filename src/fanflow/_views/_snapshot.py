"""A run's progress as plain numbers, read from the journal.

Views render a `RunSnapshot`; they never count anything themselves, so the
foreground progress, `show` and later `watch` all agree.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from .._attempts import RETRY, RETRY_LINE
from .._breaker import PAUSED
from .._journal import Journal, effective_status
from .._journal._encode import loads
from .._journal._lifecycle import LIVE
from .._models._base import billed_tokens
from .._report import attempt_first_event
from .._run_time import ATTEMPT_TIME, wall_seconds

MAX_HOLDS = 3


@dataclass(frozen=True)
class PhaseRow:
    name: str
    agents: int
    succeeded: int
    failed: int
    running: int
    input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int


@dataclass(frozen=True)
class RunSnapshot:
    run_id: str
    status: str
    elapsed_s: float
    concurrency_cap: int
    running: int
    phases: list[PhaseRow] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=dict)
    recent_events: list[str] = field(default_factory=list)
    adaptive_limit: int | None = None
    """The in-flight limit adaptive concurrency set last, if it ever lowered it."""
    paced_per_minute: int | None = None
    """The request rate sends are spaced to, once a provider's headers made the run wait."""
    retried: int = 0
    """Agents that retried at least one model call."""
    retries: int = 0
    """Failed attempts that were retried, all agents together."""
    holds: list[str] = field(default_factory=list)
    """Running agents waiting to retry now: `agent 7 holding 12 s: 429 retry-after`."""
    paused: str | None = None
    """Why the run paused (the breaker's one line), for a paused run."""

    @property
    def total_tokens(self) -> int:
        return billed_tokens(self.usage)


def take_snapshot(journal: Journal, run_id: str, events: int = 4) -> RunSnapshot:
    run = journal.get_run(run_id)
    phases = [
        PhaseRow(
            p["name"],
            p["agents"],
            p["succeeded"],
            p["failed"],
            p["running"],
            p["input_tokens"],
            p["output_tokens"],
            p["cache_read_input_tokens"],
        )
        for p in journal.phases(run_id)
    ]
    settings = loads(run["settings_json"]) or {}
    since = attempt_first_event(journal, run_id)  # a resumed run: its latest attempt's
    recent = (
        [
            event_line(e)
            for e in journal.recent_events(run_id, events + 1)
            if e["id"] >= since and e["kind"] not in QUIET_EVENTS
        ][-events:]
        if events
        else []
    )
    return RunSnapshot(
        run_id=run_id,
        status=effective_status(run),
        elapsed_s=wall_seconds(journal, run, now=time.time()),
        concurrency_cap=int(settings.get("concurrency") or 0),
        running=sum(p.running for p in phases),
        phases=phases,
        usage=journal.usage_totals(run_id),
        recent_events=recent,
        **_pressure(journal, run_id),
        **_retries(journal, run_id, effective_status(run)),
    )


QUIET_EVENTS = frozenset({"print", ATTEMPT_TIME})
"""Events the progress lines leave out: prints go to the output, attempt times to wall_s."""


def event_line(event: dict[str, Any]) -> str:
    """`kind: message`, without the kind twice when the message already starts with it
    (older journals' `resumed: resumed: ...`)."""
    kind, message = event["kind"], event["message"]
    if message.startswith(f"{kind}:"):
        return message
    return f"{kind}: {message}"


def _retries(journal: Journal, run_id: str, status: str) -> dict[str, Any]:
    """Who retried, who is holding right now, and why a paused run paused."""
    events = journal.events_of_kind(run_id, RETRY)
    holds: list[str] = []
    if status in LIVE and events:
        running = {a["id"] for a in journal.agents(run_id) if a["status"] == "running"}
        latest = {e["agent_id"]: e for e in events if e["agent_id"] in running}
        now = time.time()
        for agent_id, event in sorted(latest.items()):
            match = RETRY_LINE.match(event["message"])
            left = float(match[1]) - (now - event["at"]) if match else 0.0
            if match and left > 0:
                holds.append(f"agent {agent_id} holding {left:.0f} s: {match[2]}")
    if len(holds) > MAX_HOLDS:
        holds = [*holds[:MAX_HOLDS], f"and {len(holds) - MAX_HOLDS} more agents holding"]
    paused = journal.events_of_kind(run_id, PAUSED) if status == PAUSED else []
    return {
        "retried": len({e["agent_id"] for e in events}),
        "retries": len(events),
        "holds": holds,
        "paused": paused[0]["message"] if paused else None,
    }


_LIMIT = re.compile(r"in-flight limit (\d+)")
_PACED = re.compile(r"pacing sends to ([\d,]+) a minute")


def _pressure(journal: Journal, run_id: str) -> dict[str, int | None]:
    """The last in-flight limit and pacing rate the run's concurrency events announced."""
    events = journal.events_of_kind(run_id, "concurrency")
    limit = _LIMIT.search(events[-1]["message"]) if events else None
    paced = next((m for e in reversed(events) if (m := _PACED.search(e["message"]))), None)
    return {
        "adaptive_limit": int(limit[1]) if limit else None,
        "paced_per_minute": int(paced[1].replace(",", "")) if paced else None,
    }
