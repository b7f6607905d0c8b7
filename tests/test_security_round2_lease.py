"""Issue 14, classes 5 and 6: a run's lease, fencing, and stops that really stop.

A stalled event loop used to make a live run look `interrupted`, `cancel` only
relabelled it, SIGTERM was ignored, a `resume` ran a second executor beside it,
the open journal batch kept every other command out ("database is locked"),
and two resumes started together both ran. The stalls here are real: a model
(installed the way a `fanflow.models` plugin is) that blocks the event loop
with `time.sleep`, driven through the real CLI in subprocesses.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fakeapi import FakeAPI, Faults
from helpers import REPO, fanflow_process, journal_run

from fanflow._journal import Journal
from fanflow._journal._lease import LeaseHeld, LeaseLost, pid_alive

pytestmark = pytest.mark.slow
KEY = "sk-lease-test-key-123456"
WAIT_S = 90.0  # a bound on every wait, never the thing measured

STALL_DRIVER = """
import os, sys, time
from pathlib import Path
import fanflow
from fanflow._models import _registry


class Stall(fanflow.Model):
    name = "stall"

    async def request(self, req):
        with Path(os.environ["STALL_CALLS"]).open("a") as calls:
            calls.write("call\\n")
        time.sleep(600)  # blocks the event loop: nothing on it runs until this returns
        return fanflow.ModelResponse(text='"late"')


# how a fanflow.models plugin named `stall` is found, without installing a package
_registry._plugin_factory = lambda provider: (lambda name, options: Stall())
from fanflow._cli import main

main()
"""


def _wait(predicate, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _db(home: Path, sql: str, params: tuple = ()) -> list:
    path = home / "fanflow.db"
    if not path.exists():
        return []
    with sqlite3.connect(path, timeout=30) as conn:
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError:
            return []


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


class Stalled:
    """A `fanflow run` (through the stalling driver) whose loop is blocked in its model."""

    def __init__(self, tmp: Path, script: str, config: str = "") -> None:
        self.home, self.ws, self.calls = tmp / "home", tmp / "ws", tmp / "calls.txt"
        self.ws.mkdir()
        if config:
            (self.ws / ".fanflow").mkdir()
            (self.ws / ".fanflow" / "config.toml").write_text(config)
        (tmp / "driver.py").write_text(STALL_DRIVER)
        (tmp / "flow.py").write_text(script)
        self.env = {
            **os.environ,
            "FANFLOW_HOME": str(self.home),
            "STALL_CALLS": str(self.calls),
            "PYTHONPATH": str(REPO / "src"),
        }
        argv = ["run", str(tmp / "flow.py"), "--model", "stall:x", "--workspace", str(self.ws)]
        self.proc = subprocess.Popen(
            [sys.executable, str(tmp / "driver.py"), *argv, "--json"],
            cwd=REPO,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        _wait(lambda: _lines(self.calls) >= 1, "the model call that stalls the loop")
        self.run_id = _db(self.home, "SELECT id FROM runs")[0][0]

    def fanflow(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "fanflow", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=WAIT_S,
        )

    def renewed_at(self) -> float:
        rows = _db(self.home, "SELECT renewed_at FROM leases WHERE run_id=?", (self.run_id,))
        return rows[0][0] if rows else 0.0

    def status(self) -> str:
        return _db(self.home, "SELECT status FROM runs WHERE id=?", (self.run_id,))[0][0]

    def ended(self) -> int:
        try:
            return self.proc.wait(WAIT_S)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


ONE_AGENT = "r = await spawn('general', 'hello', tools=[])\nr"


@pytest.fixture
def stalled(tmp_path):
    run = Stalled(tmp_path, ONE_AGENT)
    yield run
    run.close()


def test_a_stalled_run_keeps_its_lease_and_shows_running_not_interrupted(stalled):
    first = stalled.renewed_at()
    # renewed twice more while the loop is blocked: the renewer is not on the loop
    _wait(lambda: stalled.renewed_at() >= first + 2.0, "the lease to be renewed while stalled")
    listing = stalled.fanflow("ls")
    assert listing.returncode == 0, listing.stderr
    line = next(row for row in listing.stdout.splitlines() if stalled.run_id in row)
    assert "\trunning\t" in line and "interrupted" not in line
    shown = stalled.fanflow("show", stalled.run_id, "--json")
    assert json.loads(shown.stdout)["status"] == "running"


def test_resume_of_a_stalled_live_run_exits_2_naming_its_owner_and_runs_nothing(stalled):
    resumed = stalled.fanflow("resume", stalled.run_id, "--json")
    assert resumed.returncode == 2, resumed.stderr
    lines = resumed.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in resumed.stderr
    assert f"pid {stalled.proc.pid}" in lines[0] and "host " in lines[0]
    assert _lines(stalled.calls) == 1  # no second executor asked the model anything
    assert stalled.proc.poll() is None and stalled.status() == "running"


def test_cancel_of_a_stalled_run_stops_its_process_and_records_cancelled(stalled):
    cancel = stalled.fanflow("cancel", stalled.run_id)
    # the cancel's own journal write got in: no open batch held the write lock
    assert cancel.returncode == 0, cancel.stderr
    assert "locked" not in cancel.stderr and "cancelled" in cancel.stderr
    assert stalled.ended() == 130
    assert stalled.status() == "cancelled"
    agents = _db(stalled.home, "SELECT status FROM agents WHERE run_id=?", (stalled.run_id,))
    assert agents == [("cancelled",)]
    assert _lines(stalled.calls) == 1
    resumable = stalled.fanflow("ls")
    assert resumable.returncode == 0 and "cancelled" in resumable.stdout


def test_sigterm_to_a_stalled_run_stops_it(stalled):
    stalled.proc.send_signal(signal.SIGTERM)
    assert stalled.ended() == 130
    assert stalled.status() == "cancelled"
    assert _lines(stalled.calls) == 1


def test_a_forced_stop_also_ends_the_declared_command_the_run_started(tmp_path):
    script = (
        "async def agent():\n"
        "    for _ in range(20000):\n"
        "        if await tools.glob('pid.txt'):\n"
        "            break\n"
        "    return await spawn('general', 'x', tools=[])\n"
        "r = await gather([tools.run('sleeper'), agent()])\nr\n"
    )
    config = "[commands]\nsleeper = \"sh -c 'echo $$ > pid.txt; exec sleep 600'\"\n"
    run = Stalled(tmp_path, script, config)
    try:
        child = int((run.ws / "pid.txt").read_text())
        assert pid_alive(child)
        cancel = run.fanflow("cancel", run.run_id)
        assert cancel.returncode == 0, cancel.stderr
        assert run.ended() == 130
        _wait(lambda: not pid_alive(child), "the command to be killed")  # not left writing
        assert run.status() == "cancelled"
    finally:
        run.close()
        if (run.ws / "pid.txt").exists():
            with_pid = int((run.ws / "pid.txt").read_text())
            if pid_alive(with_pid):
                os.kill(with_pid, signal.SIGKILL)


# --- class 6: two resumes started together -----------------------------------------------

N = 8
TOGETHER = (
    f"r = await gather([spawn('general', f'unit {{i}}', tools=[]) for i in range({N})])\n"
    f"for i in range({N}):\n    await tools.run('mark', str(i))\nr\n"
)


async def test_two_resumes_started_together_run_exactly_once(tmp_path):
    ws, home = tmp_path / "ws", tmp_path / "home"
    (ws / ".fanflow").mkdir(parents=True)
    (ws / ".fanflow" / "config.toml").write_text(
        "[commands]\nmark = \"sh -c 'echo ran >> marks.txt' mark\"\n"
    )
    (tmp_path / "flow.py").write_text(TOGETHER)
    async with FakeAPI(api_key=KEY, faults=Faults(latency=8.0)) as api:
        env = {
            **os.environ,
            "ANTHROPIC_API_KEY": KEY,
            "ANTHROPIC_BASE_URL": api.url,
            "FANFLOW_HOME": str(home),
        }

        async def fanflow(*args: str) -> asyncio.subprocess.Process:
            return await fanflow_process(*args, env=env)

        first = await fanflow(
            "run", str(tmp_path / "flow.py"), "--model", "anthropic:claude-sonnet-4-6",
            "--workspace", str(ws), "--json",
        )  # fmt: skip
        running = "SELECT COUNT(*) FROM agents WHERE status='running'"
        deadline = time.monotonic() + WAIT_S
        while (_db(home, running) or [[0]])[0][0] < N or len(api.requests) < N:
            assert time.monotonic() < deadline, "the first attempt never got going"
            await asyncio.sleep(0.05)
        first.kill()  # SIGKILL: the run is left interrupted, every agent unfinished
        await first.wait()
        before = len(api.requests)
        assert before == N
        racers = [await fanflow("resume", "last", "--json") for _ in range(2)]
        outcomes = await asyncio.wait_for(
            asyncio.gather(*(racer.communicate() for racer in racers)), WAIT_S * 2
        )
        requests = len(api.requests) - before
    codes = sorted(racer.returncode for racer in racers)
    assert codes == [0, 2], outcomes
    loser = outcomes[[racer.returncode for racer in racers].index(2)][1].decode()
    assert "pid " in loser and "host " in loser and len(loser.strip().splitlines()) == 1
    assert requests == N  # one set of agents paid, not two
    assert (ws / "marks.txt").read_text().splitlines() == ["ran"] * N  # one set of commands


# --- fencing and the lease's compare-and-set, in one process ------------------------------


def _leased(tmp_path: Path) -> tuple[Journal, str]:
    journal = Journal(tmp_path / "j.db")
    journal_run(journal, "r1", script="1", workspace="/w")
    journal.start_run("r1")
    return journal, "r1"


def _freeze(journal: Journal, age: float = 31.0) -> None:
    """What SIGSTOP does to an owner: no renewal, its lease ages past the takeover limit."""
    assert journal._renewer is not None
    journal._renewer.end()
    other = sqlite3.connect(journal.path)
    other.execute("UPDATE leases SET renewed_at = renewed_at - ?", (age,))
    other.commit()
    other.close()


def test_a_live_lease_cannot_be_taken_even_by_another_journal_of_the_same_process(tmp_path):
    owner, run_id = _leased(tmp_path)
    rival = Journal(tmp_path / "j.db")
    with pytest.raises(LeaseHeld, match=rf"pid {os.getpid()}"):
        rival.restart_run(run_id)
    with pytest.raises(LeaseHeld):
        rival.start_run(run_id)
    assert rival.get_run(run_id)["attempt"] == 1  # the loser wrote nothing
    owner.finish_run(run_id, "failed")
    rival.restart_run(run_id)  # released with the run's end: now it may be taken
    assert rival.get_run(run_id)["status"] == "running"
    rival.finish_run(run_id, "succeeded")


def test_a_stale_owners_writes_are_refused_after_a_takeover(tmp_path):
    stale, run_id = _leased(tmp_path)
    _freeze(stale)
    fresh = Journal(tmp_path / "j.db")
    fresh.restart_run(run_id)
    with pytest.raises(LeaseLost, match="now owned by"):
        stale.event(run_id, "log", "from the stale owner", agent_id=None)
        stale.commit()
    with pytest.raises(LeaseLost):  # and every write after, flushed or not
        stale.finish_run(run_id, "succeeded", result="stale")
    with pytest.raises(LeaseLost):
        stale.add_phase(run_id, 1, "late")
    fresh.event(run_id, "log", "from the owner")
    fresh.commit()
    messages = [e["message"] for e in fresh.events(run_id)]
    assert messages == ["from the owner"]
    assert fresh.get_run(run_id)["status"] == "running"
    assert fresh.get_run(run_id)["result_json"] is None


async def test_a_stale_owners_batched_writes_are_refused_whole(tmp_path):
    stale, run_id = _leased(tmp_path)
    _freeze(stale)
    Journal(tmp_path / "j.db").restart_run(run_id)
    for i in range(5):
        stale.event(run_id, "log", f"batched {i}")  # queued for the 50 ms batch
    await asyncio.sleep(0.2)  # the batch timer runs (bounded by the loop, not measured)
    with pytest.raises(LeaseLost):
        stale.event(run_id, "log", "after")
    other = Journal(tmp_path / "j.db")
    assert [e["message"] for e in other.events(run_id)] == []


async def test_a_pending_batch_holds_no_write_lock(tmp_path):
    journal, run_id = _leased(tmp_path)
    journal.event(run_id, "log", "queued")  # batched: not yet committed
    assert not journal._conn.in_transaction
    other = sqlite3.connect(tmp_path / "j.db", timeout=0)  # no busy wait at all
    other.execute("BEGIN IMMEDIATE")  # would raise "database is locked" under an open batch
    other.execute("UPDATE runs SET cancel_requested_at=1 WHERE id=?", (run_id,))
    other.execute("COMMIT")
    other.close()
    assert [e["message"] for e in journal.events(run_id)] == ["queued"]  # a read flushes
    journal.finish_run(run_id, "succeeded")


def test_a_stalled_owners_lease_still_marks_it_running(tmp_path):
    journal, run_id = _leased(tmp_path)
    with sqlite3.connect(tmp_path / "j.db") as other:  # the loop's heartbeat, long gone
        other.execute("UPDATE runs SET heartbeat_at = heartbeat_at - 3600")
    from fanflow._journal import effective_status

    first = journal.get_run(run_id)["lease_renewed_at"]
    deadline = time.monotonic() + WAIT_S
    while journal.get_run(run_id)["lease_renewed_at"] == first:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert effective_status(journal.get_run(run_id)) == "running"
    _freeze(journal)  # no renewal for 31 s: now, and only now, it is interrupted
    assert effective_status(journal.get_run(run_id)) == "interrupted"


def test_the_cli_allows_a_forced_stop_only_while_its_loop_runs():
    """A process that ran the CLI in-process and then owns runs itself (a test, an
    embedding program) must never be ended by its runs' lease threads."""
    from fanflow._cli._aio import run_async
    from fanflow._journal import _lease

    async def inside() -> bool:
        return _lease._hard_stop

    assert run_async(inside()) is True
    assert _lease._hard_stop is False
