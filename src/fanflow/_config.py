"""`.fanflow/config.toml` in the workspace: declared commands and run defaults."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ._errors import ConfigError
from ._models import Price


@dataclass(frozen=True)
class ProjectConfig:
    """What a workspace's `.fanflow/config.toml` says; every key optional."""

    commands: dict[str, str] = field(default_factory=dict)
    concurrency: int | None = None
    max_agents: int | None = None
    prices: dict[str, Price] = field(default_factory=dict)
    budget_tokens: int | None = None
    budget_usd: float | None = None
    allow_secrets: bool = False
    """[permissions] allow_secrets: let agents and scripts read and write secrets files."""


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
        prices=_prices(data.get("prices", {}), path),
        commands=commands,
        concurrency=_positive(run, "concurrency", path),
        max_agents=_positive(run, "max_agents", path),
        allow_secrets=_allow_secrets(data.get("permissions", {}), path),
        budget_tokens=_budget_tokens(run, path),
        budget_usd=_budget_usd(run, path),
    )


def _positive(table: dict, key: str, path: Path) -> int | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{path}: [run] {key} must be a positive integer")
    return value


def _prices(table: object, path: Path) -> dict[str, Price]:
    """`[prices."provider:model"]` entries: USD per million tokens."""
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [prices] must be a table of models")
    prices = {}
    for model, entry in table.items():
        fields = ("input", "output", "cache_write", "cache_read")
        present = [k for k in fields if isinstance(entry, dict) and k in entry]
        if (
            not isinstance(entry, dict)
            or not {"input", "output"} <= set(present)
            or not all(
                isinstance(entry[k], (int, float))
                and not isinstance(entry[k], bool)
                and entry[k] >= 0
                for k in present
            )
        ):
            raise ConfigError(
                f'{path}: [prices."{model}"] needs numbers input and output '
                "(USD per million tokens, not negative), optionally cache_write and cache_read"
            )
        inp = float(entry["input"])
        prices[model] = Price(
            inp,
            float(entry["output"]),
            float(entry.get("cache_write", inp * 1.25)),
            float(entry.get("cache_read", inp * 0.1)),
        )
    return prices


def _budget_tokens(table: dict, path: Path) -> int | None:
    from ._budget import parse_tokens

    try:
        return parse_tokens(table.get("budget"), flag=f"{path}: [run] budget")
    except ConfigError:
        raise
    except (TypeError, ValueError):
        raise ConfigError(f'{path}: [run] budget must be tokens like "2M" or 500000') from None


def _budget_usd(table: dict, path: Path) -> float | None:
    from ._budget import parse_usd

    return parse_usd(table.get("budget_usd"), flag=f"{path}: [run] budget_usd")


def _allow_secrets(table: object, path: Path) -> bool:
    if not isinstance(table, dict) or not isinstance(table.get("allow_secrets", False), bool):
        raise ConfigError(f"{path}: [permissions] allow_secrets must be true or false")
    return table.get("allow_secrets", False)
