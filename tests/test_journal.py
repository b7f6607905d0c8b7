"""The journal: pinned schema, idempotent migrations, rows written as the run goes."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from helpers import Probe, journal_run, run

from fanflow import ConfigError
from fanflow._journal import MIGRATIONS, Journal

PINNED_COLUMNS = {
    "runs": [
        "id",
        "created_at",
        "started_at",
        "ended_at",
        "status",
        "script",
        "script_hash",
        "script_path",
        "workflow_name",
        "workspace",
        "args_json",
        "settings_json",
        "result_json",
        "error",
        "pid",
        "heartbeat_at",
        "attempt",
        "cancel_requested_at",
    ],
    "phases": ["run_id", "idx", "name", "started_at"],
    "agents": [
        "run_id",
        "id",
        "phase",
        "seq_in_phase",
        "agent_type",
        "label",
        "model",
        "tools_json",
        "prompt",
        "prompt_hash",
        "identity",
        "status",
        "result_json",
        "error",
        "attempts",
        "turns",
        "created_at",
        "started_at",
        "ended_at",
    ],
    "usage": [
        "id",
        "run_id",
        "agent_id",
        "phase",
        "model",
        "input_tokens",
        "output_tokens",
        "cache_read_input_tokens",
        "cache_creation_input_tokens",
        "cost_usd",
        "at",
    ],
    "events": ["id", "run_id", "at", "kind", "phase", "agent_id", "message"],
    "schema_migrations": ["name", "applied_at"],
    "tool_calls": [
        "run_id",
        "seq",
        "name",
        "args_hash",
        "result_json",
        "error_kind",
        "error",
        "at",
    ],
    "file_state": ["run_id", "path", "sha256"],
    "approvals": ["workspace", "script_hash", "approved_at"],
}


def test_schema_is_pinned(tmp_path):
    journal = Journal(tmp_path / "j.db")
    for table, columns in PINNED_COLUMNS.items():
        found = [r[1] for r in journal.db.execute(f"PRAGMA table_info({table})")]
        assert found == columns, table


def test_migrations_run_once_and_are_recorded(tmp_path):
    Journal(tmp_path / "j.db").close()
    journal = Journal(tmp_path / "j.db")
    names = [r[0] for r in journal.db.execute("SELECT name FROM schema_migrations")]
    assert names == [name for name, _ in MIGRATIONS]


def test_wal_mode_so_other_processes_can_read(tmp_path):
    journal = Journal(tmp_path / "j.db")
    assert journal.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_damaged_journal_is_a_clear_config_error(tmp_path):
    path = tmp_path / "j.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ConfigError, match="move it aside or set FANFLOW_HOME"):
        Journal(path)


async def test_every_agent_and_usage_row_is_journaled():
    probe = Probe(reply={"x": 1})
    journal = Journal()
    script = (
        'phase("a")\nawait gather([spawn("general", f"u{i}") for i in range(7)])\n'
        'phase("b")\nawait spawn("reviewer", "check")'
    )
    report = await run(script, model=probe, journal=journal)
    agents = journal.agents(report["run_id"])
    assert len(agents) == 8
    assert {a["status"] for a in agents} == {"succeeded"}
    assert [a["phase"] for a in agents] == ["a"] * 7 + ["b"]
    assert [a["seq_in_phase"] for a in agents] == [*range(7), 0]
    assert all(a["result_json"] == '{"x": 1}' for a in agents)
    usage = journal.usage_rows(report["run_id"])
    assert len(usage) == probe.calls == 8
    assert sum(u["input_tokens"] for u in usage) == report["usage"]["input_tokens"] > 0
    run_row = journal.get_run(report["run_id"])
    assert run_row["status"] == "succeeded" and run_row["script"] == script
    assert [p["name"] for p in report["phases"]] == ["a", "b"]


async def test_journal_is_written_while_the_run_goes():
    gate = asyncio.Event()
    seen: list[int] = []
    journal = Journal()

    async def model(req):
        if "last" in req.messages[-1].text:
            run_id = journal.list_runs(1)[0]["id"]
            # a second connection, as `fanflow show` in another terminal would open
            other = sqlite3.connect(journal.path)
            seen.append(
                other.execute(
                    "SELECT COUNT(*) FROM agents WHERE run_id=? AND status='succeeded'", (run_id,)
                ).fetchone()[0]
            )
            other.close()
            gate.set()
        return "{}"

    script = (
        'for i in range(5):\n    await spawn("general", f"u{i}")\nawait spawn("general", "last")'
    )
    await run(script, model=model, journal=journal)
    assert seen == [5]


def test_get_run_last_and_prefix_and_unknown(tmp_path):
    journal = Journal(tmp_path / "j.db")
    with pytest.raises(ConfigError, match="no runs yet"):
        journal.get_run("last")
    journal_run(journal, "20260101-000000-aaaa", script="1", workspace="/w")
    assert journal.get_run("last")["id"] == "20260101-000000-aaaa"
    assert journal.get_run("20260101-000000-a")["id"] == "20260101-000000-aaaa"
    with pytest.raises(ConfigError, match="is not a run id"):
        journal.get_run("nope")


async def test_closing_with_a_batch_pending_leaves_no_stray_commit(tmp_path):
    errors = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    journal = Journal(tmp_path / "j.db")
    journal_run(journal, "r", script="1", workspace="/w")
    journal.event("r", "log", "batched, not yet committed")
    journal.close()
    await asyncio.sleep(0.1)  # past the flush delay
    assert errors == []
    assert [e["message"] for e in Journal(tmp_path / "j.db").events("r")] == [
        "batched, not yet committed"
    ]
