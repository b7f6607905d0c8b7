"""`fanflow run SCRIPT`: check, run with live progress, print the result."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from .._budget import parse_tokens, parse_usd
from .._errors import ConfigError
from .._journal import Journal
from .._limits import Limits
from .._models._provider import keyless
from .._report import report_json
from .._run import Run, RunOptions, read_script
from .._script import Sandbox
from .._views import (
    EXIT_CODES,
    live_progress,
    print_result,
    summary_line,
    visible,
    warning_line,
)
from ._aio import freeze_heap, run_async
from ._approval import check_and_approve
from ._worker import start_worker
from ._workflows import locate_script

STAGGER_HELP = (
    "Agents sharing a cacheable prefix wait up to this long for the first one's response "
    "to begin (0: off)."
)


def parse_args(pairs: list[str]) -> dict[str, str]:
    args = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--arg {pair!r} must look like KEY=VALUE")
        args[key.strip()] = value
    return args


def run_command(
    script: Annotated[
        str, typer.Argument(metavar="SCRIPT", help="A workflow .py file, or a saved workflow name.")
    ],
    model: Annotated[
        str | None,
        typer.Option(help="PROVIDER:MODEL (or `test`, offline); default: FANFLOW_MODEL, config."),
    ] = None,
    agent_model: Annotated[str | None, typer.Option(help="Model for all subagents.")] = None,
    agent_effort: Annotated[str, typer.Option(help="Subagent effort: low..max.")] = "high",
    workspace: Annotated[Path, typer.Option(help="The directory agents may touch.")] = Path("."),
    arg: Annotated[list[str] | None, typer.Option(help="KEY=VALUE for the script's args.")] = None,
    concurrency: Annotated[
        int | None, typer.Option(help="Subagents in flight (default 16).")
    ] = None,
    max_agents: Annotated[
        int | None, typer.Option(help="Subagents per run (default 1000).")
    ] = None,
    permission_mode: Annotated[
        str, typer.Option(help="auto | prompt | read-only: what the run may change.")
    ] = "auto",
    allow_secrets: Annotated[
        bool,
        typer.Option(
            "--allow-secrets", help="Let agents read and write secrets files (.env, *.pem, ...)."
        ),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for approval.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON report.")] = False,
    background: Annotated[
        bool, typer.Option("--background", help="Run detached; watch with fanflow watch.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the estimate card; call no model.")
    ] = False,
    budget: Annotated[str | None, typer.Option(help="Token budget, e.g. 500k or 2M.")] = None,
    budget_usd: Annotated[
        str | None, typer.Option("--budget-usd", help="Dollar budget, e.g. 50.")
    ] = None,
    stagger_ms: Annotated[int, typer.Option("--stagger-ms", help=STAGGER_HELP)] = 5000,
) -> None:
    """Run a workflow script in the sandbox and print its result."""
    path, name = locate_script(script, workspace)
    options = RunOptions(
        model=model,
        agent_model=agent_model,
        agent_effort=agent_effort,
        workspace=workspace,
        args=parse_args(arg or []),
        concurrency=concurrency,
        max_agents=max_agents,
        limits=Limits(),
        permission_mode=permission_mode,
        allow_secrets=allow_secrets,
        budget_tokens=parse_tokens(budget),
        budget_usd=parse_usd(budget_usd),
        stagger_ms=stagger_ms,
        script_path=str(path),
        workflow_name=name,
    )
    text = read_script(str(path))
    journal = Journal()
    with keyless():  # the estimate and card need no key; the run itself asks for it
        run = Run(text, options, journal)
    if background:
        run_async(run_in_background(run, as_json, yes=yes))
        return
    report = run_async(execute_in_foreground(run, as_json, yes=yes, dry_run=dry_run))
    print_report(report, as_json)
    raise typer.Exit(EXIT_CODES.get(report["status"], 1))


async def execute_in_foreground(
    run: Run, as_json: bool, *, yes: bool = False, dry_run: bool = False, planned: bool = False
) -> dict:
    """Check, estimate and approve, then execute with live progress on stderr."""
    freeze_heap()  # the run's models (and their SDKs) are built by now
    async with Sandbox() as sandbox:
        await check_and_approve(
            run, sandbox, yes=yes, dry_run=dry_run, planned=planned, as_json=as_json
        )
        if as_json:
            return await run.execute(sandbox)
        async with live_progress(
            run.journal, run.started, lambda: run.run_id, Console(stderr=True)
        ):
            return await run.execute(sandbox)


async def run_in_background(
    run: Run, as_json: bool, *, resume: bool = False, yes: bool = False, planned: bool = False
) -> None:
    """Check here (so a bad script still fails at once), then hand over to a detached worker."""
    if run.options.permission_mode == "prompt":
        raise ConfigError(
            "--permission-mode prompt needs a terminal; a --background run "
            "has none: use auto or read-only"
        )
    async with Sandbox() as sandbox:
        await check_and_approve(
            run, sandbox, yes=yes, dry_run=False, planned=planned, as_json=as_json
        )
    if not resume:
        run.journal_prepare()
    log = start_worker(run.run_id, resume=resume)
    if as_json:
        sys.stdout.write(
            json.dumps({"run_id": run.run_id, "status": "running", "log": str(log)}) + "\n"
        )
        return
    Console(stderr=True).print(
        f"run {run.run_id} started in the background (log: {log})\n"
        f"  watch it:  fanflow watch {run.run_id}\n  stop it:   fanflow cancel {run.run_id}",
        highlight=False,
    )


def print_report(report: dict, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(report_json(report) + "\n")
        return
    print_result(report["result"], Console())
    err = Console(stderr=True)
    for e in report["errors"][:10]:
        who = f"agent {e['agent']}" if e["agent"] is not None else "run"
        err.print(Text.assemble(("error", "red"), visible(f" ({who}): {e['error']}")))
    if len(report["errors"]) > 10:
        err.print(f"... and {len(report['errors']) - 10} more: fanflow show {report['run_id']}")
    if report.get("scripted"):
        err.print(Text.assemble(("note", "yellow"), visible(f": {report['scripted']}")))
    warning = warning_line(report)  # most work agents failed: say so before the summary
    if warning is not None:
        err.print(warning, highlight=False)
    err.print(
        summary_line(report) + f" (details: fanflow show {report['run_id']})", highlight=False
    )
