"""The limits a run enforces on the host side, whatever the script says."""

from __future__ import annotations

from dataclasses import dataclass

from ._errors import ConfigError

DEFAULT_CONCURRENCY = 16
DEFAULT_MAX_AGENTS = 1000


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Caps for one run. Checked by the scheduler before every spawn and request."""

    concurrency: int = DEFAULT_CONCURRENCY
    """Subagents in flight at once in the whole run; `gather(concurrency=)` only lowers it."""

    max_agents: int = DEFAULT_MAX_AGENTS
    """Subagents one workflow may spawn; the next spawn fails the run before any request."""

    adaptive: bool = True
    """Lower the requests in flight when a provider pushes back (429/529), raise them as it
    clears; never above `concurrency`."""

    max_turns: int = 24
    """Model calls one subagent may make before it fails with a turn-limit error."""

    script_cpu_seconds: float = 30.0
    """CPU time the sandboxed script itself may use (waiting on subagents is free)."""

    script_memory_bytes: int = 256 * 1024 * 1024
    """Heap the sandboxed script may use."""

    script_recursion_depth: int = 200
    """Call depth inside the sandboxed script."""

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ConfigError(f"--concurrency must be at least 1 (got {self.concurrency})")
        if self.max_agents < 1:
            raise ConfigError(f"--max-agents must be at least 1 (got {self.max_agents})")
        if self.max_turns < 1:
            raise ConfigError(f"max_turns must be at least 1 (got {self.max_turns})")
