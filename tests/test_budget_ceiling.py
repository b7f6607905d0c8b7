"""Budgets are ceilings (DESIGN §9): billed tokens and dollars never pass the budget.

Every run here goes through the real SDKs against the loopback fake API. The
budgets are far smaller than what 16 calls in flight would bill, so the old
check-before-each-request (which reserved nothing) overshoots every one of them.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from typing import Any

import pytest
from fakeapi import FakeAPI, Faults
from helpers import REPO, run

from fanflow import Message, ModelRequest, ToolCall, ToolResult, ToolSpec, Usage
from fanflow._budget import Budget, BudgetExceeded, input_bound
from fanflow._journal import Journal
from fanflow._models._base import billed_tokens
from fanflow._resume import prepare_resume
from fanflow._script import Sandbox

KEY = "sk-test-budget-0123456789abcdef"
MODELS = {"anthropic": "anthropic:claude-sonnet-4-5", "openai": "openai:gpt-4.1-mini"}
TEST = ("--model", "test", "--json")
FILLER = "the quick brown fox jumps over the lazy dog " * 200  # ~8.8k chars: ~2.2k tokens


@pytest.fixture
async def api(monkeypatch):
    async with FakeAPI(api_key=KEY, faults=Faults(latency=0.05)) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
        yield server


def fan_out(n: int, max_tokens: int = 500, filler: str = FILLER) -> str:
    return (
        f"filler = {filler!r}\n"
        f"await gather([spawn('general', f'unit {{i}}: ' + filler, tools=[], "
        f"max_tokens={max_tokens}) for i in range({n})])"
    )


def billed(report: dict) -> int:
    return billed_tokens(report["usage"])


def overruns(journal: Journal, report: dict) -> list[dict]:
    """Calls billed more than their reservation: the input bound did not hold."""
    events = journal.events_of_kind(report["run_id"], "budget_overrun")
    return [e for e in events if "billed more than" in e["message"]]


def answered(api: FakeAPI) -> int:
    return api.count(status=200)


@pytest.mark.parametrize("provider", sorted(MODELS))
@pytest.mark.parametrize("budget", [12_000, 30_000, 75_000])
async def test_billed_tokens_never_pass_the_budget_at_concurrency_16(api, provider, budget):
    journal = Journal()
    report = await run(
        fan_out(60),
        model_name=MODELS[provider],
        concurrency=16,
        budget_tokens=budget,
        journal=journal,
    )
    assert report["status"] == "budget_exceeded"
    assert 0 < billed(report) <= budget
    assert not overruns(journal, report)
    assert report["agents"]["succeeded"] == answered(api) >= 1  # every paid call kept
    assert any("resume with a larger --budget" in e["error"] for e in report["errors"])


async def test_a_reservation_that_does_not_fit_waits_for_the_call_in_flight(api):
    # one call's worst case is ~11.5k; 20k holds one at a time, never two
    report = await run(fan_out(30), model_name=MODELS["anthropic"], budget_tokens=20_000)
    assert api.peak_in_flight == 1  # the 15 others waited while one was in flight
    assert report["agents"]["succeeded"] >= 3  # they waited: they did not fail
    assert billed(report) <= 20_000


async def test_dollar_budget_is_a_ceiling_too(api):
    usd = 0.05  # claude-sonnet-4-5: $3 / $15 a million; ~2.2k input tokens a call
    report = await run(fan_out(60), model_name=MODELS["anthropic"], concurrency=16, budget_usd=usd)
    assert report["status"] == "budget_exceeded"
    assert 0 < report["usage"]["cost_usd"] <= usd
    assert any("resume with a larger --budget-usd" in e["error"] for e in report["errors"])


async def test_a_call_that_can_never_fit_stops_the_run_before_any_request(api):
    report = await run(
        fan_out(5, max_tokens=8000), model_name=MODELS["anthropic"], budget_tokens=5000
    )
    assert report["status"] == "budget_exceeded"
    assert len(api.requests) == 0
    assert any(
        "more than the whole token budget of 5,000" in e["error"]
        and "lower max_tokens" in e["error"]
        for e in report["errors"]
    )


async def test_an_unpriced_model_cannot_run_under_a_dollar_budget(api):
    report = await run(fan_out(3), model_name="anthropic:claude-unpriced-9", budget_usd=5.0)
    assert report["status"] == "budget_exceeded" and len(api.requests) == 0
    assert any("no price" in e["error"] for e in report["errors"])


async def test_resume_with_a_larger_budget_never_pays_a_finished_agent_twice(api):
    journal = Journal()
    first = await run(
        fan_out(20), model_name=MODELS["anthropic"], journal=journal, budget_tokens=30_000
    )
    assert first["status"] == "budget_exceeded"
    paid = answered(api)
    assert paid == first["agents"]["succeeded"] < 20
    resumed = prepare_resume(journal, first["run_id"], budget_tokens=1_000_000)
    async with Sandbox() as sandbox:
        final = await resumed.execute(sandbox)
    assert final["status"] == "succeeded"
    assert answered(api) == 20  # the resumed run paid only for the agents that had not run
    assert billed(final) <= 1_000_000


async def test_the_script_sees_the_budget(api):
    script = (
        "first = [budget.total, budget.spent(), budget.remaining()]\n"
        "await spawn('general', 'one unit', tools=[], max_tokens=200)\n"
        "[first, budget.total, budget.spent(), budget.remaining()]"
    )
    report = await run(script, model_name=MODELS["anthropic"], budget_tokens=50_000)
    first, total, spent, remaining = report["result"]
    assert first == [50_000, 0, 50_000]
    assert total == 50_000 and spent == billed(report) > 0 and remaining == 50_000 - spent
    unlimited = await run(script, model_name=MODELS["anthropic"])
    assert unlimited["result"][0] == [None, 0, None]  # Infinity is null in JSON


@pytest.mark.parametrize(
    "text",
    [
        "plain English words, the kind tokenizers pack four characters to a token",
        "東京都の天気は晴れです。" * 40,
        "🙂🚀🧪" * 100,
        '{}[]"\\\n\t' * 100,
        "x" * 5000,
    ],
)
@pytest.mark.parametrize("provider", sorted(MODELS))
async def test_the_input_bound_holds_against_what_the_api_counts(api, provider, text):
    got = {}

    def record(usage: Usage, request: ModelRequest) -> None:
        got["billed_input"] = usage.input_tokens + usage.cache_read_input_tokens
        got["billed_input"] += usage.cache_creation_input_tokens
        got["bound"] = input_bound(request)

    from fanflow._models import resolve_model

    model = resolve_model(MODELS[provider])
    request = ModelRequest(
        system="You review code. " + text,
        messages=[
            Message("user", text),
            Message("assistant", "", tool_calls=[ToolCall("c1", "read", {"path": text[:50]})]),
            Message("user", tool_results=[ToolResult("c1", text)]),
        ],
        tools=[ToolSpec("read", "Read a file: " + text[:100], {"type": "object"})],
        max_tokens=100,
    )
    reply = await model.request(request)
    await model.aclose()
    record(reply.usage, request)
    assert got["billed_input"] <= got["bound"]
    assert got["bound"] >= len(text.encode()) * 2  # system + message + tool result: bytes


def test_settling_a_call_releases_what_it_did_not_use():
    async def scenario() -> Budget:
        budget = Budget(tokens=10_000)
        held = await budget.reserve(6_000, 0.0)
        assert budget.reserved_tokens == 6_000
        with pytest.raises(BudgetExceeded, match="more than the whole token budget"):
            await asyncio.wait_for(budget.reserve(11_000, 0.0), 1)  # never fits: no wait
        waiting = asyncio.ensure_future(budget.reserve(5_000, 0.0))
        await asyncio.sleep(0)
        assert not waiting.done()  # 6,000 + 5,000 > 10,000: it waits for the call in flight
        budget.settle(held, Usage(input_tokens=1_000), 0.0)
        second = await asyncio.wait_for(waiting, 1)
        assert budget.spent_tokens == 1_000 and budget.reserved_tokens == 5_000
        budget.settle(second, Usage(), 0.0)  # a failed call: nothing billed, all released
        assert budget.spent_tokens == 1_000 and budget.reserved_tokens == 0
        third = await budget.reserve(2_000, 0.0)
        budget.settle(third, None, None)  # cancelled in flight: billed unknown, all kept
        assert budget.spent_tokens == 3_000 and budget.reserved_tokens == 0
        return budget

    budget = asyncio.run(scenario())
    assert budget.overruns == 0


def test_an_agent_cancelled_in_flight_keeps_its_reservation_as_spent():
    from fanflow import FunctionModel
    from fanflow._agents import AgentJob, run_agent

    async def scenario() -> tuple[Budget, list[Usage | None]]:
        budget, settled = Budget(tokens=100_000), []
        started = asyncio.Event()

        async def slow(req):
            started.set()
            await asyncio.sleep(30)
            return "never"

        async def reserve(request):
            return await budget.reserve(input_bound(request) + request.max_tokens, 0.0)

        def settle(ticket, usage, answered=True):
            settled.append(usage)
            budget.settle(ticket, usage, 0.0)

        job = AgentJob(
            spec=_spec(),
            model=FunctionModel(slow),
            tools=_NoTools(),
            reserve=reserve,
            settle=settle,
        )
        task = asyncio.ensure_future(run_agent(job))
        await asyncio.wait_for(started.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return budget, settled

    budget, settled = asyncio.run(scenario())
    assert settled == [None]  # cancelled: what it was billed is not known
    assert budget.reserved_tokens == 0 and budget.spent_tokens > 100  # the worst case, kept


def test_a_failed_call_releases_its_whole_reservation():
    from fanflow import FunctionModel
    from fanflow._agents import AgentJob, run_agent

    async def scenario() -> tuple[Budget, Any]:
        budget = Budget(tokens=100_000)

        async def broken(req):
            raise RuntimeError("the provider fell over")

        async def reserve(request):
            return await budget.reserve(input_bound(request) + request.max_tokens, 0.0)

        job = AgentJob(
            spec=_spec(),
            model=FunctionModel(broken),
            tools=_NoTools(),
            reserve=reserve,
            settle=lambda ticket, usage, answered=True: budget.settle(ticket, usage, 0.0),
        )
        return budget, await run_agent(job)

    budget, outcome = asyncio.run(scenario())
    assert not outcome.ok
    assert budget.reserved_tokens == 0 and budget.spent_tokens == 0


class _NoTools:
    def specs(self) -> list:
        return []

    async def execute(self, call):  # pragma: no cover - no tool is granted
        raise AssertionError(call)


def _spec():
    from fanflow._agents import BUILTIN_AGENTS, AgentSpec

    return AgentSpec(
        run_id="r",
        agent_id=1,
        phase="main",
        definition=BUILTIN_AGENTS["general"],
        prompt="unit",
        tools=(),
        model="fake",
        max_tokens=100,
    )


def test_stagger_flag_takes_zero_and_refuses_a_negative(tmp_path):
    env = {**os.environ, "FANFLOW_HOME": str(tmp_path)}
    script = tmp_path / "s.py"
    script.write_text("1")
    for command in (["run", str(script)], ["do", "task"]):
        proc = subprocess.run(
            [sys.executable, "-m", "fanflow", *command, "--model", "test", "--stagger-ms", "-5"],
            cwd=REPO,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
        assert proc.returncode == 2, proc.stderr
        assert "--stagger-ms must be 0 (off) or more" in proc.stderr
        assert "Traceback" not in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "fanflow", "run", str(script), *TEST, "--stagger-ms", "0"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0 and json.loads(proc.stdout)["result"] == 1, proc.stderr


async def test_a_later_turn_is_bounded_by_what_the_earlier_one_was_billed(api, tmp_path):
    # turn 1 reserves ~40k (a 36 kB prompt, byte-bounded); the API bills it ~9k. Turn 2
    # (the file read back) would reserve ~40k again from bytes, over the 36k left of
    # 45k; bounded by turn 1's bill plus the bytes added (~10k), it fits.
    (tmp_path / "notes.md").write_text("a short note\n")
    filler = "lorem ipsum dolor sit amet " * 1333
    script = (
        f"await spawn('general', 'Read notes.md. ' + {filler!r}, tools=['read'], max_tokens=300)"
    )
    journal = Journal()
    report = await run(
        script,
        model_name=MODELS["anthropic"],
        budget_tokens=45_000,
        workspace=str(tmp_path),
        journal=journal,
    )
    assert report["status"] == "succeeded", report["errors"]
    assert not overruns(journal, report)
    assert answered(api) == 2  # two turns: the read, then the answer
    assert billed(report) <= 45_000


async def test_a_call_billed_over_its_reservation_is_journaled():
    from fanflow import ModelResponse

    def greedy(req):  # reports more input than any text of this size can hold
        return ModelResponse("done", usage=Usage(input_tokens=500_000))

    journal = Journal()
    report = await run(
        "await spawn('general', 'u', tools=[], max_tokens=100)",
        model=greedy,
        budget_tokens=2_000_000,
        journal=journal,
    )
    assert report["status"] == "succeeded"
    assert len(overruns(journal, report)) == 1
