"""Declared commands: the only programs a script or subagent can start.

`.fanflow/config.toml` declares them, as a string or as a table:

    [commands]
    test = "npm test --"             # callers may add plain arguments only

    [commands.lint]
    argv = "ruff check"              # or ["ruff", "check"]
    allow = ["--fix", "--select=*"]  # option-like arguments callers may pass
    paths = "workspace"              # or "any": arguments may name outside paths

`run(name, *args)` starts the declared argv plus `args` with no shell (an
argument like `; rm -rf /` is just an argument), in the workspace, under a
timeout, and returns `{"code", "stdout", "stderr"}`.

No shell is not enough: the program itself reads its arguments, and an option
such as node's `--import=data:...` or git's `--upload-pack=...` runs code. So
every argument the caller adds (wherever it sits, `--` included: `npm test --`
hands them to a test runner that parses options too) is checked by
`refusal()`: anything that looks like an option, a response file, a `+cmd` or
a `NAME=value` assignment is refused unless the declaration's `allow` names
it, and a path that leaves the workspace is refused unless `paths = "any"`.
"""

from __future__ import annotations

import asyncio
import re
import shlex
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from ._errors import ConfigError
from ._workspace import ToolError

OUTPUT_LIMIT = 20_000
TABLE_KEYS = ("argv", "allow", "paths")
_OPTION_STARTS = frozenset("-+@")
"""`-x`/`--x` options, `+cmd` (vim, less), `@file` response files (gcc, javac, argparse)."""
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
"""`CC=...` overrides a make variable (and `$(shell ...)` runs code); env takes them too."""
_MINUS_LIKE = frozenset("\u2212\u02d7\u2796")
"""Minus signs that are not Unicode dashes (MINUS SIGN, MODIFIER LETTER MINUS, HEAVY MINUS)."""
_DRIVE = re.compile(r"[A-Za-z]:")


@dataclass(frozen=True)
class Declaration:
    """One declared command: its argv and what callers may add to it."""

    argv: tuple[str, ...]
    allow: tuple[str, ...] = ()
    """Exact arguments, or prefixes ending in `*` (`--reporter=*`), callers may pass."""
    any_paths: bool = False

    def allows(self, arg: str) -> bool:
        # the raw text, never a normalised form: the program sees exactly this string
        return any(
            arg == pattern or (pattern.endswith("*") and arg.startswith(pattern[:-1]))
            for pattern in self.allow
        )


def parse_declaration(name: str, value: object) -> Declaration:
    """A `[commands]` entry, string or table; a `ConfigError` (without the path) if bad."""
    where = f"[commands] {name}"
    if isinstance(value, str):
        return Declaration(_argv(where, value))
    if not isinstance(value, Mapping):
        raise ConfigError(f'{where} must be a command string or a table with argv = "..."')
    unknown = sorted(set(value) - set(TABLE_KEYS))
    if unknown:
        raise ConfigError(
            f"[commands.{name}] has unknown key(s) {', '.join(map(repr, unknown))}; "
            f"the keys are {', '.join(TABLE_KEYS)}"
        )
    raw = value.get("argv")
    if isinstance(raw, list) and raw and all(isinstance(a, str) and a for a in raw):
        argv = tuple(raw)
    elif isinstance(raw, str):
        argv = _argv(f"[commands.{name}] argv", raw)
    else:
        raise ConfigError(
            f'[commands.{name}] needs argv = "program args" (or a list of non-empty strings)'
        )
    allow = value.get("allow", [])
    if not isinstance(allow, list) or not all(isinstance(a, str) and a for a in allow):
        raise ConfigError(
            f'[commands.{name}] allow must be a list of arguments, e.g. ["--fix", "--select=*"]'
        )
    paths = value.get("paths", "workspace")
    if paths not in ("workspace", "any"):
        raise ConfigError(f'[commands.{name}] paths must be "workspace" or "any"')
    return Declaration(argv, tuple(allow), paths == "any")


def _argv(where: str, text: str) -> tuple[str, ...]:
    try:
        argv = tuple(shlex.split(text))
    except ValueError as exc:
        raise ConfigError(f"{where} = {text!r}: {exc}; fix its quoting") from None
    if not argv:
        raise ConfigError(f"{where} is empty; name a program")
    return argv


