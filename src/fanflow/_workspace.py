"""The workspace: the one directory scripts and subagents may touch.

Every path is relative to the workspace root and confined to it: absolute
paths, `~`, `..`, NUL bytes and symlinks that resolve outside are refused, and
nothing is written under `.git/`, `.fanflow/` or `.claude/` (in any case).
Big files and big results are cut with a visible marker so that nothing lands
in a prompt whole by accident, and no file is read past what may be kept.

The tools call the `a*` methods (`aread`, `agrep`, ...), which do the file
work in a small thread pool, off the run's event loop, so a grep over a big
tree cannot stall heartbeats, cancels and other agents; the plain methods do
the same work in the caller's thread. Either way the content hashes are
recorded on the caller's thread (the journal is written there).

Module map: `_paths` (protected names, confinement by text), `_walk` (the
bounded glob), `_linear` (grep's RE2 patterns), `_fileio` (reads and writes by
descriptor), `_git` (git_restore's literal git calls).
"""

from __future__ import annotations

import asyncio
import codecs
import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from . import _git
from ._errors import ConfigError
from ._fileio import (
    FULL_HASH_LIMIT,
    Binary,
    Loaded,
    NotAFile,
    digest_bytes,
    digest_of,
    load,
    replace_file,
)
from ._linear import compile_grep
from ._paths import (
    PROTECTED_DIRS,
    SECRET_PATTERNS,
    ToolError,
    check_relative,
    is_secret_path,
    protected_dir,
)
from ._walk import glob_files

__all__ = ["SECRET_PATTERNS", "ToolError", "Workspace", "is_secret_path"]

READ_LIMIT_CHARS = 2_000_000
AGENT_READ_LIMIT_CHARS = 60_000
GLOB_LIMIT = 10_000
GREP_LIMIT = 200
GREP_FILE_LIMIT = 50_000
"""Files one grep may open."""
GREP_BYTES_LIMIT = 1 << 30
"""Bytes one grep may touch: read (up to what `read` keeps of a file) or hashed."""
_MIN_READ = 1 << 20
"""A read takes at least this much of a file, so a small limit still counts what it cut."""
TOOL_TIMEOUT_S = 120.0
"""A read, glob or grep still running after this is abandoned with a `TimeoutError`."""
POOL_THREADS = 4
_OS_KINDS = {"IsADirectoryError", "NotADirectoryError", "FileExistsError", "PermissionError"}
_T = TypeVar("_T")
Note = tuple[str, str]
"""(workspace path, content digest) of a file read or changed."""


