"""`glob` as one bounded walk of the workspace, matched by a linear-time pattern.

`pathlib.Path.glob` expands each `**` by walking the tree again, so
`**/**/**/**/**/**/*` over a deep tree the script wrote itself takes
exponential time. Here the tree is walked once, with `os.scandir`, by file
descriptor (`O_NOFOLLOW`), so a directory symlink is never descended, even
one swapped in mid-walk; the pattern becomes one RE2 regex over the relative
path (consecutive `**` are one), which matches in linear time. The walk is
bounded: at most `WALK_ENTRY_LIMIT` entries visited and `WALK_DEPTH_LIMIT`
directories deep. Past either bound the glob fails with one line that says
which bound and how to narrow the pattern; it never returns a silently
partial list.
"""

from __future__ import annotations

import functools
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import re2

from ._paths import ToolError, check_relative, is_skipped_dir

WALK_ENTRY_LIMIT = 250_000
"""Directory entries one glob may look at (files and directories, skipped ones included)."""
WALK_DEPTH_LIMIT = 64
"""Directories deep a `**` may descend below the workspace root."""
SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "__pycache__"})
_WILD = frozenset("*?[")
_RE2 = re2.Options()
_RE2.log_errors = False
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
# walking by descriptor (no path re-resolved mid-walk) needs both; Windows has neither
_BY_FD = os.scandir in os.supports_fd and os.open in os.supports_dir_fd


class Entry:
    """One thing the walk found: its workspace-relative name and what it is."""

    __slots__ = ("kind", "rel")

    def __init__(self, rel: str, kind: str) -> None:
        self.rel, self.kind = rel, kind  # kind: "file" or "link" (a symlink, not followed)


def check_pattern(pattern: object) -> tuple[str, ...]:
    """The pattern's segments; a `ToolError` if it is empty or could leave the workspace."""
    if not isinstance(pattern, str) or not pattern:
        raise ToolError("glob pattern must be a non-empty string")
    try:
        pure = check_relative(pattern, "glob")
    except ToolError as exc:
        if "leaves the workspace" in str(exc):
            raise ToolError(
                f"glob {pattern[:120]!r} leaves the workspace; use a relative pattern",
                "PermissionError",
            ) from None
        raise
    parts: list[str] = []
    for part in pure.parts:
        if part == "**" and parts and parts[-1] == "**":
            continue  # `**/**` means what `**` means
        parts.append(part)
    return tuple(parts)


@functools.lru_cache(maxsize=256)
def compile_glob(parts: tuple[str, ...]) -> Any:
    """An RE2 regex that fully matches the relative paths the glob segments match."""
    pieces = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "**":
            pieces.append(".+" if last else "(?:[^/]+/)*")  # `dir/**`: every file below
        else:
            pieces.append(_segment(part) + ("" if last else "/"))
    try:
        return re2.compile("".join(pieces), _RE2)
    except re2.error:
        raise ToolError(f"glob {'/'.join(parts)[:120]!r} is not a valid pattern") from None


def _segment(part: str) -> str:
    """One path segment of a glob as regex text: `*`, `?`, `[...]`, `[!...]`."""
    out, i = [], 0
    while i < len(part):
        ch = part[i]
        i += 1
        if ch == "*":
            while i < len(part) and part[i] == "*":
                i += 1
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            # as fnmatch reads a class: `!` negates, a `]` right after `[` or `[!` is literal
            end = i + 1 if i < len(part) and part[i] == "!" else i
            end = part.find("]", end + 1 if end < len(part) and part[end] == "]" else end)
            if end < 0:
                out.append(re2.escape("["))
                continue
            body, i = part[i:end], end + 1
            negate = body.startswith("!")
            body = body[1:] if negate else body
            escaped = "".join("\\" + c if c in "\\^[]" else c for c in body)
            out.append(f"[^/{escaped}]" if negate else f"[{escaped}]")
        else:
            out.append(re2.escape(ch))
    return "".join(out)


