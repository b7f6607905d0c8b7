"""Journal records for a run's life across processes: heartbeat, cancel, resume.

A run's process writes a heartbeat every second; a run still marked running
whose heartbeat is stale, or whose process is gone, is `interrupted`. Resume
needs what the run already did: script tool calls (replayed, not redone) and
the state of every file the run read or wrote (to refuse resuming on a
workspace that changed underneath it).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any

from ._encode import Exact, loads, stored_json
from ._lease import LEASE_S, holder_alive

STALE_AFTER_S = LEASE_S


def result_sha(result: Any) -> str:
    """A fingerprint of a tool result as the caller got it, before any redaction."""
    text = json.dumps(result, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


LIVE = ("pending", "running")


def effective_status(run: dict[str, Any]) -> str:
    """The stored status, or `interrupted` when a live-looking run has no live owner.

    Derived from the lease alone (renewed by a thread, not by the event loop), so a
    run whose loop is stalled is still `running`: it is alive, and it owns its run.
    A run without a lease row (never started, or journaled by an older fanflow)
    is judged by its heartbeat the same way.
    """
    if run["status"] not in LIVE:
        return run["status"]
    if run.get("lease_renewed_at") is not None:
        if run.get("lease_released_at") is not None:
            return "interrupted"  # released without an end: its owner gave it up
        alive = holder_alive(run.get("lease_host"), run.get("lease_pid"), run["lease_renewed_at"])
    else:
        beat = run.get("heartbeat_at") or run.get("created_at") or 0.0
        alive = holder_alive(None, run.get("pid"), beat)
    return run["status"] if alive else "interrupted"


class LifecycleRecords:
    """Mixed into `Journal`: the writes and reads resume, cancel and watch rely on."""

    db: Any
    _conn: Any

    _run_hint: str | None

    def _write(self, sql: str, params: tuple = (), *, flush: bool = False) -> int: ...

    def acquire_lease(self, run_id: str) -> int: ...

    def heartbeat(self, run_id: str) -> None:
        self._write(  # flushed: at least once a second, whatever is batched goes out
            "UPDATE runs SET heartbeat_at=?, pid=? WHERE id=?",
            (time.time(), os.getpid(), Exact(run_id)),
            flush=True,
        )

    def request_cancel(self, run_id: str) -> None:
        self._write(
            "UPDATE runs SET cancel_requested_at=? WHERE id=?",
            (time.time(), Exact(run_id)),
            flush=True,
        )

    def cancel_requested(self, run_id: str) -> bool:
        row = self.db.execute(
            "SELECT cancel_requested_at FROM runs WHERE id=?", (run_id,)
        ).fetchone()
        return bool(row and row[0])

    def restart_run(self, run_id: str) -> None:
        """Take the run's lease (`LeaseHeld` if a live process owns it), then mark it
        running again for a resume (a new attempt, same id)."""
        self._run_hint = run_id
        self.acquire_lease(run_id)
        now = time.time()
        self._write(
            "UPDATE runs SET status='running', attempt=attempt+1, ended_at=NULL, error=NULL,"
            " cancel_requested_at=NULL, pid=?, heartbeat_at=? WHERE id=?",
            (os.getpid(), now, Exact(run_id)),
            flush=True,
        )

    def update_settings(self, run_id: str, **changes: Any) -> None:
        row = self.db.execute("SELECT settings_json FROM runs WHERE id=?", (run_id,)).fetchone()
        settings = {**(loads(row[0]) or {}), **changes}
        self._write(
            "UPDATE runs SET settings_json=? WHERE id=?",
            (stored_json(settings), Exact(run_id)),
            flush=True,
        )

    def approve_always(self, workspace: str, script_hash: str) -> None:
        self._write(
            "INSERT OR REPLACE INTO approvals VALUES (?, ?, ?)",
            (Exact(workspace), Exact(script_hash), time.time()),
            flush=True,
        )

    def approved_always(self, workspace: str, script_hash: str) -> bool:
        return (
            self.db.execute(
                "SELECT 1 FROM approvals WHERE workspace=? AND script_hash=?",
                (workspace, script_hash),
            ).fetchone()
            is not None
        )

    def reopen_agent(self, run_id: str, agent_id: int) -> None:
        self._write(
            "UPDATE agents SET status='pending', error=NULL, ended_at=NULL WHERE run_id=? AND id=?",
            (Exact(run_id), agent_id),
        )

    def record_tool_intent(self, run_id: str, seq: int, name: str, args_hash: str) -> None:
        """Before a side effect: the call began. Committed now, so a crash before its
        result is told apart from a call that never started."""
        self._write(
            "INSERT OR REPLACE INTO tool_calls VALUES (?, ?, ?, ?, NULL, NULL, NULL, ?)",
            (Exact(run_id), seq, Exact(name), Exact(args_hash), time.time()),
        )
        self._write(
            "INSERT OR REPLACE INTO tool_call_states VALUES (?, ?, 'started', 1, NULL)",
            (Exact(run_id), seq),
            flush=True,
        )

    def record_tool_call(
        self,
        run_id: str,
        seq: int,
        name: str,
        args_hash: str,
        result: Any,
        error_kind: str | None = None,
        error: str | None = None,
        *,
        flush: bool = False,
    ) -> None:
        """A finished call. The stored result is redacted; `exact` says whether that
        changed it, and `result_sha` fingerprints what the caller really got."""
        stored = stored_json(result)
        exact = error_kind is not None or loads(stored) == result
        self._write(
            "INSERT OR REPLACE INTO tool_calls VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                Exact(run_id),
                seq,
                Exact(name),  # a tool name the bridge checked
                Exact(args_hash),
                stored,
                error_kind,
                error,
                time.time(),
            ),
        )
        self._write(
            "INSERT OR REPLACE INTO tool_call_states VALUES (?, ?, 'done', ?, ?)",
            (Exact(run_id), seq, int(exact), Exact(result_sha(result))),
            flush=flush,
        )

    def tool_calls(self, run_id: str) -> list[dict[str, Any]]:
        """Every script tool call, with `state` (`started` | `done`), `exact`, `result_sha`
        (calls journaled before these existed count as done and exact)."""
        return [
            dict(r)
            for r in self.db.execute(
                "SELECT c.*, COALESCE(s.state, 'done') AS state, COALESCE(s.exact, 1) AS exact,"
                " s.result_sha FROM tool_calls c LEFT JOIN tool_call_states s"
                " ON s.run_id = c.run_id AND s.seq = c.seq WHERE c.run_id=? ORDER BY c.seq",
                (run_id,),
            )
        ]

    def agent_effects(self, run_id: str, agent_id: int) -> list[dict[str, Any]]:
        # read without flushing the batch (once per agent start): effect rows are
        # committed as they are written, so nothing queued can be among them
        return [
            dict(r)
            for r in self._conn.execute(
                "SELECT * FROM agent_effects WHERE run_id=? AND agent_id=? ORDER BY seq",
                (run_id, agent_id),
            )
        ]

    def agent_effect_started(
        self, run_id: str, agent_id: int, seq: int, name: str, args_hash: str, *, drop: bool
    ) -> None:
        """Before an agent's side effect; with `drop`, the earlier attempt's effects from
        here on are forgotten (this attempt went another way)."""
        if drop:
            self._write(
                "DELETE FROM agent_effects WHERE run_id=? AND agent_id=? AND seq>=?",
                (Exact(run_id), agent_id, seq),
            )
        self._write(
            "INSERT OR REPLACE INTO agent_effects VALUES (?, ?, ?, ?, ?, 'started', NULL, 0, 1,"
            " NULL, ?)",
            (Exact(run_id), agent_id, seq, Exact(name), Exact(args_hash), time.time()),
            flush=True,
        )

    def agent_effect_done(
        self, run_id: str, agent_id: int, seq: int, content: str, is_error: bool
    ) -> None:
        stored = stored_json(content)
        self._write(
            "UPDATE agent_effects SET state='done', result=?, is_error=?, exact=?, result_sha=?"
            " WHERE run_id=? AND agent_id=? AND seq=?",
            (
                stored,
                int(is_error),
                int(loads(stored) == content),
                Exact(result_sha(content)),
                Exact(run_id),
                agent_id,
                seq,
            ),
            flush=True,
        )

    def set_file_state(self, run_id: str, path: str, sha256: str) -> None:
        self._write(
            "INSERT OR REPLACE INTO file_state VALUES (?, ?, ?)",
            (Exact(run_id), path, Exact(sha256)),
        )

    def file_states(self, run_id: str) -> dict[str, str]:
        return dict(
            self.db.execute(
                "SELECT path, sha256 FROM file_state WHERE run_id=?", (run_id,)
            ).fetchall()
        )
