"""Background runs, cancel, and crash-proof resume, through the real CLI in subprocesses."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
import time
from pathlib import Path

import pytest
from fakeapi import FakeAPI, Faults
from helpers import REPO, fanflow_process, run

from fanflow import ConfigError
from fanflow._journal import Journal
from fanflow._resume import prepare_resume

KEY = "sk-resume-test-key-123456"
FAN_OUT = "r = await gather([spawn('general', f'unit {{i}}', tools=[]) for i in range({n})])\nr"
pytestmark = pytest.mark.slow


def env_for(api: FakeAPI, home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "ANTHROPIC_API_KEY": KEY,
        "ANTHROPIC_BASE_URL": api.url,
        "FANFLOW_HOME": str(home),
    }


fanflow = fanflow_process


def db_count(home: Path, sql: str) -> int:
    path = home / "fanflow.db"
    if not path.exists():
        return 0
    with sqlite3.connect(path) as conn:
        try:
            return conn.execute(sql).fetchone()[0] or 0
        except sqlite3.OperationalError:
            return 0


async def wait_for(predicate, limit_s: float = 30.0) -> None:
    deadline = time.monotonic() + limit_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.02)


def prompt_of(request) -> str:
    content = request.body["messages"][0]["content"]
    return content if isinstance(content, str) else content[0]["text"]


async def test_three_sigkills_then_resume_equals_an_uninterrupted_run(tmp_path):
    n, kills = 300, 3
    script = tmp_path / "fan.py"
    script.write_text(FAN_OUT.format(n=n))
    home = tmp_path / "home"
    async with FakeAPI(api_key=KEY, faults=Faults(latency=0.02)) as api:
        env = env_for(api, home)
        succeeded = "SELECT COUNT(*) FROM agents WHERE status='succeeded'"
        snapshots = []  # (requests seen so far, prompts journaled as done) at each kill
        args = ["run", str(script), "--model", "anthropic:claude-sonnet-4-6", "--json"]
        for attempt in range(kills):
            before = db_count(home, succeeded)
            proc = await fanflow(*args, env=env)
            await wait_for(lambda b=before: db_count(home, succeeded) >= b + 50)
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
            journal = Journal(home / "fanflow.db")
            run_id = journal.get_run("last")["id"]
            done = {a["prompt"] for a in journal.agents(run_id) if a["status"] == "succeeded"}
            snapshots.append((len(api.requests), done))
            assert journal.get_run(run_id) and len(done) < n, f"attempt {attempt} finished early"
            journal.close()
            args = ["resume", run_id, "--json"]
        proc = await fanflow(*args, env=env)
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        resumed = json.loads(out)
        requests = list(api.requests)
    assert resumed["status"] == "succeeded"
    assert resumed["agents"] == {"spawned": n, "succeeded": n, "failed": 0, "retried": 0}
    print(f"\nrequests {len(requests)} for {n} agents over {kills} kills")
    assert len(requests) <= n + 16 * kills, len(requests)
    for seen, done in snapshots:
        again = [prompt_of(r) for r in requests[seen:] if prompt_of(r) in done]
        assert again == [], f"completed agents requested again: {again[:3]}"
    async with FakeAPI(api_key=KEY) as api:
        os.environ.update(ANTHROPIC_API_KEY=KEY, ANTHROPIC_BASE_URL=api.url)
        try:
            direct = await run(FAN_OUT.format(n=n), model_name="anthropic:claude-sonnet-4-6")
        finally:
            del os.environ["ANTHROPIC_API_KEY"], os.environ["ANTHROPIC_BASE_URL"]
    assert resumed["result"] == direct["result"]


async def test_cancel_cuts_calls_in_flight_sends_nothing_after_and_resume_completes(tmp_path):
    script = tmp_path / "fan.py"
    script.write_text(FAN_OUT.format(n=64))
    home = tmp_path / "home"
    async with FakeAPI(api_key=KEY, faults=Faults(latency=5.0)) as api:
        env = env_for(api, home)
        proc = await fanflow(
            "run", str(script), "--model", "anthropic:claude-sonnet-4-6", "--json", env=env
        )
        await wait_for(
            lambda: db_count(home, "SELECT COUNT(*) FROM agents WHERE status='running'") == 16
        )
        cancel = await fanflow("cancel", "last", env=env)
        _, cancel_err = await cancel.communicate()
        out, _ = await proc.communicate()
        seen = len(api.requests)
        # each call takes 5 s: none was answered, so the cancel cut the 16 in flight
        # instead of waiting for them (no wall-clock bound: that depends on the machine)
        assert seen == 16 and all(r.status != 200 for r in api.requests)
        await asyncio.sleep(0.5)
        assert len(api.requests) == seen  # nothing sent after the cancel
        api.faults = Faults(latency=0.0)
        resumed_proc = await fanflow("resume", "last", "--json", env=env)
        resumed_out, resumed_err = await resumed_proc.communicate()
    assert proc.returncode == 130
    assert json.loads(out)["status"] == "cancelled"
    assert b"cancelled" in cancel_err
    assert resumed_proc.returncode == 0, resumed_err.decode()
    resumed = json.loads(resumed_out)
    assert resumed["status"] == "succeeded" and resumed["agents"]["succeeded"] == 64


async def test_background_run_outlives_its_shell_and_is_watched_from_elsewhere(tmp_path):
    script = tmp_path / "fan.py"
    script.write_text("phase('work')\n" + FAN_OUT.format(n=40))
    home = tmp_path / "home"
    async with FakeAPI(api_key=KEY, faults=Faults(latency=0.1)) as api:
        env = env_for(api, home)
        shell = await asyncio.create_subprocess_exec(
            "bash",
            "-c",
            f"{sys.executable} -m fanflow run {script} --model anthropic:claude-sonnet-4-6 "
            "--background --json",
            cwd=REPO,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await shell.communicate()  # the shell has exited here
        assert shell.returncode == 0, err.decode()
        started = json.loads(out)
        assert started["status"] == "running"
        watch = await fanflow("watch", started["run_id"], env=env)
        watched, progress = await asyncio.wait_for(watch.communicate(), 60)
    assert watch.returncode == 0
    assert b"phase work" in progress
    assert watched.decode().strip().splitlines()[-1].endswith("0.0s)") or watched
    shown = await fanflow("show", started["run_id"], "--json", env=env)
    report = json.loads((await shown.communicate())[0])
    assert report["status"] == "succeeded" and len(report["result"]) == 40
    log = home / "runs" / started["run_id"] / "log"
    assert "ended: succeeded" in log.read_text()


async def test_ls_marks_a_killed_run_interrupted(tmp_path):
    script = tmp_path / "fan.py"
    script.write_text(FAN_OUT.format(n=200))
    home = tmp_path / "home"
    async with FakeAPI(api_key=KEY, faults=Faults(latency=1.0)) as api:
        env = env_for(api, home)
        proc = await fanflow("run", str(script), "--model", "anthropic:claude-sonnet-4-6", env=env)
        running = "SELECT COUNT(*) FROM agents WHERE status='running'"
        await wait_for(lambda: db_count(home, running) > 0)
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    listing = await fanflow("ls", env=env)
    out, _ = await listing.communicate()
    assert "\tinterrupted\t" in out.decode()


async def test_resume_refuses_when_a_file_the_run_read_changed(tmp_path):
    (tmp_path / "a.txt").write_text("one")
    journal = Journal()

    async def boom(req):
        raise RuntimeError("provider down")

    report = await run(
        "t = await tools.read('a.txt')\nawait spawn('general', t)",
        model=boom,
        workspace=str(tmp_path),
        journal=journal,
    )
    assert report["status"] == "failed"
    (tmp_path / "a.txt").write_text("two")
    from fanflow import FunctionModel

    with pytest.raises(ConfigError, match=r"1 file\(s\) changed since the run saw them \(a.txt\)"):
        prepare_resume(journal, report["run_id"], {"fake": FunctionModel(boom, name="fake")})


async def test_resume_replays_tool_calls_and_finished_agents(tmp_path):
    (tmp_path / ".fanflow").mkdir()
    (tmp_path / ".fanflow" / "config.toml").write_text(
        "[commands]\nmark = \"sh -c 'echo ran >> marks.txt'\"\n"
    )
    calls: list[str] = []
    fail = {"on": True}

    async def model(req):
        prompt = req.messages[0].text
        calls.append(prompt)
        if prompt == "second" and fail["on"]:
            raise RuntimeError("provider down")
        return json.dumps({"done": prompt})

    journal = Journal()
    script = (
        "await tools.write('out.txt', 'x')\nawait tools.run('mark')\n"
        "a = await spawn('general', 'first')\nb = await spawn('general', 'second')\n[a, b]"
    )
    first = await run(script, model=model, workspace=str(tmp_path), journal=journal)
    assert first["status"] == "failed"
    fail["on"] = False
    calls.clear()
    from fanflow import FunctionModel
    from fanflow._script import Sandbox

    resumed = prepare_resume(journal, first["run_id"], {"fake": FunctionModel(model, name="fake")})
    async with Sandbox() as sandbox:
        report = await resumed.execute(sandbox)
    assert report["status"] == "succeeded", report["errors"]
    assert report["result"] == [{"done": "first"}, {"done": "second"}]
    assert calls == ["second"]  # the finished agent was not asked again
    assert (tmp_path / "marks.txt").read_text() == "ran\n"  # the command was not run again
    assert report["agents"] == {"spawned": 2, "succeeded": 2, "failed": 0, "retried": 0}


def test_resume_of_a_finished_run_is_refused(tmp_path):
    journal = Journal()
    report = asyncio.run(run("1", model_name="test", journal=journal))
    with pytest.raises(ConfigError, match="ended succeeded"):
        prepare_resume(journal, report["run_id"])
