"""`fanflow watch`, `cancel` and `resume`: a run's life after it started."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Annotated

import typer
from rich.console import Console

from .._budget import parse_tokens, parse_usd
from .._journal import Journal, effective_status
from .._journal._lease import HARD_STOP_AFTER_S
from .._journal._lifecycle import LIVE
from .._liveness import request_stop
from .._report import build_report
from .._resume import prepare_resume
from .._views import EXIT_CODES, follow_run
from ._aio import run_async
from ._run_cmd import STAGGER_HELP, execute_in_foreground, print_report, run_in_background

RunRef = Annotated[str, typer.Argument(metavar="RUN", help="A run id (or prefix), or 'last'.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the JSON report.")]
CANCEL_WAIT_S = HARD_STOP_AFTER_S + 5.0
"""Long enough for a stalled run to be stopped by force (`_journal/_lease.py`)."""


def watch_command(run: RunRef = "last", as_json: AsJson = False) -> None:
    """Follow a run from any terminal until it ends, then print its result."""
    journal = Journal()
    run_id = journal.get_run(run)["id"]
    run_async(follow_run(journal, run_id, Console(stderr=True), quiet=as_json))
    report = build_report(journal, run_id)
    print_report(report, as_json)
    raise typer.Exit(EXIT_CODES.get(report["status"], 1))


def cancel_command(run: RunRef) -> None:
    """Stop a run: no new spawns, calls in flight cancelled, status cancelled."""
    journal = Journal()
    run_id, stopping = request_stop(journal, run)
    err = Console(stderr=True)
    if not stopping:
        err.print(f"run {run_id} was interrupted; marked cancelled")
        return
    deadline = time.monotonic() + CANCEL_WAIT_S
    while time.monotonic() < deadline:
        if effective_status(journal.get_run(run_id)) not in LIVE:
            break
        time.sleep(0.1)
    final = effective_status(journal.get_run(run_id))
    err.print(
        f"run {run_id} {final}"
        if final not in LIVE
        else f"cancel requested for run {run_id}; it is still stopping"
    )


def resume_command(
    run: RunRef = "last",
    as_json: AsJson = False,
    background: Annotated[bool, typer.Option("--background", help="Resume detached.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for approval.")] = False,
    budget: Annotated[str | None, typer.Option(help="A new token budget, e.g. 2M.")] = None,
    budget_usd: Annotated[
        str | None, typer.Option("--budget-usd", help="A new dollar budget.")
    ] = None,
    accept_changes: Annotated[
        bool,
        typer.Option(
            "--accept-changes",
            help="Resume even though agent definitions, commands or config changed.",
        ),
    ] = False,
    allow_secrets: Annotated[
        bool, typer.Option("--allow-secrets", help="Let agents read and write secrets files.")
    ] = False,
    stagger_ms: Annotated[
        int | None, typer.Option("--stagger-ms", help=STAGGER_HELP + " Default: the run's.")
    ] = None,
) -> None:
    """Finish an interrupted, cancelled or failed run without re-paying finished agents."""
    journal = Journal()
    if allow_secrets:  # the user's grant, kept with the run like its other settings
        journal.update_settings(journal.get_run(run)["id"], allow_secrets=True)
    resumed = prepare_resume(
        journal,
        run,
        budget_tokens=parse_tokens(budget),
        budget_usd=parse_usd(budget_usd),
        accept_changes=accept_changes,
    )
    if stagger_ms is not None:  # read when the run starts its scheduler
        resumed.options = replace(resumed.options, stagger_ms=stagger_ms)
    if background:
        run_async(run_in_background(resumed, as_json, resume=True, yes=True))
        return
    report = run_async(execute_in_foreground(resumed, as_json, yes=True))
    print_report(report, as_json)
    raise typer.Exit(EXIT_CODES.get(report["status"], 1))
