"""`fanflow models` and `fanflow tools`: what `--model` and `tools=[...]` can name here."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def models_command(as_json: AsJson = False) -> None:
    """List the model providers: built-in, and installed plugins (with why one fails to load)."""
    from .._models import model_sources

    rows = [{"name": s.name, "origin": s.origin, "error": s.error} for s in model_sources()]
    _show(rows, "models", ("name", "origin"), as_json)
    if not as_json:
        Console().print(
            "use --model PROVIDER:MODEL (e.g. anthropic:claude-opus-4-8, openai:gpt-5, test); "
            "plugins: docs/plugins.md",
            highlight=False,
        )


def tools_command(as_json: AsJson = False) -> None:
    """List the tools agents can be granted: built-in, and installed plugins."""
    from .._tools import tool_sources

    rows = [
        {"name": s.name, "origin": s.origin, "access": s.access, "error": s.error}
        for s in tool_sources()
    ]
    _show(rows, "tools", ("name", "origin", "access"), as_json)


def _show(rows: list[dict], key: str, columns: tuple[str, ...], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps({key: rows}) + "\n")
        return
    table = Table(box=None, pad_edge=False, show_edge=False)
    for column in (*columns, "status"):
        table.add_column(column)
    for row in rows:
        status = "ok" if row["error"] is None else f"[red]{escape(row['error'])}[/red]"
        table.add_row(*(escape(str(row[c] or "")) for c in columns), status)
    Console().print(table)
