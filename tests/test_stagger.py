"""Prefix stagger (DESIGN §9): a shared prefix is written to the cache once per wave.

Through the real SDKs against the fake API, which (like the real ones) makes a
cache entry readable only from the start of the response that wrote it: 16
agents sent together would each write the prefix. With the stagger, the first
goes alone and the others start when its response begins.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fakeapi import FakeAPI, Faults
from helpers import run

from fanflow import FunctionModel, ModelRequest, TestModel
from fanflow._journal import Journal
from fanflow._stagger import Stagger

KEY = "sk-test-stagger-0123456789abcdef"
MODELS = {"anthropic": "anthropic:claude-sonnet-4-5", "openai": "openai:gpt-4.1-mini"}
RULE = "Check every claim against the code before you report it; cite file and line. "


def long_agent(root: Path, name: str = "checker", salt: str = "", tools: str = "[]") -> None:
    """An agent whose system prompt (~3.5k tokens) every spawn of it shares."""
    agents = root / ".fanflow" / "agents"
    agents.mkdir(parents=True, exist_ok=True)
    body = salt + RULE * 180
    (agents / f"{name}.md").write_text(f"---\nname: {name}\ntools: {tools}\n---\n{body}\n")


@pytest.fixture
def env(monkeypatch):
    def point(api: FakeAPI) -> None:
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", api.url + "/v1")

    return point


def wave(n: int, agent: str = "checker") -> str:
    return f"await gather([spawn('{agent}', f'unit {{i}}') for i in range({n})])"


def misses(journal: Journal, report: dict, provider: str) -> int:
    """Calls that did not read the prefix from cache: the ones that wrote it."""
    rows = journal.usage_rows(report["run_id"])
    if provider == "anthropic":
        return sum(1 for r in rows if r["cache_creation_input_tokens"] > 0)
    return sum(1 for r in rows if r["cache_read_input_tokens"] == 0)


async def fan_out(env, tmp_path, provider, script, *, brain=None, latency=0.3, **options):
    long_agent(tmp_path)
    long_agent(tmp_path, "other", salt="A different rulebook. ")
    long_agent(tmp_path, "reader", salt="You may read files. ", tools="[read]")
    (tmp_path / "notes.md").write_text("the note\n")
    async with FakeAPI(api_key=KEY, faults=Faults(latency=latency), brain=brain) as api:
        env(api)
        journal = Journal()
        report = await run(
            script,
            model_name=MODELS[provider],
            journal=journal,
            workspace=str(tmp_path),
            concurrency=16,
            **options,
        )
    assert report["status"] == "succeeded", report["errors"][:2]
    return api, journal, report


@pytest.mark.parametrize("provider", sorted(MODELS))
async def test_a_wave_sharing_a_prefix_writes_it_once(env, tmp_path, provider):
    api, journal, report = await fan_out(env, tmp_path, provider, wave(40))
    assert report["agents"]["succeeded"] == 40
    assert misses(journal, report, provider) == 1
    streamed = sum(r.streamed for r in api.requests)  # openai: every call streams (issue 20)
    assert streamed == (1 if provider == "anthropic" else api.count(status=200))


@pytest.mark.parametrize("provider", sorted(MODELS))
async def test_a_streamed_leader_that_calls_a_tool_gets_its_answer(env, tmp_path, provider):
    script = "await gather([spawn('reader', f'Read notes.md, unit {i}') for i in range(20)])"
    api, journal, report = await fan_out(env, tmp_path, provider, script)
    agents = journal.agents(report["run_id"])
    assert [a["turns"] for a in agents] == [2] * 20  # read, then answer: the tool call came
    streamed = sum(r.streamed for r in api.requests)  # through the leader's stream
    assert streamed == (1 if provider == "anthropic" else api.count(status=200))
    assert misses(journal, report, provider) == 1


@pytest.mark.parametrize("provider", sorted(MODELS))
async def test_without_the_stagger_the_first_wave_writes_it_each(env, tmp_path, provider):
    api, journal, report = await fan_out(env, tmp_path, provider, wave(40), stagger_ms=0)
    assert misses(journal, report, provider) > 1  # what the stagger saves (16 here)
    assert provider == "openai" or not any(r.streamed for r in api.requests)


async def test_each_prefix_has_its_own_leader(env, tmp_path):
    script = (
        "await gather([spawn('checker' if i % 2 else 'other', f'unit {i}') for i in range(32)])"
    )
    _, journal, report = await fan_out(env, tmp_path, "anthropic", script)
    assert misses(journal, report, "anthropic") == 2


async def test_a_later_wave_finds_the_prefix_warm_and_waits_for_nothing(env, tmp_path):
    script = wave(20) + "\n" + wave(20).replace("unit", "again")
    api, journal, report = await fan_out(env, tmp_path, "anthropic", script)
    assert report["agents"]["succeeded"] == 40
    assert misses(journal, report, "anthropic") == 1
    assert sum(r.streamed for r in api.requests) == 1  # no second leader


async def test_a_leader_whose_first_attempt_fails_keeps_the_lead(env, tmp_path):
    calls = {"n": 0}
    model = TestModel()

    async def brain(req: ModelRequest):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("overloaded")  # the fake answers 500; the leader retries
        return await model.request(req)

    api, journal, report = await fan_out(env, tmp_path, "anthropic", wave(20), brain=brain)
    assert api.count(status=500) == 1
    assert misses(journal, report, "anthropic") == 1


async def test_the_window_bounds_the_wait_for_a_slow_leader(env, tmp_path):
    arrived, others = {"n": 0}, asyncio.Event()
    model = TestModel()

    async def brain(req: ModelRequest):
        arrived["n"] += 1
        if arrived["n"] >= 4:
            others.set()
        if arrived["n"] == 1:  # the leader: its response cannot begin before others arrive
            try:
                await asyncio.wait_for(others.wait(), 10)
            except TimeoutError:
                return await model.request(req)
            arrived["leader_saw_others"] = True
        return await model.request(req)

    await fan_out(env, tmp_path, "anthropic", wave(8), brain=brain, latency=0.0, stagger_ms=50)
    assert arrived.get("leader_saw_others")  # followers went after the window, not its begin


def test_a_leader_that_fails_before_it_begins_hands_the_lead_on():
    async def scenario() -> list[bool]:
        stagger = Stagger(5000)
        leader = await stagger.turn("k")
        waiting = [asyncio.ensure_future(stagger.turn("k")) for _ in range(3)]
        await asyncio.sleep(0)
        assert leader is not None and leader.leader and not any(w.done() for w in waiting)
        stagger.ended(leader, answered=False)  # it failed: no response began
        for _ in range(100):  # a few loop turns for the woken waiters to run
            await asyncio.sleep(0)
        done = [w for w in waiting if w.done()]
        assert len(done) == 1 and done[0].result().leader  # the next one leads, alone
        stagger.began(done[0].result())
        leases = await asyncio.wait_for(asyncio.gather(*waiting), 5)
        return [lease.leader for lease in leases]

    assert sorted(asyncio.run(scenario())) == [False, False, True]


def test_models_without_a_prompt_cache_are_not_staggered():
    stagger = Stagger(5000)
    req = ModelRequest(system=RULE * 200, messages=[], tools=[], max_tokens=10)
    assert stagger.key(FunctionModel(lambda r: "x"), "fake", req) is None
    assert stagger.key(TestModel(), "test", req) is None
    assert (
        Stagger(0).key(type("Cached", (TestModel,), {"caches_prompts": True})(), "t", req) is None
    )
