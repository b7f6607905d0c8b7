"""Which workspace paths are protected, and whether a path stays inside the workspace.

Names are compared folded: lower case (`casefold`), with the trailing dots and
spaces Windows drops and the zero-width code points macOS (HFS+) ignores taken
out, so `.GIT/hooks/x`, `.Env`, `ID_RSA`, `x.PEM`, `.git./config` and
`.g\\u200cit/config` are what they mean on the filesystems that fold them. The
check is the same on every platform: a workspace on Linux is often shared with
(or copied to) a case-insensitive one.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import PurePosixPath

from ._errors import FanflowError

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
# directories no tool writes into (nor git_restore): git's own data (hooks run as you),
# and the workspace's fanflow and Claude config (declared commands, agent prompts,
# permissions): an agent that could write these could raise its own rights
PROTECTED_DIRS = (".git", ".fanflow", ".claude")
# "GIT~1" is the 8.3 short name Windows gives ".git"
_PROTECTED_FOLDED = {".git": ".git", "git~1": ".git", ".fanflow": ".fanflow", ".claude": ".claude"}
# code points HFS+ ignores in names (the ones git refuses in ".git" for that reason)
_IGNORED = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u206a-\u206f\ufeff]")


class ToolError(FanflowError):
    """A workspace tool refused or failed; `kind` names the builtin exception to raise."""

    def __init__(self, message: str, kind: str = "ValueError") -> None:
        super().__init__(message)
        self.kind = kind


def fold(name: str) -> str:
    """A path component as a case- and Windows/macOS-insensitive filesystem sees it."""
    folded = _IGNORED.sub("", name).casefold().rstrip(" .")
    return folded or name.casefold()


def is_secret_path(path: str) -> bool:
    """Whether a workspace path names a secrets file (by its file name, any case)."""
    name = fold(PurePosixPath(path).name)
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in SECRET_PATTERNS)


def protected_dir(parts: tuple[str, ...] | list[str]) -> str | None:
    """The protected directory (`.git`, `.fanflow`, `.claude`) among path `parts`, if any."""
    for part in parts:
        found = _PROTECTED_FOLDED.get(fold(part))
        if found is not None:
            return found
    return None


def is_skipped_dir(name: str, skipped: frozenset[str]) -> bool:
    """Whether a directory name is one `glob`/`grep` never descend into (folded)."""
    folded = fold(name)
    return folded in skipped or _PROTECTED_FOLDED.get(folded) == ".git"


def check_relative(rel: object, what: str = "path") -> PurePosixPath:
    """`rel` as a relative path that cannot leave the workspace by its text alone."""
    if not isinstance(rel, str) or not rel.strip():
        raise ToolError(f"{what} must be a non-empty string relative to the workspace")
    if "\x00" in rel:
        raise ToolError(f"{what} {rel[:120]!r} contains a NUL byte", "PermissionError")
    pure = PurePosixPath(rel)
    if pure.is_absolute() or rel.startswith("~") or ".." in pure.parts:
        raise ToolError(
            f"{what} {rel[:120]!r} leaves the workspace; use a path relative to it",
            "PermissionError",
        )
    return pure