class Workspace:
    """File access confined to `root`. Keeps a content hash of every file read."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        on_state: Callable[[str, str], None] | None = None,
        *,
        dry: bool = False,
        allow_secrets: bool = False,
    ) -> None:
        path = Path(root).expanduser()
        if not path.exists():
            raise ConfigError(f"workspace {str(root)!r} does not exist; pass --workspace DIR")
        if not path.is_dir():
            raise ConfigError(f"workspace {str(root)!r} is not a directory; pass --workspace DIR")
        if not os.access(path, os.R_OK | os.X_OK):
            raise ConfigError(f"workspace {str(root)!r} is not readable; check its permissions")
        self.root = path.resolve()
        self.read_hashes: dict[str, str] = {}
        """Told (path, sha256) of every file read or changed, for resume's workspace check."""
        self.on_state = on_state
        self.dry = dry
        """Estimating: changes are checked but not made."""
        self.allow_secrets = allow_secrets

    # -- confinement ------------------------------------------------------------------------

    def resolve(self, rel: str, *, for_write: bool = False) -> Path:
        """The real path of workspace-relative `rel`, or a `ToolError` if it leaves."""
        pure = check_relative(rel)
        try:
            target = (self.root / pure).resolve()
        except (OSError, RuntimeError) as exc:
            raise ToolError(
                f"path {rel[:80]!r} cannot be used: {exc.__class__.__name__}", "OSError"
            ) from None
        if target != self.root and self.root not in target.parents:
            raise ToolError(f"path {rel!r} resolves outside the workspace", "PermissionError")
        if for_write:
            found = (
                protected_dir(pure.parts)
                or protected_dir(target.relative_to(self.root).parts)
                or self._under_protected_link(target)
            )
            if found is not None:
                why = "" if found == ".git" else " (the workspace's own config: edit it yourself)"
                raise ToolError(
                    f"path {rel!r} is inside {found}/; writes there are refused{why}",
                    "PermissionError",
                )
        if not self.allow_secrets and (is_secret_path(rel) or is_secret_path(target.name)):
            raise ToolError(
                f"{rel[:120]!r} is a secrets file; it is neither read into prompts nor written "
                "(the user can allow it with --allow-secrets or in $FANFLOW_HOME/config.toml)",
                "PermissionError",
            )
        return target

    def _under_protected_link(self, target: Path) -> str | None:
        # `.fanflow -> conf/`: `conf/config.toml` is the config, whatever the path says
        for name in PROTECTED_DIRS:
            link = self.root / name
            if link.is_symlink():
                real = link.resolve()
                if target == real or real in target.parents:
                    return name
        return None

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    # -- the tools, on the caller's thread ------------------------------------------------------

    def glob(self, pattern: str) -> list[str]:
        """Workspace files matching `pattern` (`**` recurses), sorted, confined."""
        return self._glob(pattern)[:GLOB_LIMIT]

    def read(self, rel: str, *, limit: int = READ_LIMIT_CHARS) -> str:
        """The text of a workspace file, cut at `limit` characters with a marker."""
        text, note = self._read(rel, limit)
        self._apply([note])
        return text

    def read_numbered(self, rel: str) -> str:
        """A file as an agent sees it: numbered lines, cut for the prompt."""
        return _numbered(self.read(rel, limit=AGENT_READ_LIMIT_CHARS))

    def grep(self, pattern: str, path_glob: str | None = None) -> list[dict[str, object]]:
        """Lines matching regex `pattern` in files matching `path_glob`; at most 200 hits."""
        hits, notes = self._grep(pattern, path_glob)
        self._apply(notes)
        return hits

    def write(self, rel: str, text: str) -> None:
        """Write a text file inside the workspace (parents created)."""
        self._apply(self._write(rel, text))

    def git_restore(self, rel: str) -> None:
        """Put a tracked file back to its committed state (`git checkout -- PATH`, literally)."""
        self._apply(self._git_restore(rel))

    # -- the tools, off the event loop ----------------------------------------------------------

    async def aglob(self, pattern: str) -> list[str]:
        return await _off_loop(self.glob, pattern, limit_s=TOOL_TIMEOUT_S)

    async def aread(self, rel: str, *, limit: int = READ_LIMIT_CHARS) -> str:
        text, note = await _off_loop(self._read, rel, limit, limit_s=TOOL_TIMEOUT_S)
        self._apply([note])
        return text

    async def aread_numbered(self, rel: str) -> str:
        return _numbered(await self.aread(rel, limit=AGENT_READ_LIMIT_CHARS))

    async def agrep(self, pattern: str, path_glob: str | None = None) -> list[dict[str, object]]:
        hits, notes = await _off_loop(self._grep, pattern, path_glob, limit_s=TOOL_TIMEOUT_S)
        self._apply(notes)
        return hits

    async def awrite(self, rel: str, text: str) -> None:
        # no timeout: an abandoned write could still land after its error was reported
        self._apply(await _off_loop(self._write, rel, text, limit_s=None))

    async def agit_restore(self, rel: str) -> None:
        # git's own calls time out (`_git.GIT_TIMEOUT_S`) and stop the process
        self._apply(await _off_loop(self._git_restore, rel, limit_s=None))

    # -- the work, in whichever thread ----------------------------------------------------------

    def _glob(self, pattern: str) -> list[str]:
        found = []
        for entry in glob_files(self.root, pattern):
            if not self.allow_secrets and is_secret_path(entry.rel):
                continue
            if entry.kind == "link":
                # a symlink is listed when it ends at a file inside the workspace
                try:
                    real = (self.root / entry.rel).resolve()
                    if not self._inside(real) or not real.is_file():
                        continue
                except (OSError, RuntimeError):
                    continue
                if not self.allow_secrets and is_secret_path(real.name):
                    continue
            found.append(entry.rel)
        return sorted(found)

    def _load(self, rel: str, limit: int) -> tuple[Path, Loaded]:
        path = self.resolve(rel)
        try:
            # UTF-8 takes at most 4 bytes a character
            return path, load(self.root, path, max(limit * 4 + 4, _MIN_READ))
        except NotAFile:
            raise ToolError(f"no file {rel!r} in the workspace", "FileNotFoundError") from None
        except Binary:
            raise ToolError(f"{rel!r} is a binary file; read text files only") from None
        except OSError as exc:
            raise ToolError(f"cannot read {rel[:80]!r}: {exc.strerror}", "OSError") from None

    def _read(self, rel: str, limit: int) -> tuple[str, Note]:
        path, loaded = self._load(rel, limit)
        return _text(loaded, limit), (self.relative(path), loaded.digest)

    def _grep(self, pattern: str, path_glob: str | None) -> tuple[list[dict[str, object]], list]:
        regex = compile_grep(pattern)
        where = "**/*" if path_glob is None else path_glob
        hits: list[dict[str, object]] = []
        notes: list[Note] = []
        files = self._glob(where)
        if len(files) > GREP_FILE_LIMIT:
            raise ToolError(
                f"grep would open {len(files):,} files (the limit is {GREP_FILE_LIMIT:,}); "
                "narrow it with path_glob, e.g. 'src/**/*.py'"
            )
        budget = GREP_BYTES_LIMIT
        for rel in files:
            try:
                path, loaded = self._load(rel, READ_LIMIT_CHARS)
            except ToolError:
                continue
            budget -= max(len(loaded.data), min(loaded.size, FULL_HASH_LIMIT))
            if budget < 0:
                raise ToolError(
                    f"grep read over {GREP_BYTES_LIMIT >> 20:,} MiB by {rel[:80]!r}; "
                    "narrow it with path_glob, e.g. 'src/**/*.py'"
                )
            notes.append((self.relative(path), loaded.digest))
            for number, line in enumerate(_text(loaded, READ_LIMIT_CHARS).splitlines(), 1):
                if regex.search(line):
                    hits.append({"file": rel, "line": number, "text": line[:400]})
                    if len(hits) >= GREP_LIMIT:
                        return hits, notes
        return hits, notes

    def _write(self, rel: str, text: str) -> list[Note]:
        if not isinstance(text, str):
            raise ToolError("write() takes text; convert with json.dumps() first", "TypeError")
        path = self.resolve(rel, for_write=True)
        if self.dry:
            return []
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ToolError(
                f"cannot write {rel!r}: the text is not valid Unicode ({exc.reason})"
            ) from None
        try:
            replace_file(self.root, path, data, lambda: self.resolve(rel, for_write=True))
        except OSError as exc:
            kind = type(exc).__name__ if type(exc).__name__ in _OS_KINDS else "OSError"
            raise ToolError(f"cannot write {rel!r}: {exc.strerror}", kind) from None
        return [(self.relative(path), digest_bytes(data))]

    def _git_restore(self, rel: str) -> list[Note]:
        path = self.resolve(rel, for_write=True)
        if self.dry:
            return []
        _git.restore(self.root, self.relative(path), rel)
        digest = digest_of(path)
        return [] if digest is None else [(self.relative(path), digest)]

    # -- content hashes ---------------------------------------------------------------------

    def _apply(self, notes: list[Note]) -> None:
        for rel, digest in notes:
            self.read_hashes[rel] = digest
            if self.on_state is not None:
                self.on_state(rel, digest)

    def changed_since(self, states: dict[str, str]) -> list[str]:
        """Paths whose content is no longer what the run last saw (missing counts)."""
        return [
            rel for rel, digest in sorted(states.items()) if digest_of(self.root / rel) != digest
        ]

    def _inside(self, real: Path) -> bool:
        return real == self.root or self.root in real.parents


