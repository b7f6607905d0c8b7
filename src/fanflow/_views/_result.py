"""Showing a run's result and summary: tables for rows, text as text."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markdown import Markdown
from rich.table import Table
from rich.text import Text

from .._models._base import billed_tokens
from ._safe import plain, visible

EXIT_CODES = {
    "succeeded": 0,
    "partial": 0,
    "failed": 1,
    "budget_exceeded": 3,
    "paused": 3,
    "refused": 3,
    "cancelled": 130,
}


def print_result(result: Any, console: Console) -> None:
    """A list of dicts as a table, text as (markdown) text, anything else as JSON."""
    if _is_rows(result):
        console.print(rows_table(result))
    elif isinstance(result, str):
        if console.is_terminal and result.lstrip().startswith("#"):
            # no terminal hyperlinks: a link's text could hide where it points
            console.print(Markdown(visible(result), hyperlinks=False))
        else:
            console.print(plain(result), highlight=False, soft_wrap=True)
    elif result is not None:
        # ASCII-escaped JSON: bidi and C1 characters print as \u escapes, not effects
        console.print_json(json.dumps(result, default=str), ensure_ascii=True)


def _is_rows(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(r, dict) for r in value)


def rows_table(rows: list[dict[str, Any]]) -> Table:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    table = Table(header_style="bold")
    for column in columns:
        table.add_column(plain(column))
    for row in rows:
        table.add_row(*[plain(_cell(row.get(c))) for c in columns])
    return table


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def summary_line(report: dict[str, Any]) -> str:
    agents, usage = report["agents"], report["usage"]
    tokens = billed_tokens(usage)
    cost = "" if usage["cost_usd"] is None else f", ${usage['cost_usd']:.4f}"
    retried = f", {agents['retried']} retried" if agents.get("retried") else ""
    return (
        f"run {report['run_id']} {report['status']}: {agents['spawned']} agents "
        f"({agents['succeeded']} ok, {agents['failed']} failed{retried}), {tokens:,} tokens{cost}, "
        f"{report['wall_s']:.1f}s"
    )


def warning_line(report: dict[str, Any]) -> Text | None:
    """The report's `warning` (most work agents failed) as one loud line, or None."""
    warning = report.get("warning")
    if not warning:
        return None
    return Text.assemble(("WARNING", "bold red reverse"), " ", visible(warning), style="bold")
