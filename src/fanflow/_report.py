"""The run report: the DESIGN §5 JSON object, built from the journal alone.

Because it reads only the journal, `fanflow run --json` and
`fanflow show RUN --json` (from any process, any time later) agree.

Work agents are every agent but the synthesizers: a synthesizer only merges what
the others produced, so its success says nothing about whether the work was
done. When more than half of the work agents that ran failed, the report's
`warning` says so; when all of them failed, the run is `failed` (`_run`).
"""

from __future__ import annotations

import json
from typing import Any

from ._journal import Journal, effective_status
from ._journal._encode import finite_value, loads
from ._run_time import wall_seconds

FAN_IN_AGENTS = frozenset({"synthesizer"})
"""Agent types that merge other agents' results rather than do the work."""


def work_counts(journal: Journal, run_id: str) -> tuple[int, int]:
    """(succeeded, failed) among the run's work agents (all but the synthesizers)."""
    succeeded = failed = 0
    for row in journal.agent_type_counts(run_id):
        if row["agent_type"] in FAN_IN_AGENTS:
            continue
        succeeded += row["n"] if row["status"] == "succeeded" else 0
        failed += row["n"] if row["status"] == "failed" else 0
    return succeeded, failed


def work_warning(journal: Journal, run_id: str) -> str | None:
    """The loud line for a run whose work agents mostly failed, else None."""
    succeeded, failed = work_counts(journal, run_id)
    if failed * 2 <= succeeded + failed:
        return None
    if not succeeded:
        return (
            f"all {failed} work agent(s) failed: nothing in the result rests on their "
            "work (a synthesis over their results is not a success)"
        )
    return (
        f"{failed} of {succeeded + failed} work agents failed: the result rests on "
        f"the {succeeded} that succeeded"
    )


def build_report(journal: Journal, run_id: str) -> dict[str, Any]:
    run = journal.get_run(run_id)
    counts = journal.agent_counts(run_id)
    phases = [
        {
            "name": p["name"],
            "agents": p["agents"],
            "input_tokens": p["input_tokens"],
            "output_tokens": p["output_tokens"],
        }
        for p in journal.phases(run_id)
    ]
    settings = loads(run["settings_json"]) or {}
    scripted = [e["message"] for e in journal.events_of_kind(run_id, "scripted")]
    return {
        "run_id": run_id,
        "status": effective_status(run),
        "model": settings.get("model"),
        "scripted": "; ".join(dict.fromkeys(scripted)) or None,
        "result": loads(run["result_json"]),
        "agents": {
            "spawned": sum(counts.values()),
            "succeeded": counts.get("succeeded", 0),
            "failed": counts.get("failed", 0),
            "retried": len({e["agent_id"] for e in journal.events_of_kind(run_id, "retry")}),
        },
        "phases": phases,
        "usage": journal.usage_totals(run_id),
        "wall_s": wall_seconds(journal, run),
        "errors": _errors(journal, run),
        "warning": work_warning(journal, run_id),
    }


def _errors(journal: Journal, run: dict[str, Any]) -> list[dict[str, Any]]:
    """Failed agents as they stand, and this attempt's other failures: an earlier
    attempt's unit failures were re-executed by the resume that followed it."""
    errors = [
        {"agent": a["id"], "phase": a["phase"], "error": a["error"]}
        for a in journal.failed_agents(run["id"])
    ]
    since = attempt_first_event(journal, run["id"])
    for kind in ("unit_failed", "not_run"):
        errors += [
            {"agent": None, "phase": e["phase"], "error": e["message"]}
            for e in journal.events_of_kind(run["id"], kind)
            if e["id"] >= since
        ]
    if run["error"]:
        errors.append({"agent": None, "phase": None, "error": run["error"]})
    return errors


def attempt_first_event(journal: Journal, run_id: str) -> int:
    """The id of the first event of the run's latest attempt (its `resumed` event), or 0."""
    resumed = journal.events_of_kind(run_id, "resumed")
    return resumed[-1]["id"] if resumed else 0


def report_json(report: dict[str, Any]) -> str:
    """The report as one line of strict JSON: no NaN, and non-ASCII (bidi controls
    included) escaped, so printing it on a terminal shows text, not effects."""
    return json.dumps(finite_value(report), allow_nan=False)
