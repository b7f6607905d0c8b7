"""Before a run spends anything: the estimate, the budget check, the approval card.

Approval is asked on a terminal for any run without --yes (Once, Always for
this script in this workspace, Deny), and required for a model-planned run:
unattended, a planned run without --yes is refused. A run whose estimate
is over its budget is refused whatever the answer (exit 3, status refused).
"""

from __future__ import annotations

import hashlib
import json
import sys
from typing import Any

import typer
from rich.console import Console

from .._errors import ConfigError
from .._report import report_json
from .._run import Run
from .._script import Sandbox
from .._views import plain, print_result, render_card


class Refused(Exception):
    """The run must not start; the message says why."""


def interactive() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


async def approve(
    run: Run, sandbox: Sandbox, *, yes: bool, dry_run: bool, planned: bool, as_json: bool
) -> dict[str, Any] | None:
    """Return the estimate (or None if none was needed); raise `Refused` to stop the run."""
    attended = interactive()
    if not (dry_run or run.budget.limited or (attended and not yes) or (planned and not yes)):
        return None
    estimate = await run.estimate(sandbox)
    tokens = estimate["input_tokens"] + estimate["output_tokens"]
    over = run.budget.over_by(tokens, estimate["cost_usd"])
    card = render_card(
        estimate,
        title=f"Plan: {run.info.meta.get('name') or run.options.script_path}",
        model=run.options.agent_model or run.options.model,
        agent_effort=run.options.agent_effort,
        permission_mode=run.options.permission_mode,
        concurrency=run.limits.concurrency,
        budget_note=_budget_note(run, tokens, over),
        budget_tokens=run.budget.tokens,
        budget_usd=run.budget.usd,
    )
    err = Console(stderr=True)
    if dry_run:
        if as_json:
            sys.stdout.write(json.dumps(estimate) + "\n")
        else:
            Console().print(card)
        raise typer.Exit(0)
    if over:
        err.print(card)
        raise Refused(f"refused: {over}; raise --budget or narrow the work")
    try:
        require_keys(run)  # the card needed no key; the run does: say so before asking
    except ConfigError:
        if attended and not yes:
            err.print(card)
        raise
    script_hash = hashlib.sha256(run.script.encode()).hexdigest()
    workspace = str(run.workspace.root)
    if yes or run.journal.approved_always(workspace, script_hash):
        return estimate
    if not attended:
        if planned:
            raise Refused(
                "refused: a planned workflow needs approval and there is no terminal "
                "to ask on; review it with --dry-run, then pass --yes"
            )
        return estimate
    err.print(card)
    answer = _ask(err)
    if answer == "always":
        run.journal.approve_always(workspace, script_hash)
    if answer == "deny":
        raise Refused("refused at the approval prompt")
    return estimate


async def check_and_approve(
    run: Run, sandbox: Sandbox, *, yes: bool, dry_run: bool, planned: bool, as_json: bool
) -> None:
    """The sandbox's check, then `approve`; a refusal is journaled and exits 3.

    The estimate and card need no API key; the run does, so a missing key is
    the one-line `ConfigError` (exit 2) after the card and before any spend.
    """
    await run.check(sandbox)
    try:
        await approve(run, sandbox, yes=yes, dry_run=dry_run, planned=planned, as_json=as_json)
    except Refused as refusal:
        refuse(run, str(refusal), as_json)
    require_keys(run)


def require_keys(run: Run) -> None:
    """Raise the `ConfigError` of the first model this run names that has no API key."""
    names = {run.options.model, run.options.agent_model}
    names |= {run.registry.get(t).model for t in set(run.info.agent_types)}
    for name in sorted(n for n in names if n):
        require = getattr(run.models.get(name), "require_key", None)
        if require is not None:
            require()


def _ask(err: Console) -> str:
    while True:
        err.print(
            "Run it? [bold]o[/bold]nce / [bold]a[/bold]lways for this script here / "
            "[bold]d[/bold]eny: ",
            end="",
        )
        answer = sys.stdin.readline().strip().lower()
        if answer in ("o", "once", "y", "yes"):
            return "once"
        if answer in ("a", "always"):
            return "always"
        if answer in ("d", "deny", "n", "no", ""):
            return "deny"


def _budget_note(run: Run, tokens: int, over: str | None) -> str | None:
    if over:
        return f"Budget: {over}"
    if run.budget.tokens is not None:
        return (
            f"Budget: fits, {tokens:,} of {run.budget.tokens:,} tokens "
            f"({100 * tokens / run.budget.tokens:.0f}%)"
        )
    if run.budget.usd is not None:
        return f"Budget: fits within ${run.budget.usd:,.2f}"
    return None


def refuse(run: Run, reason: str, as_json: bool) -> None:
    """Journal the refusal, say why, exit 3."""
    report = run.journal_refused(reason)
    if as_json:
        sys.stdout.write(report_json(report) + "\n")
    else:
        print_result(None, Console())
        Console(stderr=True).print(plain(f"fanflow: {reason}"), highlight=False)
    raise typer.Exit(3)
