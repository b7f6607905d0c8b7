"""Finding a script: a path, or the name of a saved workflow."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .._errors import ConfigError
from .._journal import Journal, default_home

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def locate_script(ref: str, workspace: Path) -> tuple[Path, str | None]:
    """(path, workflow name or None). The project's saved workflow wins over the user's."""
    path = Path(ref)
    if path.exists() or ref.endswith(".py") or "/" in ref:
        return path, None
    if _NAME.match(ref):
        for folder in (workspace / ".fanflow" / "workflows", default_home() / "workflows"):
            candidate = folder / f"{ref}.py"
            if candidate.is_file():
                return candidate, ref
    raise ConfigError(
        f"no script file or saved workflow named {ref!r}; pass a .py path, or save one in "
        f".fanflow/workflows/{ref}.py"
    )


def save_command(
    run: Annotated[str, typer.Argument(metavar="RUN", help="A run id (or prefix), or 'last'.")],
    name: Annotated[str, typer.Argument(metavar="NAME", help="The workflow's name.")],
    user: Annotated[
        bool,
        typer.Option("--user", help="Save to $FANFLOW_HOME/workflows, not the run's project."),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a workflow of that name.")
    ] = False,
) -> None:
    """Save a run's script as a workflow that `fanflow run NAME` finds."""
    if not _NAME.match(name):
        raise ConfigError(
            f"{name!r} cannot name a workflow; use letters, digits, - and _ (e.g. audit-races)"
        )
    row = Journal().get_run(run)
    if not user and not Path(row["workspace"]).is_dir():
        raise ConfigError(
            f"the run's workspace {row['workspace']} is gone; save it with --user instead"
        )
    folder = (
        default_home() / "workflows" if user else Path(row["workspace"]) / ".fanflow" / "workflows"
    )
    target = folder / f"{name}.py"
    if target.exists() and not force:
        raise ConfigError(f"{target} exists; pass --force to replace it, or pick another name")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target.write_text(row["script"], encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {target}: {exc.strerror}") from None
    where = "your workflows" if user else "the project's workflows (commit it to share it)"
    Console(stderr=True).print(
        f"saved run {row['id']} as {target} in {where}; run it with: fanflow run {name}",
        highlight=False,
        soft_wrap=True,
    )
