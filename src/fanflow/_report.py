"""The run report: the DESIGN §5 JSON object, built from the journal alone.

Because it reads only the journal, `fanflow run --json` and
`fanflow show RUN --json` (from any process, any time later) agree.
"""

from __future__ import annotations

import json
from typing import Any

from ._journal import Journal, effective_status
from ._journal._encode import finite_value, loads


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
        "wall_s": _wall(run),
        "errors": _errors(journal, run),
    }


def _wall(run: dict[str, Any]) -> float:
    if not run["started_at"]:
        return 0.0
    end = run["ended_at"] or run["heartbeat_at"] or run["started_at"]
    return round(end - run["started_at"], 3)


def _errors(journal: Journal, run: dict[str, Any]) -> list[dict[str, Any]]:
    errors = [
        {"agent": a["id"], "phase": a["phase"], "error": a["error"]}
        for a in journal.failed_agents(run["id"])
    ]
    errors += [
        {"agent": None, "phase": e["phase"], "error": e["message"]}
        for e in journal.events_of_kind(run["id"], "unit_failed")
    ]
    errors += [
        {"agent": None, "phase": e["phase"], "error": e["message"]}
        for e in journal.events_of_kind(run["id"], "not_run")
    ]
    if run["error"]:
        errors.append({"agent": None, "phase": None, "error": run["error"]})
    return errors


def report_json(report: dict[str, Any]) -> str:
    """The report as one line of strict JSON: no NaN, and non-ASCII (bidi controls
    included) escaped, so printing it on a terminal shows text, not effects."""
    return json.dumps(finite_value(report), allow_nan=False)
