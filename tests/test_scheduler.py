"""Host-side limits: the concurrency cap, the agent cap, partial success, cancellation.

Every test runs once per executor in `helpers.EXECUTORS`: the scheduler must
behave the same wherever its agents run.
"""

from __future__ import annotations

import asyncio

import helpers
import pytest
from helpers import Probe, run

from fanflow._journal import Journal


@pytest.fixture(autouse=True, params=sorted(helpers.EXECUTORS))
def executor(request, monkeypatch):
    """The executor every `run()` of the test uses."""
    made = []

    def factory():
        made.append(helpers.EXECUTORS[request.param]())
        return made[-1]

    monkeypatch.setattr(helpers, "executor_factory", factory)
    yield request.param
    for each in made:  # every agent thread a test started has ended with it
        assert not helpers.live_threads(each)


async def test_cap_of_16_holds_for_100_agents():
    probe = Probe(gate=16)
    script = 'r = await gather([spawn("general", f"unit {i}") for i in range(100)])\nlen(r)'
    report = await run(script, model=probe)
    assert report["status"] == "succeeded"
    assert report["result"] == 100
    assert probe.calls == 100
    assert probe.peak == 16


async def test_gather_concurrency_only_lowers_the_cap():
    low, high = Probe(gate=4), Probe(gate=16)
    script = 'await gather([spawn("general", f"u{{i}}") for i in range(30)], concurrency={n})'
    await run(script.format(n=4), model=low)
    await run(script.format(n=500), model=high)
    assert low.peak == 4
    assert high.peak == 16


async def test_concurrency_option_lowers_run_cap():
    probe = Probe(gate=3)
    await run(
        'await gather([spawn("general", f"u{i}") for i in range(20)])', model=probe, concurrency=3
    )
    assert probe.peak == 3


async def test_agent_cap_fails_run_before_any_request():
    probe = Probe()
    script = 'phase("audit")\nawait gather([spawn("general", f"u{i}") for i in range(1001)])'
    report = await run(script, model=probe)
    assert report["status"] == "failed"
    assert probe.calls == 0
    messages = [e["error"] for e in report["errors"]]
    assert any(
        "agent cap of 1000 reached in phase audit; chunk the work or filter before spawning" in m
        for m in messages
    )


async def test_agent_cap_in_a_loop_stops_at_the_cap():
    probe = Probe()
    script = (
        'phase("loop")\nn = 0\nfor i in range(12):\n'
        '    await spawn("general", f"u{i}")\n    n += 1\nn'
    )
    report = await run(script, model=probe, max_agents=10)
    assert report["status"] == "failed"
    assert probe.calls == 10
    assert "agent cap of 10 reached in phase loop" in report["errors"][-1]["error"]


async def test_agent_cap_cannot_be_swallowed_by_the_script():
    probe = Probe()
    script = (
        "try:\n    await gather([spawn('general', f'u{i}') for i in range(5)])\n"
        "except RuntimeError:\n    pass\n'survived'"
    )
    report = await run(script, model=probe, max_agents=3)
    assert report["status"] == "failed"
    assert probe.calls == 0


async def test_failed_agent_leaves_others_intact():
    probe = Probe(fail_when="unit 3", reply={"v": 1})
    script = 'await gather([spawn("general", f"unit {i}") for i in range(6)])'
    report = await run(script, model=probe)
    assert report["status"] == "partial"
    assert report["result"] == [{"v": 1}, {"v": 1}, {"v": 1}, None, {"v": 1}, {"v": 1}]
    assert report["agents"] == {"spawned": 6, "succeeded": 5, "failed": 1, "retried": 0}
    [error] = report["errors"]
    assert error["agent"] == 4 and error["phase"] == "main"
    assert "model exploded" in error["error"]


async def test_strict_gather_raises_into_the_script():
    probe = Probe(fail_when="unit 1")
    script = (
        "try:\n    await gather([spawn('general', f'unit {i}') for i in range(3)], strict=True)\n"
        "    out = 'no error'\nexcept RuntimeError as e:\n    out = str(e)\nout"
    )
    report = await run(script, model=probe)
    assert "agent 2 (general) failed" in report["result"]


async def test_direct_await_of_failed_agent_raises_and_fails_run():
    probe = Probe(fail_when="boom")
    report = await run('x = await spawn("general", "boom")\nx', model=probe)
    assert report["status"] == "failed"
    assert any("agent 1 (general) failed" in e["error"] for e in report["errors"])


async def test_run_that_only_fails_is_failed_not_partial():
    probe = Probe(fail_when="u")
    report = await run('await gather([spawn("general", f"u{i}") for i in range(3)])', model=probe)
    assert report["status"] == "failed"
    assert report["result"] == [None, None, None]


async def test_script_error_in_one_unit_is_recorded_not_fatal():
    probe = Probe(reply={"n": 1})
    script = (
        "async def unit(i):\n    r = await spawn('general', f'u{i}')\n"
        "    return r['missing'] if i == 2 else r['n']\n"
        "await gather([unit(i) for i in range(4)])"
    )
    report = await run(script, model=probe)
    assert report["status"] == "partial"
    assert report["result"] == [1, 1, None, 1]
    assert "gathered unit 2 raised KeyError" in report["errors"][0]["error"]


async def test_pipeline_and_agent_shapes():
    probe = Probe(reply={"ok": 1})
    script = (
        'phase("p")\n'
        'await pipeline(["a", "b", "c"], lambda x: agent(f"do {x}", label=x), concurrency=2)'
    )
    report = await run(script, model=probe)
    assert report["result"] == [{"ok": 1}] * 3
    assert report["phases"][0]["name"] == "p" and report["phases"][0]["agents"] == 3


