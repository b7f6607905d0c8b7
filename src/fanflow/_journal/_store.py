"""The run journal: SQLite in WAL mode, written as the run goes.

It is the only state shared between a run and its views, so another process
(`fanflow show`, `watch`, the web view) can read while a run writes. Every
write goes through `_write`, which passes each parameter through
`_encode.sql_param`: text is redacted there, JSON comes from `stored_json`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import threading
import time
import weakref
from pathlib import Path
from typing import Any

from .._errors import ConfigError
from .._models._base import TOKEN_FIELDS
from ._encode import Exact, Stored, sql_params, stored_json
from ._files import create_private, make_private
from ._full import JournalFull, JournalTooNew, disk_guard
from ._lease import LeaseLost, Renewer, acquire, check_token
from ._lifecycle import LifecycleRecords
from ._schema import TooNew, migrate

FLUSH_S = 0.05
_OPEN: weakref.WeakSet[Journal] = weakref.WeakSet()


def close_all() -> None:
    """Commit and close every open journal (the CLI exits without finalization)."""
    for journal in list(_OPEN):
        # a lost lease or full disk was already said by the command; exiting must not trace
        with contextlib.suppress(sqlite3.Error, JournalFull, LeaseLost):
            journal.close()


FINISHED = ("succeeded", "partial", "failed", "budget_exceeded", "cancelled", "refused")


_RUN_COLUMNS = (
    "r.*, l.host AS lease_host, l.pid AS lease_pid, l.renewed_at AS lease_renewed_at,"
    " l.released_at AS lease_released_at FROM runs r LEFT JOIN leases l ON l.run_id = r.id"
)
"""A run's row with its lease: who owns it, and whether it is `interrupted`."""


def default_home() -> Path:
    return Path(os.environ.get("FANFLOW_HOME") or Path.home() / ".fanflow").expanduser()


def _dumps(value: Any) -> Stored:
    """JSON for the journal, secrets redacted value by value (see `_encode`)."""
    return stored_json(value)


