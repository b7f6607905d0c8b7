"""`.fanflow/config.toml` in the workspace: declared commands and run defaults.

The model to use and the `[models.NAME]` plugin options may also come from the
user's `$FANFLOW_HOME/config.toml`; the workspace's file wins where both say.

Rights are the exception: the workspace is written by the repository (and,
during a run, possibly by its agents), so what it says can only narrow a run.
`[run] concurrency` / `max_agents` may only lower the host's caps (`_limits`),
and `[permissions] allow_secrets = true` grants nothing unless the user grants
it too, with `--allow-secrets` or in `$FANFLOW_HOME/config.toml` (`_rights`).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ._errors import ConfigError
from ._models import Price


@dataclass(frozen=True)
class ProjectConfig:
    """What a workspace's `.fanflow/config.toml` says; every key optional."""

    commands: dict[str, str | dict] = field(default_factory=dict)
    """`[commands]`: a command string, or a `[commands.NAME]` table (`_commands`)."""
    concurrency: int | None = None
    max_agents: int | None = None
    prices: dict[str, Price] = field(default_factory=dict)
    budget_tokens: int | None = None
    budget_usd: float | None = None
    allow_secrets: bool = False
    """The user's `$FANFLOW_HOME/config.toml` [permissions] allow_secrets: a grant."""
    workspace_allow_secrets: bool = False
    """The workspace's [permissions] allow_secrets: a request, never a grant on its own."""
    model: str | None = None
    """`model = "..."`: the run's model when neither --model nor FANFLOW_MODEL names one."""
    model_options: dict[str, dict[str, str]] = field(default_factory=dict)
    """`[models.NAME]` tables: options handed to model plugin NAME's factory."""


def user_config_path() -> Path:
    home = os.environ.get("FANFLOW_HOME") or Path.home() / ".fanflow"
    return Path(home).expanduser() / "config.toml"


def chosen_model(flag: str | None, config: ProjectConfig) -> str | None:
    """The model a run uses: --model, else FANFLOW_MODEL, else the config files' `model`."""
    for value in (flag, os.environ.get("FANFLOW_MODEL"), config.model):
        if value and value.strip():
            return value.strip()
    return None


def load_config(root: Path) -> ProjectConfig:
    path = root / ".fanflow" / "config.toml"
    user = _user_config()
    user_model, user_options = _models(user, user_config_path())
    user_secrets = _allow_secrets(user.get("permissions", {}), user_config_path())
    if not path.is_file():
        return ProjectConfig(
            model=user_model, model_options=user_options, allow_secrets=user_secrets
        )
    data = _toml(path)
    model, options = _models(data, path)
    commands = _commands(data.get("commands", {}), path)
    run = data.get("run", {})
    if not isinstance(run, dict):
        raise ConfigError(f"{path}: [run] must be a table")
    return ProjectConfig(
        prices=_prices(data.get("prices", {}), path),
        commands=commands,
        concurrency=_positive(run, "concurrency", path),
        max_agents=_positive(run, "max_agents", path),
        allow_secrets=user_secrets,
        workspace_allow_secrets=_allow_secrets(data.get("permissions", {}), path),
        budget_tokens=_budget_tokens(run, path),
        budget_usd=_budget_usd(run, path),
        model=model or user_model,
        model_options={**user_options, **options},
    )


def _toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix or remove it") from None


def _user_config() -> dict:
    path = user_config_path()
    return _toml(path) if path.is_file() else {}


def _commands(table: object, path: Path) -> dict[str, str | dict]:
    """`[commands]` as written (strings or tables), each entry checked now, naming the file."""
    from ._commands import parse_declaration

    if not isinstance(table, dict) or not all(
        isinstance(k, str) and (isinstance(v, dict) or (isinstance(v, str) and v.strip()))
        for k, v in table.items()
    ):
        raise ConfigError(
            f'{path}: [commands] must map names to command strings, e.g. test = "pytest", '
            'or to tables, e.g. [commands.test] argv = "pytest" allow = ["-q"]'
        )
    for name, value in table.items():
        try:
            parse_declaration(name, value)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    return table


def _models(data: dict, path: Path) -> tuple[str | None, dict[str, dict[str, str]]]:
    """`model = "..."` (top level or in [run]) and the `[models.NAME]` option tables."""
    run = data.get("run", {})
    model = data.get("model", run.get("model") if isinstance(run, dict) else None)
    if model is not None and (not isinstance(model, str) or not model.strip()):
        raise ConfigError(f'{path}: model must be a string like "anthropic:claude-opus-4-8"')
    tables = data.get("models", {})
    if not isinstance(tables, dict) or not all(isinstance(t, dict) for t in tables.values()):
        raise ConfigError(f'{path}: [models.NAME] must be tables of options, e.g. url = "..."')
    options = {}
    for name, table in tables.items():
        for key, value in table.items():
            if not isinstance(value, (str, int, float, bool)):
                raise ConfigError(
                    f"{path}: [models.{name}] {key} must be a string, number or boolean"
                )
        options[name] = {
            k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in table.items()
        }
    return model, options


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