def _text(loaded: Loaded, limit: int) -> str:
    """A file's text cut at `limit` characters; the marker says how much more there is."""
    if loaded.whole:
        text = loaded.data.decode("utf-8", errors="replace")
        if len(text) > limit:
            text = text[:limit] + f"\n[... cut: {len(text) - limit} more characters ...]"
        return text
    # only the start was read: a character split at the end is left out, and what is left
    # is counted from the file's size
    shown = codecs.getincrementaldecoder("utf-8")("replace").decode(loaded.data)[:limit]
    more = loaded.size - len(shown.encode("utf-8"))
    return shown + f"\n[... cut: {more} more bytes ...]"


def _numbered(text: str) -> str:
    return "\n".join(f"{i:>5}  {line}" for i, line in enumerate(text.splitlines(), 1))


@functools.cache
def _pool() -> ThreadPoolExecutor:
    # the tools' own few threads: a flood of greps queues here, not in the loop's default
    # executor (which DNS lookups and the SDKs use)
    return ThreadPoolExecutor(max_workers=POOL_THREADS, thread_name_prefix="fanflow-tool")


async def _off_loop(fn: Callable[..., _T], *args: Any, limit_s: float | None) -> _T:
    future = asyncio.get_running_loop().run_in_executor(_pool(), functools.partial(fn, *args))
    try:
        return await asyncio.wait_for(future, limit_s)
    except TimeoutError:
        raise ToolError(
            f"{getattr(fn, '__name__', 'tool').strip('_')} took over {limit_s:.0f} s and was "
            "abandoned; narrow it",
            "TimeoutError",
        ) from None
