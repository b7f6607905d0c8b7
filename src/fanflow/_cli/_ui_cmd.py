"""`fanflow ui`: the web view, on 127.0.0.1 until Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

import typer
from rich.console import Console

from .._journal import Journal
from .._web import serve

DEFAULT_PORT = 8765


def ui_command(
    port: Annotated[
        int, typer.Option(help="Port on 127.0.0.1 (0: any free one).", min=0, max=65535)
    ] = DEFAULT_PORT,
) -> None:
    """Open a web view of your runs: live progress, phases, spend, agents, results."""
    journal = Journal()
    err = Console(stderr=True)

    def ready(url: str) -> None:
        err.print(f"fanflow ui: {url}  (Ctrl-C stops it)", highlight=False, soft_wrap=True)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(journal, port, ready))
