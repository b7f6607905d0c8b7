"""Resuming a journaled run: what its options were, and whether it may be resumed.

See docs/runs.md for how a resume finds finished work (`_replay`).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from ._errors import ConfigError
from ._journal import Journal, effective_status
from ._models import Model
from ._run import Run, RunOptions

RESUMABLE = ("interrupted", "cancelled", "failed", "budget_exceeded", "partial")


def options_from_row(row: dict[str, Any]) -> RunOptions:
    """The options a journaled run was started with."""
    settings = json.loads(row["settings_json"] or "{}")
    return RunOptions(
        model=settings.get("model"),
        agent_model=settings.get("agent_model"),
        agent_effort=settings.get("agent_effort", "high"),
        workspace=row["workspace"],
        args=json.loads(row["args_json"] or "{}"),
        concurrency=settings.get("concurrency"),
        max_agents=settings.get("max_agents"),
        permission_mode=settings.get("permission_mode", "auto"),
        budget_tokens=settings.get("budget_tokens"),
        budget_usd=settings.get("budget_usd"),
        script_path=row["script_path"] or "script.py",
        workflow_name=row["workflow_name"],
    )


def prepare_resume(
    journal: Journal,
    ref: str,
    models: dict[str, Model] | None = None,
    *,
    budget_tokens: int | None = None,
    budget_usd: float | None = None,
) -> Run:
    """A `Run` that resumes `ref`, or a `ConfigError` saying why it cannot be resumed.

    A budget given here replaces the run's (to finish a `budget_exceeded` run).
    """
    row = journal.get_run(ref)
    status = effective_status(row)
    if status not in RESUMABLE:
        why = "is still running" if status in ("running", "pending") else f"ended {status}"
        raise ConfigError(
            f"run {row['id']} {why}; resume takes runs that are {', '.join(RESUMABLE)}"
        )
    options = options_from_row(row)
    if budget_tokens is not None or budget_usd is not None:
        options = replace(
            options,
            budget_tokens=budget_tokens or options.budget_tokens,
            budget_usd=budget_usd or options.budget_usd,
        )
        journal.update_settings(
            row["id"], budget_tokens=options.budget_tokens, budget_usd=options.budget_usd
        )
    run = Run(row["script"], options, journal, models, run_id=row["id"], mode="resume")
    changed = run.workspace.changed_since(journal.file_states(row["id"]))
    if changed:
        shown = ", ".join(changed[:5]) + (
            f" and {len(changed) - 5} more" if len(changed) > 5 else ""
        )
        raise ConfigError(
            f"cannot resume run {row['id']}: {len(changed)} file(s) changed since "
            f"the run saw them ({shown}); restore them or start a new run"
        )
    return run
