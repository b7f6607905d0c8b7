"""`fanflow models`: every model provider `--model` can name here, and where it comes from."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .._models import model_sources


def models_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the model providers: built-in, and installed plugins (with why one fails to load)."""
    sources = model_sources()
    if as_json:
        rows = [{"name": s.name, "origin": s.origin, "error": s.error} for s in sources]
        sys.stdout.write(json.dumps({"models": rows}) + "\n")
        return
    table = Table(box=None, pad_edge=False, show_edge=False)
    for column in ("provider", "from", "status"):
        table.add_column(column)
    for s in sources:
        status = "ok" if s.error is None else f"[red]{escape(s.error)}[/red]"
        table.add_row(escape(s.name), escape(s.origin), status)
    console = Console()
    console.print(table)
    console.print(
        "use --model PROVIDER:MODEL (e.g. anthropic:claude-opus-4-8, openai:gpt-5, test); "
        "plugins: docs/plugins.md",
        highlight=False,
    )
