"""Declared commands: the only programs a script or subagent can start.

`.fanflow/config.toml` declares them, e.g. `[commands] test = "npm test --"`.
`run(name, *args)` starts the declared argv plus `args` with no shell (an
argument like `; rm -rf /` is just an argument), in the workspace, under a
timeout, and returns `{"code", "stdout", "stderr"}`.
"""

from __future__ import annotations

import asyncio
import shlex
from pathlib import Path
from typing import Any

from ._errors import ConfigError
from ._workspace import ToolError

OUTPUT_LIMIT = 20_000


class Commands:
    """The `[commands]` table of a workspace's config, runnable by name."""

    def __init__(
        self,
        root: Path,
        declared: dict[str, str],
        *,
        timeout: float = 600.0,
        dry: bool = False,
        concurrency: int = 16,
    ) -> None:
        self.root, self.timeout, self.dry = root, timeout, dry
        # the host bounds processes itself: scripts can start any number of units at once
        self._slots = asyncio.Semaphore(concurrency)
        self.declared = {}
        for name, cmd in declared.items():
            try:
                self.declared[name] = shlex.split(cmd)
            except ValueError as exc:
                raise ConfigError(
                    f".fanflow/config.toml [commands] {name} = {cmd!r}: {exc}; fix its quoting"
                ) from None

    async def run(self, name: str, *args: str) -> dict[str, Any]:
        if name not in self.declared:
            known = ", ".join(sorted(self.declared)) or "none"
            raise ToolError(
                f"command {name!r} is not declared in .fanflow/config.toml [commands] "
                f"(declared: {known})",
                "PermissionError",
            )
        if not all(isinstance(a, str) for a in args):
            raise ToolError("run() arguments must be strings", "TypeError")
        if any("\x00" in a for a in args):
            raise ToolError("run() arguments cannot contain a null byte", "ValueError")
        argv = [*self.declared[name], *args]
        if self.dry:  # estimating: assume the command succeeds, run nothing
            return {"code": 0, "stdout": "", "stderr": ""}
        async with self._slots:
            return await self._spawn(name, argv)

    async def _spawn(self, name: str, argv: list[str]) -> dict[str, Any]:
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                cwd=self.root,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            raise ToolError(f"command {name!r} could not start: {exc}", "OSError") from None
        try:
            out, err = await asyncio.wait_for(proc.communicate(), self.timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise ToolError(
                f"command {name!r} timed out after {self.timeout:g}s", "TimeoutError"
            ) from None
        finally:
            if proc.returncode is None:
                proc.kill()
        return {"code": proc.returncode, "stdout": _cut(out), "stderr": _cut(err)}


def _cut(data: bytes) -> str:
    text = data.decode("utf-8", errors="replace")
    if len(text) > OUTPUT_LIMIT:
        return text[-OUTPUT_LIMIT:] + "\n[... earlier output cut ...]"
    return text
