"""The limits a run enforces on the host side, whatever the script says."""

from __future__ import annotations

from dataclasses import dataclass, replace

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


def run_limits(
    base: Limits,
    *,
    concurrency: int | None,
    max_agents: int | None,
    config_concurrency: int | None,
    config_max_agents: int | None,
) -> Limits:
    """The run's caps: the caller's flags, else the workspace config's, else `base`.

    The workspace config is the repository's (agents may have written it), so it
    may only lower `base`, the host's caps; a value above them is refused with
    the fix rather than clamped, so the config never silently means something
    else. A flag is the user's own and may raise them.
    """
    chosen = {}
    for key, flag, wanted, cap, option in (
        ("concurrency", concurrency, config_concurrency, base.concurrency, "--concurrency"),
        ("max_agents", max_agents, config_max_agents, base.max_agents, "--max-agents"),
    ):
        if flag is not None:
            chosen[key] = flag
        elif wanted is not None and wanted > cap:
            raise ConfigError(
                f".fanflow/config.toml [run] {key} = {wanted} is above the host's cap of "
                f"{cap}; a workspace config may only lower limits: lower it, or pass "
                f"{option} {wanted} to raise the cap yourself"
            )
        else:
            chosen[key] = wanted or cap
    return replace(base, **chosen)


# Caps on every channel from a script or a model into memory or the journal (issue 14, class
# 10), checked before the text is stored; docs/SECURITY.md "Caps on every channel, round two".
MAX_MESSAGE_CHARS = 4_000  # one error or failure message, as journaled and reported
MAX_UNIT_FAILURES = 1_000  # failed gathered units recorded one by one per run
MAX_LOG_CHARS = 2_000_000  # log() text per run (one line is cut at 2,000)
MAX_PROMPT_CHARS = 2_000_000  # one spawn's prompt plus its context blocks
MAX_PENDING_PROMPT_CHARS = 64_000_000  # prompts of spawned agents not yet started
MAX_SCHEMA_CHARS = 200_000  # one spawn's schema, as JSON
MAX_NAME_CHARS = 200  # an agent, model or tool name given to spawn
MAX_TOOL_CALLS_PER_REPLY = 64  # tool calls run from one model reply; the rest get an error
MAX_AGENT_TOOL_CHARS = 2_000_000  # tool-result text one agent's conversation may hold
MAX_REPLY_CHARS = 2_000_000  # one model reply: text plus tool-call arguments, as JSON
MAX_SCRIPT_TOOL_CHARS = 256_000_000  # results of a run's script tool calls (journaled)