async def test_unawaited_spawns_are_reported_not_run():
    probe = Probe()
    report = await run('a = spawn("general", "x")\nb = await spawn("general", "y")\n1', model=probe)
    assert probe.calls == 1
    assert any("never awaited" in e["error"] for e in report["errors"])


def _slow_model():
    started, calls_ended = asyncio.Event(), []

    async def slow(req):
        started.set()
        try:
            await asyncio.sleep(30)
        finally:
            calls_ended.append(req)
        return "{}"

    return slow, started, calls_ended


async def test_cancelling_the_caller_cancels_the_run_then_raises():
    """A library caller that cancels run_script gets CancelledError, after the journal
    says `cancelled` and every model call in flight was cancelled."""
    slow, started, calls_ended = _slow_model()
    journal = Journal()
    task = asyncio.create_task(
        run(
            'await gather([spawn("general", f"u{i}") for i in range(40)])',
            model=slow,
            journal=journal,
        )
    )
    await asyncio.wait_for(started.wait(), 10)
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)
    row = journal.get_run("last")
    assert row["status"] == "cancelled"
    agents = journal.agents(row["id"])
    assert agents and {a["status"] for a in agents} <= {"cancelled"}
    await asyncio.sleep(0.05)  # a thread executor's calls end on the run's loop
    assert len(calls_ended) == 16  # the 16 in flight, each cancelled


async def test_the_cli_path_reports_a_cancelled_run():
    """`Run.execute` without propagate_cancel (the CLI's) returns the report instead."""
    from fanflow import FunctionModel, RunOptions
    from fanflow._run import Run
    from fanflow._script import Sandbox

    slow, started, _ = _slow_model()
    journal = Journal()
    options = RunOptions(model="fake", workspace=str(helpers.REPO))
    script = 'await gather([spawn("general", f"u{i}") for i in range(4)])'
    run_ = Run(
        script,
        options,
        journal,
        {"fake": FunctionModel(slow, name="fake")},
        executor=helpers.executor_factory(),
    )

    async def execute():
        async with Sandbox() as sandbox:
            await run_.check(sandbox)
            return await run_.execute(sandbox)

    task = asyncio.create_task(execute())
    await asyncio.wait_for(started.wait(), 10)
    task.cancel()
    report = await asyncio.wait_for(task, 10)
    assert report["status"] == "cancelled"
    assert not task.cancelled()


async def test_gather_of_spawns_runs_host_side_in_one_call(monkeypatch):
    """A list made only of spawns goes to the host whole; anything else stays in the sandbox."""
    from fanflow._scheduler import Scheduler

    calls = []
    original = Scheduler.gather_agents

    async def counted(self, ids, concurrency, strict):
        calls.append(len(ids))
        return await original(self, ids, concurrency, strict)

    monkeypatch.setattr(Scheduler, "gather_agents", counted)
    probe = Probe(reply={"n": 1})
    only_spawns = 'await gather([spawn("general", f"u{i}") for i in range(20)], concurrency=5)'
    report = await run(only_spawns, model=probe)
    assert report["result"] == [{"n": 1}] * 20 and calls == [20]
    mixed = (
        "async def other():\n    return 'own'\n"
        'await gather([spawn("general", "a"), other(), spawn("general", "b")])'
    )
    report = await run(mixed, model=Probe(reply={"n": 2}))
    assert report["result"] == [{"n": 2}, "own", {"n": 2}] and calls == [20]


async def test_strict_gather_starts_nothing_after_a_failure_and_says_why():
    probe = Probe(fail_when="unit 1")
    journal = Journal()
    script = (
        "try:\n"
        "    await gather([spawn('general', f'unit {i}') for i in range(5)], concurrency=1,"
        " strict=True)\nexcept RuntimeError as e:\n    out = str(e)\nout"
    )
    report = await run(script, model=probe, journal=journal)
    assert "agent 2 (general) failed" in report["result"]
    assert probe.calls == 2  # units 0 and 1; 2..4 never started
    agents = journal.agents(report["run_id"])
    assert [a["status"] for a in agents] == ["succeeded", "failed", "not_run", "not_run", "not_run"]
    assert "strict gather failed" in agents[2]["error"]


async def test_a_gathered_spawn_cannot_be_awaited_again():
    script = (
        "a = spawn('general', 'x')\nawait gather([a])\n"
        "try:\n    await a\n    out = 'again'\nexcept RuntimeError as e:\n    out = str(e)\nout"
    )
    report = await run(script, model=Probe())
    assert report["result"] in (
        "each spawn() can be awaited once",
        "cannot reuse already awaited coroutine",
    )


async def test_host_functions_and_prints_run_on_the_event_loop_thread(monkeypatch):
    """monty calls sync host functions from a thread of its own; the scheduler and the
    journal are not thread-safe, so every call must be handed to the loop's thread."""
    import threading

    from fanflow._scheduler import Scheduler

    threads = set()
    register, event = Scheduler.register, Journal.event

    def spy_register(self, *args, **kwargs):
        threads.add(threading.get_ident())
        return register(self, *args, **kwargs)

    def spy_event(self, *args, **kwargs):
        threads.add(threading.get_ident())
        return event(self, *args, **kwargs)

    monkeypatch.setattr(Scheduler, "register", spy_register)
    monkeypatch.setattr(Journal, "event", spy_event)
    script = (
        "log('start')\nprint('hello')\n"
        "async def chain(i):\n    a = await spawn('general', f'a{i}')\n"
        "    return await spawn('general', f'b{i}')\n"
        "await gather([chain(i) for i in range(8)])"
    )
    report = await run(script, model=Probe())
    assert report["status"] == "succeeded"
    assert threads == {threading.get_ident()}
