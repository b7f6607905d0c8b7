"""The journal's files are private: prompts and results are in them.

SQLite creates `fanflow.db-wal` and `fanflow.db-shm` with the mode of the
database file, so the database is made 0600 *before* SQLite first opens it;
files an older fanflow left readable by others are closed up on every open.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

SIDE_FILES = ("-wal", "-shm", "-journal")


def create_private(path: Path) -> None:
    """Create `path` empty and 0600 if it does not exist (never through a symlink)."""
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        os.close(fd)


def make_private(path: Path) -> None:
    """chmod 0600 the database and the side files SQLite made beside it."""
    for name in (path, *(path.with_name(path.name + side) for side in SIDE_FILES)):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            mode = os.stat(name, follow_symlinks=False).st_mode
            if stat.S_ISREG(mode) and mode & 0o077:
                os.chmod(name, 0o600)
