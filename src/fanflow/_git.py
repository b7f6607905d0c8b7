"""`git_restore`'s git calls: one literal, tracked file, with a timeout.

git reads a path argument as a *pathspec* by default, where `*`, `?`, `[`
and `:(magic)` match many files: `git checkout -- '*'` throws away every
uncommitted change in the repository. Every call here passes
`--literal-pathspecs`, so the path names exactly one file, and the file must
be one git tracks (`ls-files` lists exactly it), so a directory is not a way
to restore everything under it either.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from ._paths import ToolError

GIT_TIMEOUT_S = 60


def restore(root: Path, rel: str, shown: str) -> None:
    """Put tracked file `rel` (relative to `root`, POSIX) back to its committed state."""
    listed = _git(root, shown, "ls-files", "-z", "--", rel)
    if listed.stdout.split("\0")[:-1] != [rel]:
        named = "a directory" if listed.stdout else "no file git tracks"
        raise ToolError(
            f"git_restore({shown!r}): {rel[:120]!r} is {named}; "
            "name one tracked file (git_restore takes paths literally, no wildcards)",
            "FileNotFoundError",
        )
    _git(root, shown, "checkout", "--", rel)


def _git(root: Path, shown: str, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(
            ["git", "--literal-pathspecs", *args],
            cwd=root,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ToolError(
            f"git_restore({shown!r}) failed: git took over {GIT_TIMEOUT_S} s and was stopped",
            "TimeoutError",
        ) from None
    except OSError as exc:
        raise ToolError(
            f"git_restore({shown!r}) failed: cannot run git: {exc.strerror}", "OSError"
        ) from None
    if result.returncode != 0:
        raise ToolError(f"git_restore({shown!r}) failed: {result.stderr.strip()[:300]}", "OSError")
    return result
