"""Issue 15 item 4: retries you can see.

Every retried attempt of an agent is a `retry` event in the journal (the wait
and why, the attempt number, the error); the agent's `attempts` column counts
the attempts it sent, succeeded or not; the report's `agents` object says how
many agents retried; the live view, `show` and the web view show retries and
the holds of agents waiting right now. Through the real SDKs against the fake
API; states are polled (bounded), never timed.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from fakeapi import FakeAPI, Faults
from helpers import REPO
from rich.console import Console

from fanflow import RunOptions
from fanflow._attempts import RETRY, RETRY_LINE
from fanflow._journal import Journal
from fanflow._run import execute_script
from fanflow._views import render_snapshot, summary_line, take_snapshot
from fanflow._web._server import _details

KEY = "sk-test-retries-0123456789abcdef"
MODEL = "anthropic:claude-sonnet-4-6"
POLLS = 400


@pytest.fixture
async def api(monkeypatch):
    async with FakeAPI(api_key=KEY) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        yield server


def _fan_out(n: int) -> str:
    return f"await gather([spawn('general', f'u{{i}}', tools=[]) for i in range({n})])"


async def _start(journal: Journal, script: str, **options) -> asyncio.Task:
    opts = RunOptions(model=MODEL, workspace=str(REPO), **options)
    return asyncio.create_task(execute_script(script, opts, journal=journal))


async def _until(check, what: str):
    for _ in range(POLLS):  # bounded: a state, not a clock
        value = check()
        if value:
            return value
        await asyncio.sleep(0.025)
    raise AssertionError(f"never saw {what}")


def _text(renderable) -> str:
    console = Console(width=160, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


async def test_retries_are_journaled_counted_and_shown(api):
    api.faults = Faults(p_529=0.25, p_429=0.1, retry_after=0.01, seed=11)
    journal = Journal()
    task = await _start(journal, _fan_out(30), concurrency=8)
    report = await task
    assert report["status"] == "succeeded"
    run_id = report["run_id"]
    events = journal.events_of_kind(run_id, RETRY)
    faulted = [r for r in api.requests if r.fault]
    assert events and len(events) == len(faulted)  # every refused attempt, once
    for event in events:
        match = RETRY_LINE.match(event["message"])
        assert match, event["message"]
        assert match[2].startswith(("429 retry-after", "529 retry-after", "529 back-off"))
        assert "Anthropic API" in match[4]
    agents = {a["id"]: a for a in journal.agents(run_id)}
    per_agent: dict[int, int] = {}
    for event in events:
        per_agent[event["agent_id"]] = per_agent.get(event["agent_id"], 0) + 1
    for agent_id, retries in per_agent.items():
        assert agents[agent_id]["attempts"] == 1 + retries  # one turn: 1 + its retries
    assert report["agents"]["retried"] == len(per_agent)
    shown = _text(render_snapshot(take_snapshot(journal, run_id)))
    assert f"retries {len(events)} ({len(per_agent)} agent(s))" in shown
    assert f"{len(per_agent)} retried" in summary_line(report)
    web = _details(journal, run_id)
    assert web["snapshot"]["retried"] == len(per_agent)
    assert sum(a["attempts"] for a in web["agents"]) == len(api.requests)


async def test_a_running_agent_shows_its_hold(api):
    # one request at a time, and the second is told to come back in 30 s
    api.faults = Faults(max_in_flight=1, retry_after=30, latency=0.3)
    journal = Journal()
    task = await _start(journal, _fan_out(2), concurrency=2)
    try:

        def holding():
            runs = journal.list_runs()
            if not runs:
                return None
            snap = take_snapshot(journal, runs[0]["id"])
            return snap if snap.holds else None

        snap = await _until(holding, "an agent holding")
        assert any("holding" in h and "429 retry-after" in h for h in snap.holds)
        shown = _text(render_snapshot(snap))
        assert "429 retry-after" in shown and "holding" in shown
        web = _details(journal, snap.run_id)
        assert web["snapshot"]["holds"] == snap.holds
        assert json.dumps(web)  # the web view's JSON carries them
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_a_failed_agent_keeps_its_attempts_and_last_error(api):
    api.faults = Faults(p_529=1.0, retry_after=0.01)  # every attempt refused, retried
    journal = Journal()
    task = await _start(journal, "await spawn('general', 'one', tools=[])")

    def retried():
        runs = journal.list_runs()
        return runs and len(journal.events_of_kind(runs[0]["id"], RETRY)) >= 2

    await _until(retried, "two retries")
    api.faults = Faults(fail_status=400)  # then a refusal no retry gets past
    report = await task
    assert report["status"] == "failed"
    [agent] = journal.agents(report["run_id"])
    events = journal.events_of_kind(report["run_id"], RETRY)
    assert agent["attempts"] == len(api.requests) == len(events) + 1 >= 3
    assert "Anthropic API 400" in agent["error"]  # the last error, in the agent's row
    assert "Anthropic API 529" in events[-1]["message"]  # the retried ones, in its events
