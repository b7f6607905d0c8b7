"""How to run one script: one shape for the CLI, `run_script`, the journal and resume.

`RunOptions` is what a caller asks for. `to_record()` is what the journal's
`settings` column keeps of it (with the limits and budget the run actually
used), and `from_record(row)` turns a journaled run back into the options to
run it again, in this process or another.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._admission import EFFORTS
from ._errors import ConfigError
from ._limits import Limits


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """How to run one script. Every field has the CLI's default."""

    model: str | None = None
    """PROVIDER:MODEL; None: FANFLOW_MODEL, else the config files' `model`, else an error."""
    agent_model: str | None = None
    agent_effort: str = "high"
    workspace: str | os.PathLike[str] = "."
    args: dict[str, str] = field(default_factory=dict)
    concurrency: int | None = None
    """Run-wide cap on subagents in flight; None: the workspace config's, else 16."""
    max_agents: int | None = None
    """Cap on subagents spawned; None: the workspace config's, else 1000."""
    limits: Limits = field(default_factory=Limits)
    """Other limits (turns, the script's CPU, memory and recursion)."""
    budget_tokens: int | None = None
    """Billed tokens the run may spend (`--budget 2M`); None: the config's, else no limit."""
    budget_usd: float | None = None
    """Dollars the run may spend (`--budget-usd 50`); None: the config's, else no limit."""
    stagger_ms: int = 5000
    """Prefix stagger (`--stagger-ms`): at most this long, calls that share a cacheable prefix
    wait for the first one's response to begin; 0 turns it off (DESIGN §9, fanflow._stagger)."""
    permission_mode: str = "auto"
    """auto, prompt or read-only: what scripts and agents may change (docs/permissions.md)."""
    allow_secrets: bool = False
    """`--allow-secrets`: the user lets agents and scripts read and write secrets files
    (the workspace config cannot grant this; docs/SECURITY.md)."""
    script_path: str = "script.py"
    workflow_name: str | None = None

    def __post_init__(self) -> None:
        # here, not in one CLI command: `run`, `do` and run_script() all need it, and a 0
        # would otherwise fall through to the default cap unnoticed
        for flag, value in (("--concurrency", self.concurrency), ("--max-agents", self.max_agents)):
            if value is not None and value < 1:
                raise ConfigError(f"{flag} must be at least 1 (got {value})")
        if self.stagger_ms < 0:
            raise ConfigError(f"--stagger-ms must be 0 (off) or more (got {self.stagger_ms})")
        if self.agent_effort not in EFFORTS:
            raise ConfigError(
                f"--agent-effort must be one of {', '.join(EFFORTS)} (got {self.agent_effort!r})"
            )

    def to_record(self) -> dict[str, Any]:
        """The journal's `settings` column: enough to run it again in another process.

        The workspace, args, script path and workflow name have columns of their own.
        """
        return {
            "model": self.model,
            "agent_model": self.agent_model,
            "agent_effort": self.agent_effort,
            "concurrency": self.concurrency,
            "max_agents": self.max_agents,
            "permission_mode": self.permission_mode,
            "allow_secrets": self.allow_secrets,
            "budget_tokens": self.budget_tokens,
            "budget_usd": self.budget_usd,
            "stagger_ms": self.stagger_ms,
        }

    @classmethod
    def from_record(cls, row: Mapping[str, Any]) -> RunOptions:
        """The options a journaled run (a `runs` row) was started with."""
        settings = json.loads(row["settings_json"] or "{}")
        return cls(
            model=settings.get("model"),
            agent_model=settings.get("agent_model"),
            agent_effort=settings.get("agent_effort", "high"),
            workspace=row["workspace"],
            args=json.loads(row["args_json"] or "{}"),
            concurrency=settings.get("concurrency"),
            max_agents=settings.get("max_agents"),
            permission_mode=settings.get("permission_mode", "auto"),
            allow_secrets=settings.get("allow_secrets") is True,
            budget_tokens=settings.get("budget_tokens"),
            budget_usd=settings.get("budget_usd"),
            stagger_ms=settings.get("stagger_ms", 5000),
            script_path=row["script_path"] or "script.py",
            workflow_name=row["workflow_name"],
        )
