"""`fanflow plan "TASK"` and `fanflow do "TASK"`: the lead model writes the workflow."""

from __future__ import annotations

import dataclasses
import json
import re
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.syntax import Syntax

from .._budget import parse_tokens, parse_usd
from .._config import chosen_model, load_config
from .._errors import ConfigError
from .._journal import Journal, default_home
from .._limits import Limits
from .._models import HOW_TO_CHOOSE, Usage, resolve_model
from .._planner import Plan, make_plan
from .._rights import preflight
from .._run import Run, RunOptions
from .._script import Sandbox
from .._views import EXIT_CODES, visible
from .._workspace import Workspace
from ._aio import run_async
from ._run_cmd import (
    STAGGER_HELP,
    execute_in_foreground,
    parse_args,
    print_report,
    run_in_background,
)

Task = Annotated[str, typer.Argument(metavar="TASK", help="What to do, in plain words.")]
ModelOpt = Annotated[
    str | None, typer.Option("--model", help="The lead model (and the agents'); or FANFLOW_MODEL.")
]
WorkspaceOpt = Annotated[Path, typer.Option(help="The directory the work is about.")]
EffortOpt = Annotated[str, typer.Option("--effort", help="The lead model's effort.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


async def _plan(
    task: str, model_name: str | None, workspace: Path, effort: str
) -> tuple[Plan, Any]:
    ws = Workspace(workspace)
    config = load_config(ws.root)
    chosen = chosen_model(model_name, config)
    if chosen is None:
        raise ConfigError(HOW_TO_CHOOSE)
    lead = resolve_model(chosen, prices=config.prices, options=config.model_options)
    try:
        async with Sandbox() as sandbox:
            return await make_plan(task, lead, ws, sandbox, effort=effort), lead
    finally:
        await lead.aclose()


def _save(script: str, task: str, out: Path | None) -> Path:
    if out is None:
        slug = re.sub(r"[^a-z0-9]+", "-", task.lower()).strip("-")[:40] or "plan"
        out = default_home() / "plans" / f"{time.strftime('%Y%m%d-%H%M%S')}-{slug}.py"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(script, encoding="utf-8")
    return out


def _show(script: str) -> None:
    console = Console()
    if console.is_terminal:
        console.print(Syntax(visible(script), "python", line_numbers=True))
    else:
        sys.stdout.write(script)


def plan_command(
    task: Task,
    model: ModelOpt = None,
    workspace: WorkspaceOpt = Path("."),
    out: Annotated[Path | None, typer.Option(help="Where to save the script.")] = None,
    effort: EffortOpt = "xhigh",
    as_json: AsJson = False,
) -> None:
    """Ask the lead model to write (and check) a workflow script for TASK."""
    plan, _ = run_async(_plan(task, model, workspace, effort))
    if plan.answer is not None:
        if as_json:
            sys.stdout.write(json.dumps({"answer": plan.answer, "script": None}) + "\n")
        else:
            Console().print(plan.answer, markup=False, highlight=False)
        return
    path = _save(plan.script or "", task, out)
    if as_json:
        sys.stdout.write(
            json.dumps({"script": plan.script, "path": str(path), "attempts": plan.attempts}) + "\n"
        )
        return
    _show(plan.script or "")
    Console(stderr=True).print(
        f"checked in {plan.attempts} attempt(s); saved to {path}\n"
        f"  estimate it:  fanflow run {path} --dry-run\n"
        f"  run it:       fanflow run {path}",
        highlight=False,
    )


def do_command(
    task: Task,
    model: ModelOpt = None,
    workspace: WorkspaceOpt = Path("."),
    agent_model: Annotated[str | None, typer.Option(help="Model for all subagents.")] = None,
    effort: EffortOpt = "xhigh",
    agent_effort: Annotated[str, typer.Option(help="Subagent effort.")] = "high",
    arg: Annotated[list[str] | None, typer.Option(help="KEY=VALUE for the script.")] = None,
    concurrency: Annotated[int | None, typer.Option(help="Subagents in flight.")] = None,
    max_agents: Annotated[int | None, typer.Option(help="Subagents per run.")] = None,
    permission_mode: Annotated[str, typer.Option(help="auto | prompt | read-only.")] = "auto",
    allow_secrets: Annotated[
        bool, typer.Option("--allow-secrets", help="Let agents read secrets files.")
    ] = False,
    budget: Annotated[str | None, typer.Option(help="Token budget, e.g. 2M.")] = None,
    budget_usd: Annotated[str | None, typer.Option("--budget-usd", help="Dollars.")] = None,
    stagger_ms: Annotated[int, typer.Option("--stagger-ms", help=STAGGER_HELP)] = 5000,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Approve without asking.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan and estimate only.")] = False,
    background: Annotated[bool, typer.Option("--background", help="Run detached.")] = False,
    as_json: AsJson = False,
) -> None:
    """Plan TASK with the lead model, show the approval card, and run it."""
    options = RunOptions(  # checked before the lead model is paid for
        model=model,
        agent_model=agent_model,
        agent_effort=agent_effort,
        workspace=workspace,
        args=parse_args(arg or []),
        concurrency=concurrency,
        max_agents=max_agents,
        budget_tokens=parse_tokens(budget),
        budget_usd=parse_usd(budget_usd),
        stagger_ms=stagger_ms,
        permission_mode=permission_mode,
        allow_secrets=allow_secrets,
        limits=Limits(),
    )
    if Path(workspace).is_dir():  # else _plan names the bad workspace
        preflight(options)  # rights the run would refuse: before the lead model is paid
    plan, lead = run_async(_plan(task, model, workspace, effort))
    if plan.answer is not None:
        _print_answer(plan, lead, as_json)
        return
    path = _save(plan.script or "", task, None)
    if not as_json:
        Console(stderr=True).print(
            f"planned in {plan.attempts} attempt(s): {path}", highlight=False
        )
    options = dataclasses.replace(options, script_path=str(path))
    run = Run(plan.script or "", options, Journal())
    run.lead_usage = [(lead.name, usage, lead.price(usage)) for usage in plan.usage]
    if background:
        run_async(run_in_background(run, as_json, yes=yes, planned=True))
        return
    report = run_async(execute_in_foreground(run, as_json, yes=yes, dry_run=dry_run, planned=True))
    print_report(report, as_json)
    raise typer.Exit(EXIT_CODES.get(report["status"], 1))


def _print_answer(plan: Plan, lead: Any, as_json: bool) -> None:
    """The lead model answered directly: no workflow, no subagents."""
    if not as_json:
        Console().print(plan.answer, markup=False, highlight=False)
        return
    total = Usage()
    for used in plan.usage:
        total += used
    usage: dict[str, Any] = dataclasses.asdict(total)
    costs = [lead.price(u) for u in plan.usage]
    usage["cost_usd"] = None if None in costs else sum(costs)
    sys.stdout.write(
        json.dumps(
            {
                "run_id": None,
                "status": "succeeded",
                "result": plan.answer,
                "agents": {"spawned": 0, "succeeded": 0, "failed": 0},
                "phases": [],
                "usage": usage,
                "wall_s": 0.0,
                "errors": [],
            }
        )
        + "\n"
    )
