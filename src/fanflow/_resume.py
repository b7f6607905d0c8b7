"""Resuming a journaled run: whether it may be resumed, and resuming it.

See docs/runs.md for how a resume finds finished work (`_replay`). Whether
another process still owns the run is said here early, but decided when the
run starts: `restart_run` takes the lease with a compare-and-set, so of two
resumes started together exactly one runs (`_journal/_lease.py`).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from ._errors import ConfigError
from ._journal import Journal, effective_status
from ._journal._lease import LeaseHeld
from ._models import Model
from ._options import RunOptions
from ._rights import check_unchanged
from ._run import Run
from ._script import Sandbox

RESUMABLE = ("interrupted", "cancelled", "failed", "budget_exceeded", "partial", "paused")


def prepare_resume(
    journal: Journal,
    ref: str,
    models: dict[str, Model] | None = None,
    *,
    budget_tokens: int | None = None,
    budget_usd: float | None = None,
    accept_changes: bool = False,
) -> Run:
    """A `Run` that resumes `ref`, or a `ConfigError` saying why it cannot be resumed.

    A budget given here replaces the run's (to finish a `budget_exceeded` run).
    """
    row = journal.get_run(ref)
    status = effective_status(row)
    if status in ("running", "pending") and row.get("lease_renewed_at") is not None:
        raise LeaseHeld(  # named here; the lease itself is taken, atomically, at the start
            row["id"], row["lease_host"], row["lease_pid"], time.time() - row["lease_renewed_at"]
        )
    if status not in RESUMABLE:
        why = "is still running" if status in ("running", "pending") else f"ended {status}"
        raise ConfigError(
            f"run {row['id']} {why}; resume takes runs that are {', '.join(RESUMABLE)}"
        )
    check_unchanged(journal, row, Path(row["workspace"]), accept_changes=accept_changes)
    options = RunOptions.from_record(row)
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


async def resume_run(
    run_id: str,
    *,
    models: dict[str, Model] | None = None,
    budget_tokens: int | None = None,
    budget_usd: float | None = None,
    journal: Journal | None = None,
    accept_changes: bool = False,
) -> dict[str, Any]:
    """Resume the journaled run `run_id` (or "last"); its report. The programmatic
    `fanflow resume`: finished agents and script tool calls are replayed, not re-paid.

    A budget given here replaces the run's. A run that cannot be resumed is a
    `ConfigError` saying why. Cancelling the caller's task cancels the run, as
    with `run_script`.
    """
    run = prepare_resume(
        journal or Journal(),
        run_id,
        models,
        budget_tokens=budget_tokens,
        budget_usd=budget_usd,
        accept_changes=accept_changes,
    )
    async with Sandbox() as sandbox:
        await run.check(sandbox)
        return await run.execute(sandbox, propagate_cancel=True)
