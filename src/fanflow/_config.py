"""`.fanflow/config.toml` in the workspace: declared commands and run defaults."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ._errors import ConfigError


@dataclass(frozen=True)
class ProjectConfig:
    """What a workspace's `.fanflow/config.toml` says; every key optional."""

    commands: dict[str, str] = field(default_factory=dict)
    concurrency: int | None = None
    max_agents: int | None = None


def load_config(root: Path) -> ProjectConfig:
    path = root / ".fanflow" / "config.toml"
    if not path.is_file():
        return ProjectConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix or remove it") from None
    commands = data.get("commands", {})
    if not isinstance(commands, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in commands.items()
    ):
        raise ConfigError(
            f'{path}: [commands] must map names to command strings, e.g. test = "pytest"'
        )
    run = data.get("run", {})
    if not isinstance(run, dict):
        raise ConfigError(f"{path}: [run] must be a table")
    return ProjectConfig(
        commands=commands,
        concurrency=_positive(run, "concurrency", path),
        max_agents=_positive(run, "max_agents", path),
    )


def _positive(table: dict, key: str, path: Path) -> int | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{path}: [run] {key} must be a positive integer")
    return value