def looks_like_option(arg: str) -> bool:
    """An argument a program may read as an option, a response file or an assignment.

    Leading blanks and invisible format characters are skipped and the text is
    NFKC-normalised first (fullwidth `－`, `＋`, `＠`), and every Unicode dash
    counts: a program that trims or normalises its argv must not see an option
    this check did not.
    """
    text = unicodedata.normalize("NFKC", arg).lstrip()
    text = "".join(_dropping_format(text))
    if not text:
        return False
    first = text[0]
    return (
        first in _OPTION_STARTS
        or unicodedata.category(first) == "Pd"
        or first in _MINUS_LIKE
        or _ASSIGNMENT.match(text) is not None
    )


def _dropping_format(text: str):
    """`text` without its leading format characters (zero-width space, BOM, bidi marks)."""
    leading = True
    for char in text:
        if leading and (unicodedata.category(char) == "Cf" or char.isspace()):
            continue
        leading = False
        yield char


def leaves_workspace(arg: str, root: Path) -> bool:
    """Whether `arg`, or what follows any `=` in it, names a path outside `root`.

    `--out=/x`, `KEY=VAL=/x`: a program may split at any `=`. Lists inside one
    argument (`a,/x`, `a:/x`) are not split: `:` and `,` also occur in URLs and
    patterns, and such a value needs an `allow` entry to pass as an option anyway.
    """
    parts = arg.split("=")
    candidates = [arg] + ["=".join(parts[i:]) for i in range(1, min(len(parts), 64))]
    for text in candidates:
        for form in dict.fromkeys((text, unicodedata.normalize("NFKC", text))):
            if _outside(form.strip(), root):
                return True
    return False


def _outside(text: str, root: Path) -> bool:
    if not text:
        return False
    if text.startswith(("/", "\\", "~")) or _DRIVE.match(text):
        return True  # absolute, UNC, home, or a Windows drive (C:x is relative to C:'s cwd)
    if text.lower().startswith("file:"):
        return True
    if ".." in PurePosixPath(text).parts or ".." in PureWindowsPath(text).parts:
        return True
    if len(text) > 4096:
        return False  # longer than PATH_MAX: the program cannot open it, and resolving it
        # component by component would stall the event loop
    try:  # a relative name through a symlink that points out
        target = (root / text).resolve()
    except (OSError, RuntimeError, ValueError):
        return False  # not a usable path (too long, a loop): nothing to reach through it
    return target != root and root not in target.parents


class Commands:
    """The `[commands]` table of a workspace's config, runnable by name."""

    def __init__(
        self,
        root: Path,
        declared: Mapping[str, str | Mapping[str, Any]],
        *,
        timeout: float = 600.0,
        dry: bool = False,
        concurrency: int = 16,
    ) -> None:
        self.root, self.timeout, self.dry = root.resolve(), timeout, dry
        # the host bounds processes itself: scripts can start any number of units at once
        self._slots = asyncio.Semaphore(concurrency)
        self.specs: dict[str, Declaration] = {}
        for name, value in declared.items():
            try:
                self.specs[name] = parse_declaration(name, value)
            except ConfigError as exc:
                raise ConfigError(f".fanflow/config.toml {exc}") from None
        self.declared = {name: list(spec.argv) for name, spec in self.specs.items()}

    def refusal(self, name: str, args: tuple[str, ...]) -> str | None:
        """Why `run(name, *args)` may not start, or None. One line naming the argument."""
        spec = self.specs[name]
        for arg in args:
            shown = repr(arg[:80] + ("..." if len(arg) > 80 else ""))
            if looks_like_option(arg) and not spec.allows(arg):
                return (
                    f"argument {shown} of command {name!r} looks like an option, an @file "
                    f"or a NAME=value, and its declaration does not allow it; to allow it, "
                    f"declare it in .fanflow/config.toml as [commands.{name}] with "
                    f"allow = [{_suggest(arg)!r}]"
                )
            if not spec.any_paths and leaves_workspace(arg, self.root):
                return (
                    f"argument {shown} of command {name!r} names a path outside the "
                    f"workspace (absolute, ~, .., file: or a link out); pass a path inside "
                    f'it, or declare [commands.{name}] with paths = "any" in .fanflow/config.toml'
                )
        return None

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
        why = self.refusal(name, args)
        if why is not None:
            raise ToolError(why, "PermissionError")
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


def _suggest(arg: str) -> str:
    """The allow entry to suggest: the exact argument (the narrowest grant), or a prefix."""
    if len(arg) <= 60:
        return arg
    head, sep, _ = arg.partition("=")
    return f"{head}=*" if sep and len(head) <= 60 else arg[:60] + "*"


def _cut(data: bytes) -> str:
    text = data.decode("utf-8", errors="replace")
    if len(text) > OUTPUT_LIMIT:
        return text[-OUTPUT_LIMIT:] + "\n[... earlier output cut ...]"
    return text
