"""The workspace: the one directory scripts and subagents may touch.

Every path is relative to the workspace root and confined to it: absolute
paths, `~`, `..`, NUL bytes and symlinks that resolve outside are refused, and
nothing is written under `.git/`. Big files and big results are cut with a
visible marker so that nothing lands in a prompt whole by accident.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from ._errors import ConfigError, FanflowError

READ_LIMIT_CHARS = 2_000_000
AGENT_READ_LIMIT_CHARS = 60_000
GLOB_LIMIT = 10_000
GREP_LIMIT = 200
_OS_KINDS = {"IsADirectoryError", "NotADirectoryError", "FileExistsError", "PermissionError"}
# a group that repeats something repeated, e.g. (a+)+ or (\w*)*: backtracking blows up
_NESTED_REPEAT = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*[+*{]")
_SKIP_DIRS = {".git", "node_modules", ".venv", "__pycache__"}


SECRET_PATTERNS = (
    ".env",
    ".env.*",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "id_rsa*",
    "id_ed25519*",
    "id_ecdsa*",
    ".npmrc",
    ".pypirc",
    ".netrc",
    "credentials",
    "credentials.*",
    "*.keystore",
    ".git-credentials",
)


def is_secret_path(path: str) -> bool:
    """Whether a workspace path names a secrets file (by its file name)."""
    name = PurePosixPath(path).name
    return any(fnmatch.fnmatch(name, pattern) for pattern in SECRET_PATTERNS)


class ToolError(FanflowError):
    """A workspace tool refused or failed; `kind` names the builtin exception to raise."""

    def __init__(self, message: str, kind: str = "ValueError") -> None:
        super().__init__(message)
        self.kind = kind


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
        self.on_state = on_state
        self.dry = dry
        self.allow_secrets = allow_secrets
        """Estimating: changes are checked but not made."""
        """Told (path, sha256) of every file read or changed, for resume's workspace check."""

    def resolve(self, rel: str, *, for_write: bool = False) -> Path:
        """The real path of workspace-relative `rel`, or a `ToolError` if it leaves."""
        if not isinstance(rel, str) or not rel.strip():
            raise ToolError("path must be a non-empty string relative to the workspace")
        if "\x00" in rel:
            raise ToolError(f"path {rel!r} contains a NUL byte", "PermissionError")
        pure = PurePosixPath(rel)
        if pure.is_absolute() or rel.startswith("~") or ".." in pure.parts:
            raise ToolError(
                f"path {rel!r} leaves the workspace; use a path relative to it", "PermissionError"
            )
        try:
            target = (self.root / pure).resolve()
        except (OSError, RuntimeError) as exc:
            raise ToolError(
                f"path {rel[:80]!r} cannot be used: {exc.__class__.__name__}", "OSError"
            ) from None
        if target != self.root and self.root not in target.parents:
            raise ToolError(f"path {rel!r} resolves outside the workspace", "PermissionError")
        if for_write and ".git" in target.relative_to(self.root).parts:
            raise ToolError(
                f"path {rel!r} is inside .git/; writes there are refused", "PermissionError"
            )
        if not self.allow_secrets and (is_secret_path(rel) or is_secret_path(target.name)):
            raise ToolError(
                f"{rel[:120]!r} is a secrets file; it is neither read into prompts nor written "
                "(the user can allow it with --allow-secrets or in $FANFLOW_HOME/config.toml)",
                "PermissionError",
            )
        return target

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def glob(self, pattern: str) -> list[str]:
        """Workspace files matching `pattern` (`**` recurses), sorted, confined."""
        self._check_pattern(pattern)
        found = []
        for path in self.root.glob(pattern):
            rel = path.relative_to(self.root)
            if _SKIP_DIRS.intersection(rel.parts[:-1]) or not path.is_file():
                continue
            if not self._inside(path):
                continue
            if not self.allow_secrets and (
                is_secret_path(rel.name) or is_secret_path(path.resolve().name)
            ):
                continue
            found.append(rel.as_posix())
        return sorted(found)[:GLOB_LIMIT]

    def read(self, rel: str, *, limit: int = READ_LIMIT_CHARS) -> str:
        """The text of a workspace file, cut at `limit` characters with a marker."""
        path = self.resolve(rel)
        try:
            is_file = path.is_file()
        except OSError as exc:
            raise ToolError(f"cannot read {rel[:80]!r}: {exc.strerror}", "OSError") from None
        if not is_file:
            raise ToolError(f"no file {rel!r} in the workspace", "FileNotFoundError")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ToolError(f"cannot read {rel!r}: {exc.strerror}", "OSError") from None
        if b"\x00" in data[:8192]:
            raise ToolError(f"{rel!r} is a binary file; read text files only")
        self._note(path, data)
        text = data.decode("utf-8", errors="replace")
        if len(text) > limit:
            text = text[:limit] + f"\n[... cut: {len(text) - limit} more characters ...]"
        return text

    def read_numbered(self, rel: str) -> str:
        """A file as an agent sees it: numbered lines, cut for the prompt."""
        text = self.read(rel, limit=AGENT_READ_LIMIT_CHARS)
        return "\n".join(f"{i:>5}  {line}" for i, line in enumerate(text.splitlines(), 1))

    def grep(self, pattern: str, path_glob: str | None = None) -> list[dict[str, object]]:
        """Lines matching regex `pattern` in files matching `path_glob`; at most 200 hits."""
        if not isinstance(pattern, str):
            raise ToolError("grep pattern must be a string", "TypeError")
        if _NESTED_REPEAT.search(pattern):
            raise ToolError(
                f"grep pattern {str(pattern)[:80]!r} repeats a repeated group, which "
                "can take exponential time; simplify it"
            )
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise ToolError(f"bad regular expression {pattern!r}: {exc}") from None
        hits: list[dict[str, object]] = []
        for rel in self.glob(path_glob or "**/*"):
            try:
                text = self.read(rel)
            except ToolError:
                continue
            for number, line in enumerate(text.splitlines(), 1):
                if regex.search(line):
                    hits.append({"file": rel, "line": number, "text": line[:400]})
                    if len(hits) >= GREP_LIMIT:
                        return hits
        return hits

    def write(self, rel: str, text: str) -> None:
        """Write a text file inside the workspace (parents created)."""
        if not isinstance(text, str):
            raise ToolError("write() takes text; convert with json.dumps() first", "TypeError")
        path = self.resolve(rel, for_write=True)
        if self.dry:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            data = text.encode("utf-8")
            # a new file renamed over the name: never writes through a hard link to
            # a file outside the workspace, and readers never see half a file
            tmp = path.with_name(f".{path.name}.fanflow-{os.getpid()}.tmp")
            tmp.write_bytes(data)
            if path.exists():
                os.chmod(tmp, path.stat().st_mode & 0o7777)
            os.replace(tmp, path)
            self._note(path, data)
        except OSError as exc:
            kind = type(exc).__name__ if type(exc).__name__ in _OS_KINDS else "OSError"
            raise ToolError(f"cannot write {rel!r}: {exc.strerror}", kind) from None

    def git_restore(self, rel: str) -> None:
        """Put a file back to its committed state (`git checkout -- PATH`)."""
        path = self.resolve(rel, for_write=True)
        if self.dry:
            return
        result = subprocess.run(
            ["git", "checkout", "--", self.relative(path)],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode == 0 and path.is_file():
            self._note(path, path.read_bytes())
        if result.returncode != 0:
            raise ToolError(
                f"git_restore({rel!r}) failed: {result.stderr.strip()[:300]}", "OSError"
            )

    def _note(self, path: Path, data: bytes) -> None:
        rel, digest = self.relative(path), hashlib.sha256(data).hexdigest()
        self.read_hashes[rel] = digest
        if self.on_state is not None:
            self.on_state(rel, digest)

    def changed_since(self, states: dict[str, str]) -> list[str]:
        """Paths whose content is no longer what the run last saw (missing counts)."""
        changed = []
        for rel, digest in sorted(states.items()):
            path = self.root / rel
            try:
                current = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                current = None
            if current != digest:
                changed.append(rel)
        return changed

    def _check_pattern(self, pattern: str) -> None:
        if not isinstance(pattern, str) or not pattern:
            raise ToolError("glob pattern must be a non-empty string")
        pure = PurePosixPath(pattern)
        if pure.is_absolute() or pattern.startswith("~") or ".." in pure.parts:
            raise ToolError(
                f"glob {pattern!r} leaves the workspace; use a relative pattern", "PermissionError"
            )

    def _inside(self, path: Path) -> bool:
        real = path.resolve()
        return real == self.root or self.root in real.parents
