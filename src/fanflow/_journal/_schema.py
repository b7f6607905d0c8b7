"""The journal's schema, as named migrations applied in order, once each.

A migration is never edited after it ships; a change is a new entry at the
end of `MIGRATIONS`. `tests/test_journal.py` pins the resulting columns.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

Migration = tuple[str, Callable[[sqlite3.Connection], None]]


class TooNew(Exception):
    """The journal records migrations this fanflow does not have."""

    def __init__(self, theirs: int, ours: int) -> None:
        super().__init__(f"schema version {theirs} > {ours}")
        self.theirs, self.ours = theirs, ours


def _number(name: str) -> int:
    """The version a migration's name starts with (`004_x` is 4)."""
    digits = name.split("_", 1)[0]
    return int(digits) if digits.isdigit() else 0


def _execute_all(db: sqlite3.Connection, script: str) -> None:
    # executescript() would COMMIT first and break the migration's transaction
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def _m001_initial(db: sqlite3.Connection) -> None:
    _execute_all(
        db,
        """
        CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            created_at REAL NOT NULL,
            started_at REAL,
            ended_at REAL,
            status TEXT NOT NULL,
            script TEXT NOT NULL,
            script_hash TEXT NOT NULL,
            script_path TEXT,
            workflow_name TEXT,
            workspace TEXT NOT NULL,
            args_json TEXT NOT NULL DEFAULT '{}',
            settings_json TEXT NOT NULL DEFAULT '{}',
            result_json TEXT,
            error TEXT,
            pid INTEGER,
            heartbeat_at REAL
        );
        CREATE TABLE phases (
            run_id TEXT NOT NULL REFERENCES runs(id),
            idx INTEGER NOT NULL,
            name TEXT NOT NULL,
            started_at REAL NOT NULL,
            PRIMARY KEY (run_id, name)
        );
        CREATE TABLE agents (
            run_id TEXT NOT NULL REFERENCES runs(id),
            id INTEGER NOT NULL,
            phase TEXT NOT NULL,
            seq_in_phase INTEGER NOT NULL,
            agent_type TEXT NOT NULL,
            label TEXT,
            model TEXT NOT NULL,
            tools_json TEXT NOT NULL,
            prompt TEXT NOT NULL,
            prompt_hash TEXT NOT NULL,
            identity TEXT NOT NULL,
            status TEXT NOT NULL,
            result_json TEXT,
            error TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            turns INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            started_at REAL,
            ended_at REAL,
            PRIMARY KEY (run_id, id)
        );
        CREATE INDEX agents_by_status ON agents(run_id, status);
        CREATE INDEX agents_by_identity ON agents(run_id, identity);
        CREATE TABLE usage (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id TEXT NOT NULL REFERENCES runs(id),
            agent_id INTEGER,
            phase TEXT NOT NULL,
            model TEXT NOT NULL,
            input_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            cache_read_input_tokens INTEGER NOT NULL,
            cache_creation_input_tokens INTEGER NOT NULL,
            cost_usd REAL,
            at REAL NOT NULL
        );
        CREATE INDEX usage_by_run ON usage(run_id, phase);
        CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id TEXT NOT NULL REFERENCES runs(id),
            at REAL NOT NULL,
            kind TEXT NOT NULL,
            phase TEXT,
            agent_id INTEGER,
            message TEXT NOT NULL
        );
        CREATE INDEX events_by_run ON events(run_id, id);
        """,
    )


def _m002_resume(db: sqlite3.Connection) -> None:
    """What resume and cancel need: replayable script tool calls, file states, requests."""
    _execute_all(
        db,
        """
        ALTER TABLE runs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE runs ADD COLUMN cancel_requested_at REAL;
        CREATE TABLE tool_calls (
            run_id TEXT NOT NULL REFERENCES runs(id),
            seq INTEGER NOT NULL,
            name TEXT NOT NULL,
            args_hash TEXT NOT NULL,
            result_json TEXT,
            error_kind TEXT,
            error TEXT,
            at REAL NOT NULL,
            PRIMARY KEY (run_id, seq)
        );
        CREATE TABLE file_state (
            run_id TEXT NOT NULL REFERENCES runs(id),
            path TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            PRIMARY KEY (run_id, path)
        )
        """,
    )


def _m003_approvals(db: sqlite3.Connection) -> None:
    """Scripts approved with Always, per workspace and script hash."""
    db.execute(
        "CREATE TABLE approvals (workspace TEXT NOT NULL, script_hash TEXT NOT NULL,"
        " approved_at REAL NOT NULL, PRIMARY KEY (workspace, script_hash))"
    )


def _m004_run_leases(db: sqlite3.Connection) -> None:
    """A run's owner (lease and fencing token) and how far each script tool call got.

    New tables, not new columns: `runs` and `tool_calls` stay as pinned.
    `tool_call_states`: `started` is journaled before a side effect and `done`
    after, so a crash in between is told apart from a call that never began;
    `exact` says the stored result is what the script saw (nothing redacted),
    `result_sha` fingerprints what it saw when it is not. `agent_effects`: the
    same for an agent's side-effect tool calls, in the order of its latest
    attempt, so a re-run agent does not redo what its earlier attempt did.
    """
    _execute_all(
        db,
        """
        CREATE TABLE leases (
            run_id TEXT PRIMARY KEY REFERENCES runs(id),
            token INTEGER NOT NULL,
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            acquired_at REAL NOT NULL,
            renewed_at REAL NOT NULL,
            released_at REAL
        );
        CREATE TABLE tool_call_states (
            run_id TEXT NOT NULL REFERENCES runs(id),
            seq INTEGER NOT NULL,
            state TEXT NOT NULL,
            exact INTEGER NOT NULL DEFAULT 1,
            result_sha TEXT,
            PRIMARY KEY (run_id, seq)
        );
        CREATE TABLE agent_effects (
            run_id TEXT NOT NULL REFERENCES runs(id),
            agent_id INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            name TEXT NOT NULL,
            args_hash TEXT NOT NULL,
            state TEXT NOT NULL,
            result TEXT,
            is_error INTEGER NOT NULL DEFAULT 0,
            exact INTEGER NOT NULL DEFAULT 1,
            result_sha TEXT,
            at REAL NOT NULL,
            PRIMARY KEY (run_id, agent_id, seq)
        )
        """,
    )


MIGRATIONS: list[Migration] = [
    ("001_initial", _m001_initial),
    ("002_resume", _m002_resume),
    ("003_approvals", _m003_approvals),
    ("004_run_leases", _m004_run_leases),
]


SCHEMA_VERSION = len(MIGRATIONS)
"""The journal schema this fanflow writes: the number of migrations it knows."""


def migrate(db: sqlite3.Connection) -> list[str]:
    """Apply every migration not yet recorded; returns the names applied now.

    A journal holding a migration this fanflow does not know was written by a
    newer one: its tables may have columns we would leave unset, so it is
    refused at open, before anything is written.
    """
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at REAL)"
    )
    done = {row[0] for row in db.execute("SELECT name FROM schema_migrations")}
    unknown = done - {name for name, _ in MIGRATIONS}
    if unknown:
        raise TooNew(max(SCHEMA_VERSION + 1, *(_number(n) for n in unknown)), SCHEMA_VERSION)
    applied = []
    for name, apply in MIGRATIONS:
        if name in done:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            apply(db)
            db.execute("INSERT INTO schema_migrations VALUES (?, ?)", (name, time.time()))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied
