"""Permission modes: what a run may change, decided on the host for every change.

    auto       writes and declared commands proceed; high-risk writes (secrets
               files such as .env, keys, credentials) are blocked by rule
    prompt     the first change of each agent (and of the script) asks on the
               terminal; one question at a time, so it throttles a fan-out
    read-only  write, git_restore, run and every plugin tool whose access is
               `write` or `run` are refused

Paths outside the workspace, `.git/` and undeclared commands are refused in
every mode by the workspace and command layers themselves. Every refusal is
an event in the journal, so it shows in progress views and `fanflow show`.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable

from ._errors import ConfigError
from ._workspace import ToolError, is_secret_path

MODES = ("auto", "prompt", "read-only")
Asker = Callable[[str], bool]


def ask_on_terminal(question: str) -> bool:
    """Ask y/N on the terminal; anything but yes is no."""
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


class Permissions:
    """The run's permission mode, applied to every change a script or agent asks for."""

    def __init__(
        self,
        mode: str,
        *,
        on_block: Callable[[str], None],
        asker: Asker | None = None,
        declared_commands: frozenset[str] = frozenset(),
    ) -> None:
        if mode not in MODES:
            raise ConfigError(f"--permission-mode must be one of {', '.join(MODES)} (got {mode!r})")
        if mode == "prompt" and asker is None and not sys.stdin.isatty():
            raise ConfigError(
                "--permission-mode prompt needs a terminal to ask on; "
                "use auto or read-only when running unattended"
            )
        self.mode = mode
        self._declared = declared_commands
        self._on_block = on_block
        self._asker = asker or ask_on_terminal
        self._approved: set[str] = set()
        self._denied: set[str] = set()
        self._asking = asyncio.Lock()

    async def check(self, change: str, target: str, who: str) -> None:
        """Return if `who` may make `change` to `target`; else raise a `ToolError`.

        The whole target is checked; only messages show it cut.
        """
        shown = target if len(target) <= 120 else target[:117] + "..."
        if self.mode == "read-only":
            self._block(
                f"{who}: {change} {shown!r} refused: the run is read-only "
                "(--permission-mode read-only)"
            )
        if change == "run" and target.split(" ", 1)[0] not in self._declared:
            known = ", ".join(sorted(self._declared)) or "none"
            self._block(
                f"{who}: command {target.split(' ', 1)[0]!r} blocked: it is not declared "
                f"in .fanflow/config.toml [commands] (declared: {known})"
            )
        if change == "write" and is_secret_path(target):
            self._block(
                f"{who}: write to {shown!r} blocked: it is a secrets file, a high-risk "
                "change; edit it yourself"
            )
        if self.mode == "prompt" and who not in self._approved:
            await self._ask(change, shown, who)

    async def _ask(self, change: str, target: str, who: str) -> None:
        async with self._asking:  # one question at a time on one terminal
            if who in self._approved:
                return
            if who not in self._denied:
                question = f"fanflow: {who} wants to {change} {target!r}. Allow its changes?"
                if await asyncio.to_thread(self._asker, question):
                    self._approved.add(who)
                    return
                self._denied.add(who)
        self._block(f"{who}: {change} {target!r} refused at the prompt")

    def _block(self, message: str) -> None:
        self._on_block(message)
        raise ToolError(message, "PermissionError")
