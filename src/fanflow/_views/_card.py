"""The approval card: what a run will do and cost, before it spends anything."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from ._safe import plain, visible


def _money(value: float | None) -> str:
    return "unknown (no price for this model)" if value is None else f"${value:,.4f}"


def render_card(
    estimate: dict[str, Any],
    *,
    title: str,
    model: str,
    agent_effort: str,
    permission_mode: str,
    concurrency: int,
    budget_note: str | None,
    budget_tokens: int | None = None,
    budget_usd: float | None = None,
) -> Group:
    """Phases with estimated agents, tokens and cost; the worst case under the budget;
    settings; assumptions; the budget."""
    table = Table(header_style="bold", title=None, pad_edge=False)
    for column, justify in [
        ("phase", "left"),
        ("agents", "right"),
        ("input tok", "right"),
        ("output tok", "right"),
        ("cost", "right"),
    ]:
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for p in estimate["phases"]:
        table.add_row(
            plain(p["name"]),  # phase names come from the script
            str(p["agents"]),
            f"{p['input_tokens']:,}",
            f"{p['output_tokens']:,}",
            "?" if p["cost_usd"] is None else f"${p['cost_usd']:,.4f}",
        )
    table.add_row(
        Text("total", style="bold"),
        str(estimate["agents"]),
        f"{estimate['input_tokens']:,}",
        f"{estimate['output_tokens']:,}",
        _money(estimate["cost_usd"]),
    )
    parts: list[Any] = [
        plain(title, style="bold"),
        Text(
            f"model {model} · subagent effort {agent_effort} · permission mode "
            f"{permission_mode} · up to {concurrency} agents at once",
            style="dim",
        ),
        table,
        Text("Estimated without calling a model. Assumptions:", style="italic"),
        *[plain(f"  - {line}", style="dim") for line in estimate["assumptions"]],
    ]
    worst = worst_case_line(estimate, budget_tokens, budget_usd)
    if worst:
        parts.append(plain(worst, style="bold"))
    if estimate.get("note"):
        parts.append(plain(f"Note: {estimate['note']}", style="yellow"))
    if budget_note:
        parts.append(Text(visible(budget_note), style="red" if "over" in budget_note else "green"))
    return Group(*parts)


def worst_case_line(
    estimate: dict[str, Any], budget_tokens: int | None, budget_usd: float | None
) -> str | None:
    """The most the run can spend: every call at its max_tokens, held to the budget."""
    worst = estimate.get("worst_case") or {}
    tokens, cost = worst.get("tokens"), worst.get("cost_usd")
    if tokens is None:
        return None
    at_most = f"{tokens:,} tokens" + ("" if cost is None else f" (${cost:,.4f})")
    line = f"Worst case: {at_most} if every call writes its max_tokens"
    if budget_tokens is not None and tokens > budget_tokens:
        return f"{line}; under the budget: at most {budget_tokens:,} tokens (the run stops there)"
    if budget_usd is not None and (cost is None or cost > budget_usd):
        return f"{line}; under the budget: at most ${budget_usd:,.2f} (the run stops there)"
    if budget_tokens is not None or budget_usd is not None:
        return f"{line}; within the budget"
    return f"{line}; no budget set (--budget or --budget-usd caps it)"
