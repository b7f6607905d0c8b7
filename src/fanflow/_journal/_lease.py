"""A run's lease: which process owns it, proved by a fencing token (DESIGN §12, §13).

One process at a time executes a run. It takes the lease with a compare-and-set
in one `BEGIN IMMEDIATE` transaction (two resumes started together: one wins,
the other is told who owns the run), and every journal write it makes checks,
inside the write's own transaction, that the token is still its own (a stale
owner's writes are refused).

The lease is renewed by a daemon thread with its own SQLite connection, not by
the event loop: a loop stalled by a slow tool must not make a live run look
dead (it *is* alive; `interrupted` is derived from the lease alone). The same
thread is what makes `cancel` and SIGTERM real when the loop cannot act: once
a stop was asked for and the run has not ended within `HARD_STOP_AFTER_S`, it
marks the run cancelled through its own connection, kills the run's child
processes and ends the process (`os._exit`), when the owner of the process
(the `fanflow` command) allowed that with `hard_stop_allowed`. A loop that took
the stop up in time (`stop_taken_up_here`) is alive and gets
`STOPPING_GRACE_S` to finish it gracefully.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from .._errors import FanflowError, UserError

LEASE_S = 30.0
"""A lease not renewed for this long may be taken over (DESIGN §13)."""
RENEW_S = 1.0
TICK_S = 0.1
HARD_STOP_AFTER_S = 3.0
"""How long the event loop gets to take up a stop before the process is ended."""
STOPPING_GRACE_S = 30.0
"""How long a loop that did take it up (it is alive) gets to finish stopping."""
HOST = socket.gethostname()
LIVE = ("pending", "running")

_hard_stop = False
_active: set[Renewer] = set()
_active_lock = threading.Lock()


@contextlib.contextmanager
def hard_stop_allowed():
    """While the `fanflow` command runs its loop, a stop the loop does not honour in
    time may end the process. Scoped, not set for good: a program (or test) that
    ran the CLI in-process and then owns runs itself must never be ended by them."""
    global _hard_stop
    before, _hard_stop = _hard_stop, True
    try:
        yield
    finally:
        _hard_stop = before


def stop_requested_here() -> None:
    """A stop asked of this process (SIGTERM): every run it owns stops, by force if need be."""
    with _active_lock:
        renewers = list(_active)
    for renewer in renewers:
        renewer.stop_asked()


def stop_taken_up_here() -> None:
    """Called on the event loop as it starts cancelling: it is alive, give it time."""
    with _active_lock:
        renewers = list(_active)
    for renewer in renewers:
        renewer.taken_up()


def owns_a_run() -> bool:
    with _active_lock:
        return bool(_active)


class LeaseHeld(UserError):
    """Another live process owns the run."""

    def __init__(self, run_id: str, host: str, pid: int, renewed_ago: float) -> None:
        super().__init__(
            f"run {run_id} is running in another process (host {host}, pid {pid}; lease "
            f"renewed {renewed_ago:.0f}s ago); watch it with `fanflow watch {run_id}` or stop "
            f"it with `fanflow cancel {run_id}`"
        )


class LeaseLost(FanflowError):
    """This process's lease was taken over: its writes are refused."""

    def __init__(self, run_id: str, owner: str) -> None:
        super().__init__(
            f"run {run_id} is now owned by {owner} (this process did not renew its lease "
            f"for {LEASE_S:g}s); this process stopped and wrote nothing more"
        )


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return True  # unknown: let the lease's age decide
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """A killed process nobody reaped still answers kill(pid, 0); /proc tells the truth."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False


def holder_alive(host: str | None, pid: int | None, renewed_at: float | None) -> bool:
    """Whether a lease (or, for older journals, a heartbeat) still holds its run."""
    if renewed_at is None or time.time() - renewed_at > LEASE_S:
        return False
    return host not in (None, HOST) or pid_alive(pid)  # another host's pid cannot be asked


def lease_live(row: Any) -> bool:
    return (
        row is not None
        and row["released_at"] is None
        and holder_alive(row["host"], row["pid"], row["renewed_at"])
    )


def acquire(db: sqlite3.Connection, run_id: str) -> int:
    """Take the lease of `run_id` for this process; its new fencing token.

    A compare-and-set in one `BEGIN IMMEDIATE`: of two processes racing, the
    second waits for the first's commit, then sees its live lease and gets
    `LeaseHeld` naming it.
    """
    now = time.time()
    db.execute("BEGIN IMMEDIATE")
    try:
        row = db.execute("SELECT * FROM leases WHERE run_id=?", (run_id,)).fetchone()
        if lease_live(row):  # this very process too: two resumes in one program, one runs
            raise LeaseHeld(run_id, row["host"], row["pid"], now - row["renewed_at"])
        token = (row["token"] if row is not None else 0) + 1
        db.execute(
            "INSERT OR REPLACE INTO leases VALUES (?, ?, ?, ?, ?, ?, NULL)",
            (run_id, token, HOST, os.getpid(), now, now),
        )
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return token


def check_token(db: sqlite3.Connection, run_id: str, token: int) -> None:
    """Inside a write transaction: raise `LeaseLost` unless `token` still owns the run."""
    row = db.execute("SELECT token, host, pid FROM leases WHERE run_id=?", (run_id,)).fetchone()
    if row is None or row[0] != token:
        owner = f"host {row[1]}, pid {row[2]}" if row is not None else "nobody"
        raise LeaseLost(run_id, owner)


class Renewer(threading.Thread):
    """Renews one lease and watches for a stop, on a thread the event loop cannot starve."""

    def __init__(
        self, path: Path, run_id: str, token: int, *, take_pending: Any = None, on_lost: Any = None
    ) -> None:
        super().__init__(name=f"fanflow-lease-{run_id}", daemon=True)
        self.path, self.run_id, self.token, self.on_lost = path, run_id, token, on_lost
        self.take_pending = take_pending
        """The owning journal's queued writes: a forced stop writes them first."""
        self._ended = threading.Event()
        self._stop_since: float | None = None
        self._taken_up_at: float | None = None
        self.lost = False

    def start(self) -> None:
        with _active_lock:
            _active.add(self)
        super().start()

    def end(self) -> None:
        """The run ended (or the journal closed): stop renewing, never force a stop."""
        self._ended.set()
        with _active_lock:
            _active.discard(self)

    def stop_asked(self) -> None:
        if self._stop_since is None:
            self._stop_since = time.monotonic()

    def taken_up(self) -> None:
        self.stop_asked()
        if self._taken_up_at is None:
            self._taken_up_at = time.monotonic()

    def _overdue(self, now: float) -> bool:
        if self._stop_since is None or self._ended.is_set():
            return False
        if self._taken_up_at is not None:  # the loop is stopping: only a new stall ends it
            return now - self._taken_up_at >= STOPPING_GRACE_S
        return now - self._stop_since >= HARD_STOP_AFTER_S

    def run(self) -> None:
        db = sqlite3.connect(self.path, isolation_level=None, timeout=10)
        db.execute("PRAGMA busy_timeout=10000")
        try:
            self._loop(db)
        finally:
            db.close()

    def _loop(self, db: sqlite3.Connection) -> None:
        last_renew = 0.0
        while not self._ended.wait(TICK_S):
            now = time.monotonic()
            try:
                if now - last_renew >= RENEW_S:
                    if not self._renew(db):
                        self._lose()
                        return
                    last_renew = now
                if self._stop_since is None and self._cancel_in_journal(db):
                    self.stop_asked()
            except sqlite3.Error:
                continue  # busy past the timeout: the next tick tries again
            if _hard_stop and self._overdue(now):
                self._hard_stop(db)

    def _renew(self, db: sqlite3.Connection) -> bool:
        now = time.time()
        db.execute("BEGIN IMMEDIATE")
        try:
            renewed = db.execute(
                "UPDATE leases SET renewed_at=? WHERE run_id=? AND token=? AND released_at IS NULL",
                (now, self.run_id, self.token),
            ).rowcount
            if renewed:  # the heartbeat views and older fanflows read
                db.execute(
                    "UPDATE runs SET heartbeat_at=?, pid=? WHERE id=?",
                    (now, os.getpid(), self.run_id),
                )
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise
        return bool(renewed)

    def _cancel_in_journal(self, db: sqlite3.Connection) -> bool:
        row = db.execute(
            "SELECT cancel_requested_at FROM runs WHERE id=?", (self.run_id,)
        ).fetchone()
        return bool(row and row[0])

    def _lose(self) -> None:
        """Someone else owns the run now: stop, and (CLI) end the process if the loop cannot."""
        self.lost = True
        self.end()
        if self.on_lost is not None:
            self.on_lost()
        if _hard_stop:  # the CLI is done within the grace period if its loop took the cancel
            time.sleep(HARD_STOP_AFTER_S)
            _kill_children()
            os._exit(1)

    def _hard_stop(self, db: sqlite3.Connection) -> None:
        """The loop did not stop the run in time: journal `cancelled` here, then end it all."""
        _kill_children()  # a declared command in flight must not go on writing
        now = time.time()
        with contextlib.suppress(sqlite3.Error):
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT token FROM leases WHERE run_id=?", (self.run_id,)).fetchone()
            if row is not None and row[0] == self.token:
                for sql, params in self.take_pending() if self.take_pending else ():
                    with contextlib.suppress(sqlite3.Error):  # e.g. the agent the loop stalled in
                        db.execute(sql, params)
                db.execute(
                    "UPDATE agents SET status='cancelled', ended_at=? "
                    "WHERE run_id=? AND status IN ('pending', 'running')",
                    (now, self.run_id),
                )
                db.execute(
                    "UPDATE runs SET status='cancelled', ended_at=?, error=? "
                    "WHERE id=? AND status IN ('pending', 'running')",
                    (
                        now,
                        f"cancelled; the run did not stop within {HARD_STOP_AFTER_S:g}s "
                        "(its event loop was busy), so its process was ended",
                        self.run_id,
                    ),
                )
                db.execute("UPDATE leases SET released_at=? WHERE run_id=?", (now, self.run_id))
            db.execute("COMMIT")
        with contextlib.suppress(Exception):
            os.write(2, f"fanflow: run {self.run_id} cancelled (forced)\n".encode())
        os._exit(130)


def _kill_children() -> None:
    """SIGKILL every descendant of this process (declared commands, the sandbox worker)."""
    parents: dict[int, int] = {}
    with contextlib.suppress(OSError):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as stat:
                    fields = stat.read().rsplit(b")", 1)[1].split()
                parents[int(entry)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    mine, todo = set(), [os.getpid()]
    while todo:
        parent = todo.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in mine:
                mine.add(pid)
                todo.append(pid)
    for pid in mine:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
