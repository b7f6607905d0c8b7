"""Reading and replacing workspace files by descriptor, never through a link placed in its way.

A read opens the file's real path one directory at a time from the workspace
root, each with `O_NOFOLLOW`, so a symlink swapped in after the path was
checked is refused, not followed; it reads only what it may keep (the size
comes from `fstat` first, the binary check from the first bytes).

A write makes a new file and renames it over the name, so a hard link at the
name (the same inode as a file outside) is replaced, never written through,
and readers never see half a file. Everything on the way is done relative to
directory descriptors opened with `O_NOFOLLOW`, from the workspace root down:

- the parent directories are entered one by one and made if missing; a
  symlink placed at any of them, even between the `mkdir` and the `open`, is
  refused instead of followed out of the workspace;
- the temporary file gets a random name and is created with
  `O_CREAT | O_EXCL | O_NOFOLLOW`, so nothing placed at a name (a symlink, a
  hard link, a file) is opened; its mode is set with `fchmod` on the
  descriptor, never `chmod` by path;
- right before the rename, the target's real path is resolved again and the
  parent descriptor must still be the directory at that path.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from ._paths import ToolError

_DIR = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_BY_FD = os.open in os.supports_dir_fd and os.rename in os.supports_dir_fd
_TRIES = 8
_READ = os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
BINARY_PROBE = 8192
"""Bytes at the start of a file checked for NUL: one means binary, not read further."""
FULL_HASH_LIMIT = 64 << 20
"""Files up to this size are hashed whole; bigger ones by their size and first bytes."""
_CHUNK = 1 << 20


class Loaded:
    """What a read took from a file: its first bytes, its size, a digest of its content."""

    __slots__ = ("data", "digest", "size")

    def __init__(self, data: bytes, size: int, digest: str) -> None:
        self.data, self.size, self.digest = data, size, digest

    @property
    def whole(self) -> bool:
        return len(self.data) >= self.size


class Binary(Exception):
    """The file's first bytes hold a NUL."""


class NotAFile(Exception):
    """Missing, or not a regular file (a directory, a FIFO, a device)."""


def load(root: Path, target: Path, cap: int) -> Loaded:
    """At most `cap` bytes of regular file `target` (a real path under `root`)."""
    parts = target.relative_to(root).parts
    if not parts:
        raise NotAFile
    fd = _open_read(root, parts, target)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotAFile
        head = _read(fd, min(cap, BINARY_PROBE))
        if b"\x00" in head:
            raise Binary
        data = head + _read(fd, cap - len(head)) if len(head) < cap else head
        return Loaded(data, info.st_size, _digest(fd, info.st_size, data))
    finally:
        os.close(fd)


def digest_bytes(data: bytes) -> str:
    """The digest `load` records for a file whose whole content is `data`."""
    if len(data) > FULL_HASH_LIMIT:
        return hashlib.sha256(data[:_CHUNK] + f"\0size={len(data)}".encode()).hexdigest()
    return hashlib.sha256(data).hexdigest()


def digest_of(path: Path) -> str | None:
    """The digest `load` records for the file at `path`, or None if it cannot be read."""
    try:
        fd = os.open(path, _READ)
    except OSError:
        return None
    try:
        size = os.fstat(fd).st_size
        return _digest(fd, size, _read(fd, min(size, BINARY_PROBE)))
    except OSError:
        return None
    finally:
        os.close(fd)


def _open_read(root: Path, parts: tuple[str, ...], target: Path) -> int:
    if not _BY_FD:  # pragma: no cover - Windows
        try:
            return os.open(target, _READ)
        except FileNotFoundError:
            raise NotAFile from None
    fd = os.open(root, _DIR)
    try:
        for part in parts[:-1]:
            inner = os.open(part, _DIR | _NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = inner
        return os.open(parts[-1], _READ, dir_fd=fd)
    except (FileNotFoundError, NotADirectoryError):
        raise NotAFile from None
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):
            raise ToolError(
                f"the path to {target.name[:120]!r} changed while it was being read "
                "(a symlink appeared); nothing was read",
                "PermissionError",
            ) from None
        raise
    finally:
        os.close(fd)


