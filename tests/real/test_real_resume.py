"""A real server killed mid-run: the run ends paused (the endpoint is unreachable), and
`fanflow resume` against the restarted server finishes it without re-paying the agents
that had finished (D5, D6, D8)."""

from __future__ import annotations

import subprocess
import time

from ._server import LlamaServer
from .conftest import CALL_S, FANFLOW, MODEL, Fanflow, report_of

AGENTS = 8
SCRIPT = f"""
phase("work")
out = await gather([
    spawn("general", "Write two sentences about the number " + str(i) + ".",
          tools=[], max_tokens=40, label="n" + str(i))
    for i in range({AGENTS})
])
len([x for x in out if x is not None])
"""


def _succeeded(ff: Fanflow) -> tuple[str | None, list[int]]:
    journal = ff.journal()
    try:
        runs = journal.list_runs()
        if not runs:
            return None, []
        run_id = runs[0]["id"]
        return run_id, [a["id"] for a in journal.agents(run_id) if a["status"] == "succeeded"]
    finally:
        journal.close()


def test_a_killed_server_pauses_the_run_and_resume_finishes_it(own_server, tmp_path, workspace):
    own_server.start()
    ff = Fanflow(tmp_path / "home", workspace, own_server.url + "/v1")
    script = tmp_path / "work.py"
    script.write_text(SCRIPT)
    argv = [FANFLOW, "run", str(script), "--model", MODEL, "--workspace", str(workspace),
            "--yes", "--json", "--concurrency", "1"]  # fmt: skip
    proc = subprocess.Popen(
        argv, env=ff.env(), cwd=workspace, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + CALL_S
        run_id, done_before = None, []
        while time.monotonic() < deadline and proc.poll() is None:
            run_id, done_before = _succeeded(ff)
            if len(done_before) >= 2:
                break
            time.sleep(0.2)
        assert len(done_before) >= 2, "no agent finished on the real server"
        own_server.kill()
        out, err = proc.communicate(timeout=CALL_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=60)
    first = report_of(subprocess.CompletedProcess(argv, proc.returncode, out, err))
    run_id, done_before = _succeeded(ff)
    assert len(done_before) < AGENTS, "every agent finished before the kill: nothing to resume"
    # Ends clearly: paused with the cause in one line, exit 3 (not partial, not exit 0).
    assert first["status"] == "paused", first
    assert proc.returncode == 3
    cause = first["errors"][-1]["error"]
    assert "\n" not in cause and "resume" in cause, cause

    journal = ff.journal()
    paid_before = {a: 0 for a in done_before}
    for row in journal.usage_rows(run_id):
        if row["agent_id"] in paid_before:
            paid_before[row["agent_id"]] += 1
    ended_before = {
        a["id"]: a["ended_at"] for a in journal.agents(run_id) if a["id"] in paid_before
    }
    journal.close()

    restarted = LlamaServer(own_server.binary, own_server.model, own_server.log, own_server.port)
    try:
        try:
            restarted.start()
        except RuntimeError:  # the port was not free again yet: any port will do
            restarted = LlamaServer(own_server.binary, own_server.model, own_server.log)
            restarted.start()
        ff.base_url = restarted.url + "/v1"
        resumed = ff("resume", run_id, "--yes", "--json")
    finally:
        restarted.stop()
    second = report_of(resumed)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert second["status"] == "succeeded", second["errors"]
    assert second["agents"]["succeeded"] == AGENTS
    assert second["result"] == AGENTS
    assert second["errors"] == []  # the earlier attempt's failure lines are not reprinted (D8)
    assert "resumed: resumed:" not in resumed.stdout + resumed.stderr

    journal = ff.journal()
    paid_after = dict.fromkeys(done_before, 0)
    for row in journal.usage_rows(run_id):
        if row["agent_id"] in paid_after:
            paid_after[row["agent_id"]] += 1
    ended_after = {a["id"]: a["ended_at"] for a in journal.agents(run_id) if a["id"] in paid_after}
    rerun = [a for a in journal.agents(run_id) if a["id"] not in paid_after]
    journal.close()
    assert paid_after == paid_before  # finished agents were not requested again
    assert ended_after == ended_before
    assert rerun and all(a["status"] == "succeeded" for a in rerun)