def glob_files(root: Path, pattern: object) -> list[Entry]:
    """Files and symlinks under `root` whose relative path matches `pattern`, bounded."""
    parts = check_pattern(pattern)
    regex = compile_glob(parts)
    fixed = 0  # leading segments without wildcards: walked to directly
    while fixed < len(parts) - 1 and not _WILD.intersection(parts[fixed]):
        fixed += 1
    recursive = "**" in parts
    # a pattern without `**` never needs to look deeper than its own segments
    depth_limit = WALK_DEPTH_LIMIT if recursive else len(parts)
    first_star = parts.index("**") if recursive else len(parts)
    # prefixes[d] matches a directory d deep that can still lead to a match
    prefixes = [compile_glob(parts[:d]) if d else None for d in range(first_star + 1)]
    walk = _Walk(root, str(pattern), regex, prefixes, depth_limit)
    return walk.run(parts[:fixed])


class _Walk:
    def __init__(self, root: Path, pattern: str, regex: Any, prefixes: list, depth: int) -> None:
        self.root, self.pattern, self.regex = root, pattern, regex
        self.prefixes, self.depth_limit = prefixes, depth
        self.visited = 0
        self.found: list[Entry] = []

    def run(self, fixed: tuple[str, ...]) -> list[Entry]:
        if _BY_FD:
            fd = os.open(self.root, _DIR_FLAGS)
            try:
                for part in fixed:  # each fixed segment must be a real directory
                    if is_skipped_dir(part, SKIP_DIRS):
                        return []
                    try:
                        inner = os.open(part, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
                    except OSError:  # missing, a file, or a symlink: nothing to list
                        return []
                    os.close(fd)
                    fd = inner
                self._scan_fd(fd, "/".join(fixed), len(fixed))
            finally:
                os.close(fd)
        else:  # pragma: no cover - platforms without dir_fd
            base = self.root.joinpath(*fixed)
            if any(is_skipped_dir(p, SKIP_DIRS) for p in fixed) or not _real_dir(base):
                return []
            self._scan_path(base, "/".join(fixed), len(fixed))
        return self.found

    def _entries(self, where: Any, rel: str) -> Iterator[tuple[str, str, os.DirEntry]]:
        with os.scandir(where) as listing:
            for entry in listing:
                self.visited += 1
                if self.visited > WALK_ENTRY_LIMIT:
                    raise ToolError(
                        f"glob {self.pattern[:120]!r} stopped after {WALK_ENTRY_LIMIT:,} "
                        "workspace entries; narrow it (e.g. 'src/**/*.py' instead of '**/*')"
                    )
                yield entry.name, f"{rel}/{entry.name}" if rel else entry.name, entry

    def _visit(self, name: str, child: str, entry: os.DirEntry, depth: int) -> bool:
        """Note a matching file or link; True if `entry` is a directory worth descending."""
        try:
            if entry.is_dir(follow_symlinks=False):
                return not is_skipped_dir(name, SKIP_DIRS) and self._may_descend(child, depth)
            if entry.is_symlink():
                kind = "link"
            elif entry.is_file(follow_symlinks=False):
                kind = "file"
            else:
                return False  # FIFOs, sockets, devices are not files to read
        except OSError:
            return False
        if self.regex.fullmatch(child):
            self.found.append(Entry(child, kind))
        return False

    def _may_descend(self, child: str, depth: int) -> bool:
        # `depth` is that of the entry; its own entries are one deeper
        if depth + 1 > self.depth_limit:
            if self.depth_limit < WALK_DEPTH_LIMIT:
                return False  # deeper than the pattern reaches
            raise ToolError(
                f"glob {self.pattern[:120]!r} stopped: directories nest more than "
                f"{WALK_DEPTH_LIMIT} deep under {child[:80]!r}...; glob a narrower path"
            )
        if depth < len(self.prefixes):
            prefix = self.prefixes[depth]
            return prefix is None or prefix.fullmatch(child) is not None
        return True

    def _scan_fd(self, fd: int, rel: str, depth: int) -> None:
        descend = [
            (name, child)
            for name, child, entry in self._entries(fd, rel)
            if self._visit(name, child, entry, depth + 1)
        ]
        for name, child in descend:
            try:
                inner = os.open(name, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
            except OSError:  # gone, unreadable, or swapped for a symlink since the listing
                continue
            try:
                self._scan_fd(inner, child, depth + 1)
            finally:
                os.close(inner)

    def _scan_path(self, path: Path, rel: str, depth: int) -> None:  # pragma: no cover
        descend = [
            (name, child)
            for name, child, entry in self._entries(path, rel)
            if self._visit(name, child, entry, depth + 1)
        ]
        for name, child in descend:
            if _real_dir(path / name):
                self._scan_path(path / name, child, depth + 1)


def _real_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False