class Journal(LifecycleRecords):
    """One connection to `$FANFLOW_HOME/fanflow.db` (or `path`)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path else default_home() / "fanflow.db"
        try:
            fresh = not self.path.parent.exists()
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if fresh:  # prompts and results are private: only the owner reads the journal
                os.chmod(self.path.parent, 0o700)
        except OSError as exc:
            raise ConfigError(
                f"cannot create {self.path.parent}: {exc}; set FANFLOW_HOME"
            ) from None
        self._flush: asyncio.TimerHandle | None = None
        self._pending: list[tuple[str, tuple]] = []
        self._pending_lock = threading.Lock()
        """The lease thread may take the batch when it stops the run by force."""
        """Writes queued for the next batch, parameters already redacted."""
        self._broken: JournalFull | LeaseLost | None = None
        """Set when a batched commit found the disk full or the lease lost: every
        later write says so."""
        self._lease: tuple[str, int] | None = None
        """(run id, fencing token) while this journal owns a run."""
        self._renewer: Renewer | None = None
        self._run_hint: str | None = None
        """The run last written, named in the disk-full line's `fanflow resume RUN`."""
        on_disk = str(self.path) != ":memory:"
        if on_disk:  # created 0600 before SQLite opens it: its WAL and SHM copy that mode
            create_private(self.path)
        self.db = self._open()
        if on_disk:  # and a journal an older fanflow left 0644 is closed up now
            make_private(self.path)
        _OPEN.add(self)

    def _open(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(
                self.path, isolation_level=None, timeout=10, check_same_thread=False
            )
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=10000")
            migrate(db)
        except TooNew as exc:
            db.close()
            raise JournalTooNew(self.path, exc.theirs, exc.ours) from None
        except sqlite3.DatabaseError as exc:
            raise ConfigError(
                f"journal {self.path} cannot be used ({exc}); move it aside or set FANFLOW_HOME"
            ) from None
        return db

    def close(self) -> None:
        """Commit, then close; the last connection to close checkpoints the WAL."""
        try:
            self.commit()
        finally:
            self._end_lease()
            self._conn.close()
            _OPEN.discard(self)

    @property
    def db(self) -> sqlite3.Connection:
        """The connection, for reads: what this process wrote is committed first, so a
        read sees it (and no transaction is ever left open while the caller goes on)."""
        if self._pending:
            self.commit()
        return self._conn

    @db.setter
    def db(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def _write(self, sql: str, params: tuple = (), *, flush: bool = False) -> int:
        """Queue a write; it is committed within FLUSH_S, or now when `flush` (then the
        statement's row count is returned).

        Batching keeps a commit per agent event off the event loop's hot path; a
        crash loses at most the last FLUSH_S of records (resume redoes those
        agents), and other processes see writes that much later. The batch is
        held in memory and written in one short transaction at flush time, never
        as an open transaction across the loop's other work: a stalled loop then
        holds no lock, and other fanflow commands never meet "database is locked".
        """
        if self._broken is not None:
            raise self._broken
        self._queue(sql, sql_params(params))
        if flush:
            return self._flush_now()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return self._flush_now()
        if self._flush is None:
            self._flush = loop.call_later(FLUSH_S, self._batch_commit)
        return 0

    def _queue(self, sql: str, params: tuple) -> None:
        with self._pending_lock:
            self._pending.append((sql, params))

    def take_pending(self) -> list[tuple[str, tuple]]:
        """The queued statements, now no longer queued (each is written once, by one taker)."""
        with self._pending_lock:
            batch, self._pending = self._pending, []
        return batch

    def _flush_now(self) -> int:
        """Write the queued statements in one transaction; the last one's row count.

        While this journal holds a run's lease, the transaction first checks the
        fencing token (`_lease.check_token`): a stale owner's batch is refused whole.
        """
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        if self._broken is not None:
            raise self._broken
        batch = self.take_pending()
        if not batch:
            return 0
        rows = 0
        db = self._conn
        with disk_guard(self.path, self._run_hint):
            if not db.in_transaction:
                db.execute("BEGIN IMMEDIATE")
            try:
                if self._lease is not None:
                    check_token(db, *self._lease)
                for sql, params in batch:
                    rows = db.execute(sql, params).rowcount
                db.execute("COMMIT")
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
                if isinstance(exc, LeaseLost):
                    self._broken = exc  # every later write of this process is refused too
                    self._end_lease()
                raise
        return rows

    def _batch_commit(self) -> None:
        # a timer callback: an exception here would only be logged by the loop, so a
        # full disk or a lost lease is kept and raised by the next write (and commit)
        self._flush = None
        try:
            self.commit()
        except (JournalFull, LeaseLost) as exc:
            self._broken = exc

    def commit(self) -> None:
        if self._flush is not None:  # a commit now makes the scheduled one moot
            self._flush.cancel()
            self._flush = None
        if self._broken is not None:
            raise self._broken
        if self._pending:
            self._flush_now()
        if self._conn.in_transaction:  # one a caller opened on the connection itself
            with disk_guard(self.path, self._run_hint):
                self._conn.execute("COMMIT")

    # the run's lease ---------------------------------------------------------
    def acquire_lease(self, run_id: str) -> int:
        """Own `run_id` from now on (`LeaseHeld` if a live process does); the token."""
        self.commit()
        self._end_lease()
        token = acquire(self._conn, run_id)
        self._lease = (run_id, token)
        if str(self.path) != ":memory:":  # another connection would see another database
            self._renewer = Renewer(self.path, run_id, token, take_pending=self.take_pending)
            self._renewer.start()
        return token

    def lease_lost(self) -> bool:
        return self._renewer is not None and self._renewer.lost

    def _release_lease(self, run_id: str) -> None:
        """Queue the release with the run's last write (so it is fenced like it)."""
        if self._lease is not None and self._lease[0] == run_id:
            self._queue(
                "UPDATE leases SET released_at=? WHERE run_id=? AND token=?",
                (time.time(), run_id, self._lease[1]),
            )

    def _end_lease(self) -> None:
        if self._renewer is not None:
            self._renewer.end()
        self._renewer, self._lease = None, None

    # runs -----------------------------------------------------------------
    def create_run(
        self,
        run_id: str,
        *,
        script: str,
        script_hash: str,
        script_path: str | None,
        workflow_name: str | None,
        workspace: str,
        args: dict[str, str],
        settings: dict[str, Any],
        pid: int | None = None,
    ) -> None:
        self._run_hint = run_id
        self._write(
            "INSERT INTO runs (id, created_at, status, script, script_hash, script_path, "
            "workflow_name, workspace, args_json, settings_json, pid) "
            "VALUES (?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                Exact(run_id),
                time.time(),
                Exact(script),  # verbatim: resume re-runs it and checks its hash
                Exact(script_hash),
                script_path,
                workflow_name,
                Exact(workspace),  # resume and save find the workspace by it
                _dumps(args),
                _dumps(settings),
                pid,
            ),
            flush=True,
        )

    def start_run(self, run_id: str) -> None:
        self._run_hint = run_id
        self.acquire_lease(run_id)
        now = time.time()
        self._write(
            "UPDATE runs SET status='running', started_at=?, heartbeat_at=?, pid=? WHERE id=?",
            (now, now, os.getpid(), Exact(run_id)),
            flush=True,
        )

    def finish_run(
        self, run_id: str, status: str, *, result: Any = None, error: str | None = None
    ) -> None:
        if self._broken is not None:
            raise self._broken
        self._queue(
            "UPDATE runs SET status=?, ended_at=?, result_json=?, error=? WHERE id=?",
            sql_params((Exact(status), time.time(), _dumps(result), error, Exact(run_id))),
        )
        self._release_lease(run_id)  # in the same fenced transaction as the end
        self._flush_now()
        if self._lease is not None and self._lease[0] == run_id:
            self._end_lease()

    def get_run(self, ref: str) -> dict[str, Any]:
        if ref == "last":
            row = self.db.execute(
                f"SELECT {_RUN_COLUMNS} ORDER BY r.created_at DESC LIMIT 1"
            ).fetchone()
            if row is None:
                raise ConfigError("no runs yet; start one with: fanflow run SCRIPT")
        else:
            row = self.db.execute(f"SELECT {_RUN_COLUMNS} WHERE r.id=?", (ref,)).fetchone()
            if row is None:
                row = self._unique_prefix(ref)
        return dict(row)

    def _unique_prefix(self, ref: str) -> sqlite3.Row:
        rows = self.db.execute(
            f"SELECT {_RUN_COLUMNS} WHERE r.id LIKE ? LIMIT 2", (ref.replace("%", "") + "%",)
        ).fetchall()
        if len(rows) == 1:
            return rows[0]
        why = "matches several runs" if rows else "is not a run id"
        raise ConfigError(f"{ref!r} {why}; see the ids with: fanflow ls")

    def list_runs(self, limit: int = 20) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT r.*, l.host AS lease_host, l.pid AS lease_pid,"
            " l.renewed_at AS lease_renewed_at, l.released_at AS lease_released_at,"
            " (SELECT COUNT(*) FROM agents a WHERE a.run_id=r.id) AS n_agents,"
            " (SELECT COUNT(*) FROM agents a WHERE a.run_id=r.id AND a.status='succeeded')"
            "   AS n_ok,"
            " (SELECT COUNT(*) FROM agents a WHERE a.run_id=r.id AND a.status='failed')"
            "   AS n_failed,"
            " (SELECT COALESCE(SUM(input_tokens + output_tokens + cache_read_input_tokens"
            "   + cache_creation_input_tokens), 0) FROM usage u WHERE u.run_id=r.id) AS tokens "
            "FROM runs r LEFT JOIN leases l ON l.run_id = r.id ORDER BY r.created_at DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [dict(r) for r in rows]

    # phases and agents ------------------------------------------------------
    def add_phase(self, run_id: str, idx: int, name: str) -> None:
        self._write(
            "INSERT OR IGNORE INTO phases VALUES (?, ?, ?, ?)",
            (Exact(run_id), idx, name, time.time()),
        )

    def add_agent(
        self,
        run_id: str,
        agent_id: int,
        *,
        phase: str,
        seq_in_phase: int,
        agent_type: str,
        label: str | None,
        model: str,
        tools: list[str],
        prompt: str,
        prompt_hash: str,
        identity: str,
    ) -> None:
        self._write(
            "INSERT INTO agents (run_id, id, phase, seq_in_phase, agent_type, label, model, "
            "tools_json, prompt, prompt_hash, identity, status, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
            (
                Exact(run_id),
                agent_id,
                phase,
                seq_in_phase,
                agent_type,
                label,
                model,
                _dumps(tools),
                prompt,
                Exact(prompt_hash),
                Exact(identity),  # the replay key: a hash, never text from outside
                time.time(),
            ),
        )

    def start_agent(self, run_id: str, agent_id: int) -> None:
        self._write(
            "UPDATE agents SET status='running', started_at=? WHERE run_id=? AND id=?",
            (time.time(), Exact(run_id), agent_id),
        )

    def finish_agent(
        self,
        run_id: str,
        agent_id: int,
        status: str,
        *,
        result: Any = None,
        error: str | None = None,
        attempts: int = 1,
        turns: int = 0,
    ) -> None:
        self._write(
            "UPDATE agents SET status=?, result_json=?, error=?, attempts=?, turns=?, ended_at=? "
            "WHERE run_id=? AND id=?",
            (
                Exact(status),
                _dumps(result) if status == "succeeded" else None,
                error,
                attempts,
                turns,
                time.time(),
                Exact(run_id),
                agent_id,
            ),
            flush=True,  # a finished agent must survive a crash: resume relies on it
        )

    def cancel_unfinished_agents(self, run_id: str) -> None:
        self._write(
            "UPDATE agents SET status='cancelled', ended_at=? WHERE run_id=? AND status='running'",
            (time.time(), Exact(run_id)),
        )

    def add_usage(
        self,
        run_id: str,
        agent_id: int | None,
        phase: str,
        model: str,
        usage: Any,
        cost_usd: float | None,
    ) -> None:
        self._write(
            "INSERT INTO usage (run_id, agent_id, phase, model, input_tokens, output_tokens, "
            "cache_read_input_tokens, cache_creation_input_tokens, cost_usd, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                Exact(run_id),
                agent_id,
                phase,
                model,
                usage.input_tokens,
                usage.output_tokens,
                usage.cache_read_input_tokens,
                usage.cache_creation_input_tokens,
                cost_usd,
                time.time(),
            ),
        )

    def event(
        self,
        run_id: str,
        kind: str,
        message: str,
        *,
        agent_id: int | None = None,
        phase: str | None = None,
    ) -> None:
        self._write(
            "INSERT INTO events (run_id, at, kind, phase, agent_id, message) VALUES (?,?,?,?,?,?)",
            (Exact(run_id), time.time(), Exact(kind), phase, agent_id, message or ""),
        )

    def mark_not_run(self, run_id: str, status: str = "not_run") -> int:
        """Agents that never started end as `status`; returns how many."""
        return self._write(
            "UPDATE agents SET status=?, ended_at=? WHERE run_id=? AND status='pending'",
            (Exact(status), time.time(), Exact(run_id)),
            flush=True,  # the count is needed now
        )

    def events_of_kind(self, run_id: str, kind: str) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self.db.execute(
                "SELECT * FROM events WHERE run_id=? AND kind=? ORDER BY id", (run_id, kind)
            )
        ]

    # reads for reports and views ------------------------------------------------
    def phases(self, run_id: str) -> list[dict[str, Any]]:
        """Per phase, in order: agent counts by status and token totals."""
        phases = [
            dict(r)
            for r in self.db.execute(
                "SELECT name, idx, started_at FROM phases WHERE run_id=? ORDER BY idx", (run_id,)
            )
        ]
        counts: dict[str, dict[str, int]] = {}
        for row in self.db.execute(
            "SELECT phase, status, COUNT(*) AS n FROM agents WHERE run_id=? GROUP BY phase, status",
            (run_id,),
        ):
            counts.setdefault(row["phase"], {})[row["status"]] = row["n"]
        tokens = {
            r["phase"]: dict(r)
            for r in self.db.execute(
                "SELECT phase, SUM(input_tokens) AS input_tokens,"
                " SUM(output_tokens) AS output_tokens,"
                " SUM(cache_read_input_tokens) AS cache_read_input_tokens,"
                " SUM(cache_creation_input_tokens) AS cache_creation_input_tokens"
                " FROM usage WHERE run_id=? GROUP BY phase",
                (run_id,),
            )
        }
        for phase in phases:
            by_status = counts.get(phase["name"], {})
            phase["agents"] = sum(by_status.values())
            for status in ("succeeded", "failed", "running"):
                phase[status] = by_status.get(status, 0)
            used = tokens.get(phase["name"], {})
            for key in TOKEN_FIELDS:
                phase[key] = used.get(key) or 0
        return phases

    def usage_totals(self, run_id: str) -> dict[str, Any]:
        row = self.db.execute(
            "SELECT COALESCE(SUM(input_tokens),0) AS input_tokens,"
            " COALESCE(SUM(output_tokens),0) AS output_tokens,"
            " COALESCE(SUM(cache_read_input_tokens),0) AS cache_read_input_tokens,"
            " COALESCE(SUM(cache_creation_input_tokens),0) AS cache_creation_input_tokens,"
            " COUNT(*) AS calls, SUM(cost_usd IS NULL) AS unpriced, SUM(cost_usd) AS cost_usd "
            "FROM usage WHERE run_id=?",
            (run_id,),
        ).fetchone()
        totals = dict(row)
        if totals.pop("unpriced") or not totals["calls"]:
            totals["cost_usd"] = None  # any unpriced call makes the total unknown, not a guess
        totals.pop("calls")
        return totals

    def agent_counts(self, run_id: str) -> dict[str, int]:
        rows = self.db.execute(
            "SELECT status, COUNT(*) FROM agents WHERE run_id=? GROUP BY status", (run_id,)
        ).fetchall()
        return {status: count for status, count in rows}

    def agent_type_counts(self, run_id: str) -> list[dict[str, Any]]:
        """Agents by (agent_type, status): `{"agent_type", "status", "n"}` rows."""
        return [
            dict(r)
            for r in self.db.execute(
                "SELECT agent_type, status, COUNT(*) AS n FROM agents WHERE run_id=? "
                "GROUP BY agent_type, status",
                (run_id,),
            )
        ]

    def agents(self, run_id: str) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self.db.execute("SELECT * FROM agents WHERE run_id=? ORDER BY id", (run_id,))
        ]

    def failed_agents(self, run_id: str) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self.db.execute(
                "SELECT id, phase, agent_type, label, error FROM agents "
                "WHERE run_id=? AND status='failed' ORDER BY id",
                (run_id,),
            )
        ]

    def events(self, run_id: str, after_id: int = 0, limit: int = 200) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self.db.execute(
                "SELECT * FROM events WHERE run_id=? AND id>? ORDER BY id LIMIT ?",
                (run_id, after_id, limit),
            )
        ]

    def recent_events(self, run_id: str, limit: int) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT * FROM events WHERE run_id=? AND kind != 'print' ORDER BY id DESC LIMIT ?",
            (run_id, limit),
        ).fetchall()
        return [dict(r) for r in reversed(rows)]

    def usage_rows(self, run_id: str) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self.db.execute("SELECT * FROM usage WHERE run_id=? ORDER BY id", (run_id,))
        ]
