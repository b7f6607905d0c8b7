"""Failures of the disk under the journal, turned into one line the user can act on.

A full disk surfaced as "internal error: ExceptionGroup (16 sub-exceptions)"
(every agent's write failed at once) and left the run looking `interrupted`
with no hint; a journal a newer fanflow had migrated was accepted, then failed
with "another fanflow may hold it". Both are environmental: nothing in the
script is wrong, and the run can go on once the cause is gone.
"""

from __future__ import annotations

import contextlib
import errno
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from .._errors import FanflowError, UserError

_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
_SQLITE_FULL = 13


class JournalFull(FanflowError):
    """The disk (or quota) under the journal is full; the run is resumable."""

    exit_code = 1

    def __init__(self, path: Path, run_id: str | None) -> None:
        then = f"`fanflow resume {run_id}`" if run_id else "run it again"
        super().__init__(f"disk full while writing the journal at {path}; free space and {then}")


class JournalTooNew(UserError):
    """The journal was migrated by a newer fanflow than this one."""

    def __init__(self, path: Path, theirs: int, ours: int) -> None:
        super().__init__(
            f"journal {path} has schema version {theirs}, written by a newer fanflow; this "
            f"fanflow reads up to version {ours}: upgrade fanflow (pip install -U fanflow), "
            "or set FANFLOW_HOME to use another journal"
        )


def is_full(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.OperationalError):
        code = getattr(exc, "sqlite_errorcode", None)
        return code == _SQLITE_FULL or "disk is full" in str(exc) or "disk full" in str(exc)
    return isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS


@contextlib.contextmanager
def disk_guard(path: Path, run_id: str | None) -> Iterator[None]:
    """Turn a full-disk failure inside the block into `JournalFull`."""
    try:
        yield
    except (sqlite3.OperationalError, OSError) as exc:
        if is_full(exc):
            raise JournalFull(path, run_id) from exc
        raise


def find_in(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The first `kind` in `exc`, its exception groups and causes (what the CLI reports)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, kind):
            return current
        if isinstance(current, BaseExceptionGroup):
            todo.extend(current.exceptions)
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return None
