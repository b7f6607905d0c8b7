"""A run's progress as plain numbers, read from the journal.

Views render a `RunSnapshot`; they never count anything themselves, so the
foreground progress, `show` and later `watch` all agree.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from .._journal import Journal, effective_status
from .._journal._encode import loads
from .._models._base import billed_tokens


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
    end = run["ended_at"] or time.time()
    recent = [f"{e['kind']}: {e['message']}" for e in journal.recent_events(run_id, events)]
    return RunSnapshot(
        run_id=run_id,
        status=effective_status(run),
        elapsed_s=end - run["started_at"] if run["started_at"] else 0.0,
        concurrency_cap=int(settings.get("concurrency") or 0),
        running=sum(p.running for p in phases),
        phases=phases,
        usage=journal.usage_totals(run_id),
        recent_events=recent,
        **_pressure(journal, run_id),
    )


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