def _read(fd: int, count: int) -> bytes:
    chunks, left = [], count
    while left > 0:
        chunk = os.read(fd, min(left, _CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _digest(fd: int, size: int, data: bytes) -> str:
    """sha256 of the whole content: `data` is what was read so far, from the start."""
    if size > FULL_HASH_LIMIT:
        # a file this big is seen by its size and first MiB only; see docs/SECURITY.md
        return hashlib.sha256(os.pread(fd, _CHUNK, 0) + f"\0size={size}".encode()).hexdigest()
    digest = hashlib.sha256(data)
    while chunk := os.read(fd, _CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def replace_file(root: Path, target: Path, data: bytes, still: Callable[[], Path]) -> None:
    """Write `data` as `target` (a real path under `root`); `still()` re-resolves the name.

    Raises `OSError` for the filesystem's refusals (a directory in the way, no
    space) and `ToolError` when the path changed under the write.
    """
    parts = target.relative_to(root).parts
    if not _BY_FD:  # pragma: no cover - Windows: no descriptor-relative calls
        _replace_by_path(root, target, data, still)
        return
    fd = os.open(root, _DIR)
    try:
        for part in parts[:-1]:
            inner = _enter(fd, part, target)
            os.close(fd)
            fd = inner
        _replace_in(fd, parts[-1], target, data, still)
    finally:
        os.close(fd)


def _enter(fd: int, name: str, target: Path) -> int:
    """The descriptor of directory `name` under `fd`, made if missing, never a symlink."""
    try:
        try:
            inner = os.open(name, _DIR | _NOFOLLOW, dir_fd=fd)
        except FileNotFoundError:
            # made meanwhile (FileExistsError): opened and checked below like any other
            with contextlib.suppress(FileExistsError):
                os.mkdir(name, 0o777, dir_fd=fd)
            inner = os.open(name, _DIR | _NOFOLLOW, dir_fd=fd)
    except OSError as exc:
        # Linux says ENOTDIR, not ELOOP, for a symlink opened with O_DIRECTORY | O_NOFOLLOW
        if exc.errno in (errno.ELOOP, errno.EMLINK) or _is_link(fd, name):
            raise _changed(target, f"{name!r} became a symlink") from None
        raise
    return inner


def _is_link(fd: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _replace_in(fd: int, name: str, target: Path, data: bytes, still: Callable[[], Path]) -> None:
    try:
        old = os.stat(name, dir_fd=fd, follow_symlinks=False)
    except FileNotFoundError:
        old = None
    tmp, out = _temp(fd, private=old is not None)
    try:
        try:
            if old is not None and stat.S_ISREG(old.st_mode):
                # the old file's permission bits (never set-id), on our descriptor only
                os.fchmod(out, old.st_mode & 0o777)
            view = memoryview(data)
            while view:
                view = view[os.write(out, view) :]
        finally:
            os.close(out)
        if still() != target:
            raise _changed(target, "it now resolves elsewhere")
        here, there = os.fstat(fd), os.stat(target.parent)
        if (here.st_dev, here.st_ino) != (there.st_dev, there.st_ino):
            raise _changed(target, "its directory was replaced")
        os.rename(tmp, name, src_dir_fd=fd, dst_dir_fd=fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=fd)
        raise


def _temp(fd: int, *, private: bool) -> tuple[str, int]:
    """A new file with a random name in directory `fd`: (name, descriptor)."""
    # replacing a file: 0600 until its own mode is copied, so its text never shows wider;
    # a new file: 0666 less the umask, as any new file
    mode = 0o600 if private else 0o666
    for _ in range(_TRIES):
        name = f".fanflow-{secrets.token_hex(8)}.tmp"
        try:
            return name, os.open(name, _NEW, mode, dir_fd=fd)
        except FileExistsError:
            continue  # something is at that name; never opened, another name is drawn
    raise OSError(errno.EEXIST, "no free temporary name")


def _changed(target: Path, why: str) -> ToolError:
    return ToolError(
        f"the path to {target.name[:120]!r} changed while it was being written ({why}); "
        "nothing was written",
        "PermissionError",
    )


def _replace_by_path(
    root: Path, target: Path, data: bytes, still: Callable[[], Path]
) -> None:  # pragma: no cover - Windows
    target.parent.mkdir(parents=True, exist_ok=True)
    if still() != target:
        raise _changed(target, "it now resolves elsewhere")
    out, tmp = tempfile.mkstemp(prefix=".fanflow-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(out, "wb") as file:
            file.write(data)
        if still() != target:
            raise _changed(target, "it now resolves elsewhere")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
