"""Finding a script: a path, or the name of a saved workflow."""

from __future__ import annotations

import re
from pathlib import Path

from .._errors import ConfigError
from .._journal import default_home

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
