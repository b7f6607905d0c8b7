"""Every error fanflow raises, split by who has to act.

    FanflowError
    ├── UserError            you used it wrong; nothing was spent (exit 2)
    │   ├── ScriptError      the workflow script does not check (line, column)
    │   └── ConfigError      a flag, an agent file, a workspace, a model name
    └── RunError             the run started and could not finish as asked
        ├── AgentCapError    the script spawned past --max-agents (exit 1)
        ├── SandboxError     the script failed or hit a sandbox limit (exit 1)
        └── AgentError       one subagent failed (partial success if gathered)
            └── ModelError   the model misbehaved or its API refused
                ├── AccountStop  the account cannot go on (quota, credit, key,
                │                unreachable): the run stops starting agents
                └── ContextTooLong  the request does not fit the model's context
                                 (split the data and try again)

Each message is one line that names the problem and says what to do next;
the CLI prints it as it is, without a traceback.
"""

from __future__ import annotations


class FanflowError(Exception):
    """Base of every error fanflow raises on purpose."""

    exit_code = 1


class UserError(FanflowError):
    """A mistake in how fanflow was called; fix the input and run again."""

    exit_code = 2


class ScriptError(UserError):
    """The workflow script failed its static check (syntax, names, types)."""

    def __init__(
        self,
        message: str,
        *,
        path: str = "script",
        line: int | None = None,
        column: int | None = None,
        details: list[str] | None = None,
    ) -> None:
        self.path, self.line, self.column = path, line, column
        self.details = details or []
        where = path if line is None else f"{path}:{line}" + (f":{column}" if column else "")
        super().__init__(f"{where}: {message}")


class ConfigError(UserError):
    """A bad flag, agent definition, workspace, model name or config file."""


class RunError(FanflowError):
    """The run started but could not finish as asked."""


class AgentCapError(RunError):
    """The script asked for more subagents than the run allows."""


class SandboxError(RunError):
    """The script raised, or hit a sandbox limit (time, memory, recursion)."""


class AgentError(RunError):
    """A subagent failed; gathered, it yields None and a failure record."""


class ModelError(AgentError):
    """The model returned something unusable, or its API refused the request."""


class AccountStop(ModelError):
    """The provider says this account cannot continue: quota or credit exhausted, key
    revoked, billing required, or the endpoint unreachable. No agent of the run can get
    past it, so the run stops starting agents instead of spending on retries."""


class ContextTooLong(ModelError):
    """The server refused the request as longer than the model's context window.

    Retrying the same request cannot help; sending less can (`synthesize` splits its
    data). `limit` is the context size the server named, `requested` the tokens it
    counted, each None when its message did not say."""

    def __init__(self, message: str, limit: int | None = None, requested: int | None = None):
        super().__init__(message)
        self.limit, self.requested = limit, requested
