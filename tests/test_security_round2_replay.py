"""Issue 14, class 7: a resumed script sees what the first attempt saw and never
repeats a finished side effect.

The journal stores tool results redacted, so a replayed `tools.read` used to
hand the script `[redacted]`, and a script that wrote back what it read wrote
`[redacted]` into the user's file (and, its arguments now differing, the
write and every command after ran again). Each test fails its first attempt
on purpose (the model is down), then resumes the run in this process.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest
from helpers import run

from fanflow import FunctionModel
from fanflow._journal import Journal
from fanflow._resume import prepare_resume
from fanflow._script import Sandbox

SECRET = "s3cr3t-value-abcdef-1234"


@pytest.fixture(autouse=True)
def _secret(monkeypatch):
    monkeypatch.setenv("FF_REPLAY_API_KEY", SECRET)


class Flaky:
    """A model that is down for the first attempt, then answers `"ok"`."""

    def __init__(self) -> None:
        self.down, self.calls = True, 0

    async def __call__(self, req) -> str:
        self.calls += 1
        if self.down:
            raise RuntimeError("provider down")
        return json.dumps("ok")


def _journal_bytes(path: Path) -> bytes:
    wal = Path(str(path) + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


async def _fail_then_resume(script: str, ws: Path, *, between=None) -> tuple[dict, Journal]:
    journal, model = Journal(), Flaky()
    first = await run(script, model=model, workspace=str(ws), journal=journal)
    assert first["status"] == "failed", first
    assert SECRET.encode() not in _journal_bytes(journal.path)  # the journal holds no secret
    if between is not None:
        between()
    model.down = False
    resumed = prepare_resume(journal, first["run_id"], {"fake": FunctionModel(model, name="fake")})
    async with Sandbox() as sandbox:
        report = await resumed.execute(sandbox)
    return report, journal


def _config(ws: Path) -> None:
    (ws / ".fanflow").mkdir(exist_ok=True)
    (ws / ".fanflow" / "config.toml").write_text(
        "[commands]\nmark = \"sh -c 'echo ran >> marks.txt' mark\"\n"
    )


async def test_a_read_written_back_keeps_the_secret_not_the_redaction(tmp_path):
    (tmp_path / "cfg.txt").write_text(f"token={SECRET}\n")
    script = (
        "t = await tools.read('cfg.txt')\n"
        "await tools.write('cfg.txt', t + 'more\\n')\n"
        "await spawn('general', 'x')\n"
    )
    report, _ = await _fail_then_resume(script, tmp_path)
    assert report["status"] == "succeeded", report["errors"]
    # exactly the first attempt's write: the secret kept, the write not done twice
    assert (tmp_path / "cfg.txt").read_text() == f"token={SECRET}\nmore\n"


async def test_a_read_copied_elsewhere_and_a_command_on_it_run_once(tmp_path):
    _config(tmp_path)
    (tmp_path / "a.txt").write_text(f"{SECRET} and {SECRET}\n")
    script = (
        "t = await tools.read('a.txt')\n"
        "await tools.write('b.txt', t)\n"
        "await tools.run('mark', t)\n"
        "await spawn('general', 'x')\n"
    )
    report, _ = await _fail_then_resume(script, tmp_path)
    assert report["status"] == "succeeded", report["errors"]
    assert (tmp_path / "b.txt").read_text() == f"{SECRET} and {SECRET}\n"
    assert (tmp_path / "marks.txt").read_text() == "ran\n"


async def test_grep_and_glob_results_holding_a_secret_replay_exactly(tmp_path):
    (tmp_path / "keys.txt").write_text(f"key {SECRET}\nkey {SECRET}!\n")
    script = (
        "hits = await tools.grep('key')\n"
        "names = await tools.glob('*.txt')\n"
        "await tools.write('seen.txt', str(hits) + str(names))\n"
        "await spawn('general', 'x')\n"
    )
    seen = []
    report, journal = await _fail_then_resume(
        script, tmp_path, between=lambda: seen.append((tmp_path / "seen.txt").read_text())
    )
    assert report["status"] == "succeeded", report["errors"]
    assert SECRET in seen[0] and "[redacted]" not in seen[0]
    assert (tmp_path / "seen.txt").read_text() == seen[0]
    calls = journal.tool_calls(report["run_id"])
    assert [c["name"] for c in calls] == ["grep", "glob", "write"]  # none done anew


async def test_without_the_secret_a_changed_read_stops_the_run_rather_than_corrupt(
    tmp_path, monkeypatch
):
    (tmp_path / "cfg.txt").write_text(f"token={SECRET}\n")
    script = (
        "t = await tools.read('cfg.txt')\n"
        "await tools.write('cfg.txt', t + 'more\\n')\n"
        "await spawn('general', 'x')\n"
    )
    # the resuming process no longer knows the secret: it cannot be put back
    report, _ = await _fail_then_resume(
        script, tmp_path, between=lambda: monkeypatch.delenv("FF_REPLAY_API_KEY")
    )
    assert report["status"] == "failed"
    assert any("redacted copy" in e["error"] for e in report["errors"]), report["errors"]
    assert (tmp_path / "cfg.txt").read_text() == f"token={SECRET}\nmore\n"  # untouched


async def test_an_unchanged_file_is_read_again_when_its_secret_is_gone(tmp_path, monkeypatch):
    (tmp_path / "a.txt").write_text(f"token={SECRET}\n")
    script = (
        "t = await tools.read('a.txt')\nawait tools.write('b.txt', t)\n"
        "await spawn('general', 'x')\n"
    )
    report, _ = await _fail_then_resume(
        script, tmp_path, between=lambda: monkeypatch.delenv("FF_REPLAY_API_KEY")
    )
    assert report["status"] == "succeeded", report["errors"]
    assert (tmp_path / "b.txt").read_text() == f"token={SECRET}\n"


async def test_commands_in_concurrent_units_run_once_each(tmp_path):
    _config(tmp_path)
    script = (
        "async def unit(i):\n"
        "    await tools.run('mark')\n"
        "    await tools.run('mark', str(i))\n"
        "    return await spawn('general', f'u{i}')\n"
        "await gather([unit(i) for i in range(6)])\n"
    )
    report, _ = await _fail_then_resume(script, tmp_path)
    assert report["status"] == "succeeded", report["errors"]
    assert (tmp_path / "marks.txt").read_text() == "ran\n" * 12


async def test_a_command_journals_its_intent_before_it_starts(tmp_path):
    _config(tmp_path)
    (tmp_path / ".fanflow" / "config.toml").write_text(
        "[commands]\nslow = \"sh -c 'echo started > started.txt; exec sleep 600'\"\n"
    )
    journal = Journal()
    task = asyncio.create_task(
        run("await tools.run('slow')", workspace=str(tmp_path), journal=journal)
    )
    for _ in range(2000):  # bounded: until the command is running
        if (tmp_path / "started.txt").exists():
            break
        await asyncio.sleep(0.01)
    other = sqlite3.connect(journal.path)  # another process's view: committed rows only
    states = other.execute("SELECT state FROM tool_call_states").fetchall()
    other.close()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert states == [("started",)]  # a crash now is seen as begun, not as never run


async def test_a_command_begun_but_never_finished_is_said_and_run_again(tmp_path):
    _config(tmp_path)
    journal, model = Journal(), Flaky()
    script = "await tools.run('mark')\nawait spawn('general', 'x')\n"
    first = await run(script, model=model, workspace=str(tmp_path), journal=journal)
    run_id = first["run_id"]
    # what a crash between the intent and the result leaves: the call begun, not done
    journal.db.execute("UPDATE tool_call_states SET state='started' WHERE run_id=?", (run_id,))
    (tmp_path / "marks.txt").unlink()
    model.down = False
    resumed = prepare_resume(journal, run_id, {"fake": FunctionModel(model, name="fake")})
    async with Sandbox() as sandbox:
        report = await resumed.execute(sandbox)
    assert report["status"] == "succeeded"
    assert (tmp_path / "marks.txt").read_text() == "ran\n"
    said = [e["message"] for e in journal.events_of_kind(run_id, "replay")]
    assert len(said) == 1 and "outcome is unknown" in said[0]
    rows = journal.tool_calls(run_id)
    assert [(r["seq"], r["state"]) for r in rows] == [(1, "done")]  # the same call, not a new one


# --- agents that had not finished: re-run, but their finished side effects not redone ------


class Builder:
    """An agent that writes a file, runs a declared command, then (first attempt) dies.

    `content` is what it writes; a re-run that writes something else has diverged.
    """

    def __init__(self, content: str) -> None:
        self.content, self.down, self.turns = content, True, 0

    async def __call__(self, req):
        from fanflow import ModelResponse, ToolCall

        self.turns += 1
        done = [r for m in req.messages for r in m.tool_results]
        if len(done) == 0:
            return ModelResponse(
                tool_calls=[ToolCall("w", "write", {"path": "out.txt", "text": self.content})]
            )
        if len(done) == 1:
            return ModelResponse(tool_calls=[ToolCall("r", "run", {"name": "mark"})])
        if self.down:
            raise RuntimeError("provider down")
        return json.dumps("built")


async def _agent_then_resume(ws: Path, second: str) -> tuple[dict, Builder]:
    _config(ws)
    journal, model = Journal(), Builder("v1")
    script = "await spawn('general', 'build', tools=['write', 'run'])\n"
    first = await run(script, model=model, workspace=str(ws), journal=journal)
    assert first["status"] == "failed", first
    assert (ws / "marks.txt").read_text() == "ran\n"
    model.down, model.content = False, second
    resumed = prepare_resume(journal, first["run_id"], {"fake": FunctionModel(model, name="fake")})
    async with Sandbox() as sandbox:
        report = await resumed.execute(sandbox)
    return report, model


async def test_a_rerun_agent_does_not_run_its_finished_command_again(tmp_path):
    report, _ = await _agent_then_resume(tmp_path, "v1")  # the same path as before
    assert report["status"] == "succeeded", report["errors"]
    assert (tmp_path / "marks.txt").read_text() == "ran\n"  # once, not once per attempt


async def test_a_rerun_agent_that_writes_otherwise_runs_its_command_for_real(tmp_path):
    report, _ = await _agent_then_resume(tmp_path, "v2")  # diverged: its test must see v2
    assert report["status"] == "succeeded", report["errors"]
    assert (tmp_path / "out.txt").read_text() == "v2"
    assert (tmp_path / "marks.txt").read_text() == "ran\nran\n"
