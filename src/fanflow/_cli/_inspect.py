"""`fanflow ls` and `fanflow show`: looking back at runs in the journal."""

from __future__ import annotations

import json
import sys
import time
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from .._journal import Journal, effective_status
from .._report import build_report, report_json
from .._views import plain, print_result, render_snapshot, summary_line, take_snapshot, visible


def ls_command(
    limit: Annotated[int, typer.Option(help="How many recent runs.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """List recent runs: status, progress, spend and age."""
    runs = Journal().list_runs(limit)
    if as_json:
        for r in runs:
            sys.stdout.write(
                json.dumps(
                    {
                        k: r[k]
                        for k in (
                            "id",
                            "status",
                            "workflow_name",
                            "script_path",
                            "n_agents",
                            "n_ok",
                            "n_failed",
                            "tokens",
                            "created_at",
                        )
                    }
                )
                + "\n"
            )
        return
    if not runs:
        Console().print("no runs yet; start one with: fanflow run SCRIPT")
        return
    out = Console()
    rows = [
        (
            r["id"],
            effective_status(r),
            r["workflow_name"] or r["script_path"] or "",
            f"{r['n_ok']}/{r['n_failed']}/{r['n_agents']}",
            f"{r['tokens']:,}",
            _age(r["created_at"]),
        )
        for r in runs
    ]
    if not out.is_terminal:  # pipes and logs get one plain line per run
        for row in rows:
            sys.stdout.write("\t".join(visible(cell) for cell in row) + "\n")
        return
    table = Table(header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("run", no_wrap=True, min_width=20)
    for column in ("status", "workflow", "ok/failed/all", "tokens", "age"):
        table.add_column(column, no_wrap=column != "workflow")
    for row in rows:
        table.add_row(*[plain(cell) for cell in row])  # workflow names come from scripts
    out.print(table)


def show_command(
    run: Annotated[
        str, typer.Argument(metavar="RUN", help="A run id (or a unique prefix), or 'last'.")
    ] = "last",
    script: Annotated[bool, typer.Option("--script", help="Print the exact script.")] = False,
    agents: Annotated[bool, typer.Option("--agents", help="List every agent.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report.")] = False,
) -> None:
    """Show a run: phases, usage, result and errors; or its script or agents."""
    journal = Journal()
    record = journal.get_run(run)
    out = Console()
    if script:
        if out.is_terminal:
            out.print(Syntax(visible(record["script"]), "python", line_numbers=True))
        else:
            sys.stdout.write(
                record["script"] if record["script"].endswith("\n") else record["script"] + "\n"
            )
        return
    if as_json:
        sys.stdout.write(report_json(build_report(journal, record["id"])) + "\n")
        return
    if agents:
        out.print(_agents_table(journal.agents(record["id"])))
        return
    report = build_report(journal, record["id"])
    out.print(plain(f"script {record['script_path']}  workspace {record['workspace']}"))
    out.print(render_snapshot(take_snapshot(journal, record["id"], events=0)))
    print_result(report["result"], out)
    for e in report["errors"]:
        who = f"agent {e['agent']}" if e["agent"] is not None else "run"
        out.print(
            Text.assemble(("error", "red"), visible(f" ({who}, phase {e['phase']}): {e['error']}"))
        )
    out.print(summary_line(report), highlight=False)


def _agents_table(rows: list[dict]) -> Table:
    table = Table(header_style="bold")
    for column in ("id", "phase", "agent", "label", "status", "turns", "secs", "error"):
        table.add_column(column)
    for a in rows:
        secs = f"{a['ended_at'] - a['started_at']:.2f}" if a["ended_at"] and a["started_at"] else ""
        table.add_row(
            str(a["id"]),
            *[
                plain(cell)
                for cell in (a["phase"], a["agent_type"], a["label"], a["status"], a["turns"])
            ],
            secs,
            plain((a["error"] or "")[:120]),
        )
    return table


def _age(created_at: float) -> str:
    seconds = time.time() - created_at
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} ago"
    return f"{int(seconds)}s ago"
