"""What may widen a run's rights, and whether it changed between attempts.

Two rules (docs/SECURITY.md, "Commands and rights, round two"):

- Rights come from the user. The workspace's `[permissions] allow_secrets =
  true` is a request; only `--allow-secrets` or the user's
  `$FANFLOW_HOME/config.toml` grants it (`secrets_granted`).
- A resume runs with what the first attempt ran with. `fingerprint()` hashes
  everything that decides what agents and commands may do (agent definitions,
  declared commands, both config files); it is journaled with the run, and
  `check_unchanged()` refuses a resume whose fingerprint differs unless the
  user accepts the changes (`--accept-changes`). An agent that rewrote
  `.fanflow/config.toml` or an agent file during the first attempt therefore
  cannot have the next attempt run with what it wrote, unseen.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._config import ProjectConfig, load_config, user_config_path
from ._errors import ConfigError

AGENT_FOLDERS = (".fanflow/agents", ".claude/agents")
"""Where `_agents/_definitions.py` finds agent files (fanflow's, then Claude Code's)."""
MAX_AGENT_FILES = 2_000
"""Agent files hashed per folder; more is recorded as a count (bounds a flood of files)."""
COMMANDS = "declared commands"
WORKSPACE_CONFIG = ".fanflow/config.toml"
USER_CONFIG = "$FANFLOW_HOME/config.toml"
SETTINGS_KEY = "rights"
"""The key of the fingerprint in the journal's `settings` column."""


def secrets_granted(flag: bool, config: ProjectConfig) -> bool:
    """Whether agents and scripts may read and write secrets files in this run.

    A workspace that asks for it without the user's grant is refused with the
    fix, not silently ignored: the run would otherwise behave unlike its config.
    """
    granted = flag or config.allow_secrets
    if config.workspace_allow_secrets and not granted:
        raise ConfigError(
            f"{WORKSPACE_CONFIG} [permissions] allow_secrets = true asks to let agents read "
            "and write secrets files, and only you can grant that: pass --allow-secrets (or "
            f"set it in {USER_CONFIG}), or remove it from the workspace config"
        )
    return granted


def fingerprint(root: Path) -> dict[str, str]:
    """A sha256 per piece that decides a run's rights: name -> digest (absent: no entry)."""
    prints: dict[str, str] = {}
    workspace = _toml(root / ".fanflow" / "config.toml")
    if workspace is not None:
        if isinstance(workspace, Mapping):
            prints[COMMANDS] = _digest(workspace.get("commands"))
            prints[WORKSPACE_CONFIG] = _digest(
                {k: v for k, v in workspace.items() if k != "commands"}
            )
        else:  # not TOML: its bytes, so any edit still shows
            prints[WORKSPACE_CONFIG] = workspace
    user = _toml(user_config_path())
    if user is not None:
        prints[USER_CONFIG] = user if isinstance(user, str) else _digest(user)
    for folder in AGENT_FOLDERS:
        files = sorted((root / folder).glob("*.md")) if (root / folder).is_dir() else []
        for path in files[:MAX_AGENT_FILES]:
            if path.is_file():
                prints[f"{folder}/{path.name}"] = _file_digest(path)
        if len(files) > MAX_AGENT_FILES:
            prints[f"{folder} (file count)"] = str(len(files))
    return prints


def recorded(settings: Mapping[str, Any]) -> dict[str, str] | None:
    value = settings.get(SETTINGS_KEY)
    return value if isinstance(value, dict) else None


def changes(before: Mapping[str, str], now: Mapping[str, str]) -> list[str]:
    """What differs, in words: `X changed`, `X was added`, `X was removed`."""
    said = []
    for name in sorted(set(before) | set(now)):
        if name not in before:
            said.append(f"{_shown(name)} was added")
        elif name not in now:
            said.append(f"{_shown(name)} was removed")
        elif before[name] != now[name]:
            said.append(f"{_shown(name)} changed")
    return said


def check_unchanged(
    journal: Any, row: Mapping[str, Any], root: Path, *, accept_changes: bool = False
) -> None:
    """Refuse (a `ConfigError`, exit 2) a resume whose rights changed since it was journaled.

    With `accept_changes`, the resume goes on: the changes are written to the
    run's events and the new fingerprint becomes the one later resumes compare to.
    """
    if not root.is_dir():
        return  # the run cannot be rebuilt at all; `Workspace` says so, naming the fix
    settings = json.loads(row["settings_json"] or "{}")
    before = recorded(settings)
    now = fingerprint(root)
    if before is None:
        said = [
            "it was journaled before fanflow recorded its agent definitions, commands and "
            "config, so changes cannot be ruled out"
        ]
    else:
        said = changes(before, now)
    if not said:
        return
    shown = ", ".join(said[:5]) + (f" and {len(said) - 5} more" if len(said) > 5 else "")
    if not accept_changes:
        raise ConfigError(
            f"cannot resume run {row['id']}: since its first attempt, {shown}; review them, "
            "then pass --accept-changes to resume with them, or start a new run"
        )
    journal.update_settings(row["id"], **{SETTINGS_KEY: now})
    journal.event(row["id"], "rights", f"resumed with --accept-changes: {shown}")


def _toml(path: Path) -> dict | str | None:
    """The parsed file (comments and layout do not count), its raw digest if it does not
    parse, or None when there is no file."""
    if not path.is_file():
        return None
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"unreadable: {exc.errno}"
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return hashlib.sha256(data).hexdigest()


def _digest(value: object) -> str:
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _file_digest(path: Path) -> str:
    try:
        with path.open("rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except OSError as exc:
        return f"unreadable: {exc.errno}"


def _shown(name: str) -> str:
    # file names are the workspace's: escaped so they cannot draw on the terminal
    return name if name.isascii() and name.isprintable() else ascii(name)


def preflight(options: Any) -> None:
    """Refuse now, before a lead model is paid to plan, what `Run` would refuse for rights:
    a workspace asking for secrets without the user's grant, or raising the caps."""
    from ._limits import run_limits

    config = load_config(Path(options.workspace).expanduser().resolve())
    secrets_granted(options.allow_secrets, config)
    run_limits(
        options.limits,
        concurrency=options.concurrency,
        max_agents=options.max_agents,
        config_concurrency=config.concurrency,
        config_max_agents=config.max_agents,
    )
