"""The executor seam: plain specs and outcomes, services passed explicitly, a second executor.

tests/test_scheduler.py runs every scheduler test under both executors; these
tests pin what the seam itself promises.
"""

from __future__ import annotations

import json
import threading

import pytest
from helpers import EXECUTORS, Probe, ThreadExecutor, live_threads, run

from fanflow import Message, ModelResponse, ToolCall, ToolResult, Usage
from fanflow._agents import BUILTIN_AGENTS, AgentOutcome, AgentSpec
from fanflow._agents._spec import FATAL
from fanflow._executors import Executor
from fanflow._journal import Journal


def _spec(**changes):
    fields = dict(
        run_id="20250101-000000-abcd",
        agent_id=7,
        phase="review",
        definition=BUILTIN_AGENTS["reviewer"],
        prompt="Try to refute this claim",
        context=(
            Message("system", "<data>[1, 2]</data>"),
            Message("assistant", "looking", tool_calls=[ToolCall("c1", "read", {"path": "a"})]),
            Message("user", tool_results=[ToolResult("c1", "text", is_error=True)]),
        ),
        tools=("read", "grep"),
        schema={"type": "object", "properties": {"refuted": {"type": "boolean"}}},
        model="anthropic:claude-sonnet-4-6",
        effort="high",
        max_tokens=2000,
        max_turns=12,
        label="review 3",
    )
    return AgentSpec(**{**fields, **changes})


def test_a_spec_round_trips_through_json():
    spec = _spec()
    again = AgentSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec
    assert again.definition.tools == spec.definition.tools  # tuples, not lists
    assert again.context[1].tool_calls[0].input == {"path": "a"}
    assert again.who == "agent 7 (reviewer)"


def test_an_outcome_round_trips_through_json():
    ok = AgentOutcome(ok=True, value={"a": [1]}, turns=2, attempts=3, usage=Usage(10, 5, 1, 2))
    failed = AgentOutcome(ok=False, error_kind=FATAL, error="bad key")
    for outcome in (ok, failed):
        assert AgentOutcome.from_dict(json.loads(json.dumps(outcome.to_dict()))) == outcome


async def test_the_thread_executor_runs_agent_loops_off_the_run_loop():
    """Agent loops run on worker threads; model calls and the journal stay on the run's."""
    model_threads = set()

    async def model(req):
        model_threads.add(threading.get_ident())
        return '{"ok": 1}'

    executor = ThreadExecutor()
    report = await run(
        'await gather([spawn("general", f"u{i}") for i in range(6)])',
        model=model,
        executor=executor,
    )
    assert report["status"] == "succeeded" and report["result"] == [{"ok": 1}] * 6
    assert len(executor.agent_threads) == 6
    assert threading.get_ident() not in executor.agent_threads
    assert model_threads == {threading.get_ident()}
    assert not live_threads(executor)


@pytest.mark.parametrize("name", sorted(EXECUTORS))
async def test_tools_usage_and_turns_reach_the_run_through_services(name):
    """A tool call, usage rows and the turn count cross the seam whatever the executor."""

    def model(req):
        if not any(m.tool_results for m in req.messages):
            call = ToolCall("r1", "read", {"path": "pyproject.toml"})
            return ModelResponse(tool_calls=[call], usage=Usage(100, 10))
        seen = req.messages[-1].tool_results[0].content
        return ModelResponse(json.dumps({"saw": "[project]" in seen}), usage=Usage(200, 20))

    journal = Journal()
    report = await run(
        'await spawn("general", "read pyproject.toml", tools=["read"])',
        model=model,
        journal=journal,
        executor=EXECUTORS[name](),
    )
    assert report["result"] == {"saw": True}
    [agent] = journal.agents(report["run_id"])
    assert agent["status"] == "succeeded" and agent["turns"] == 2
    rows = journal.usage_rows(report["run_id"])
    assert [(r["input_tokens"], r["output_tokens"]) for r in rows] == [(100, 10), (200, 20)]


@pytest.mark.parametrize("name", sorted(EXECUTORS))
async def test_the_budget_stops_agents_through_services(name):
    def model(req):
        return ModelResponse('{"ok": 1}', usage=Usage(3000, 0))

    report = await run(  # a call reserves ~10.7k (input bound + 8,000 max_tokens)
        'await gather([spawn("general", f"u{i}") for i in range(20)], concurrency=1)',
        model=model,
        budget_tokens=12_000,
        executor=EXECUTORS[name](),
    )
    assert report["status"] == "budget_exceeded"
    billed = report["usage"]["input_tokens"]
    assert report["agents"]["succeeded"] == 1 and billed == 3000  # 3,000 + 10.7k > 12k


class Recording(Executor):
    """An executor the scheduler was never told about: it answers without any model."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.specs: list[AgentSpec] = []
        self.fail_on = fail_on

    async def run(self, spec, services):
        self.specs.append(AgentSpec.from_dict(json.loads(json.dumps(spec.to_dict()))))
        services.agent_started(spec)
        if spec.agent_id == self.fail_on:
            return AgentOutcome(ok=False, error_kind=FATAL, error="the key was revoked")
        return AgentOutcome(ok=True, value={"id": spec.agent_id, "phase": spec.phase})


async def test_any_executor_plugs_in_and_gets_plain_specs():
    executor = Recording()
    script = (
        'phase("audit")\n'
        'await gather([spawn("auditor", f"a{i}", tools=["read"], max_tokens=900,'
        ' schema={"type": "object"}) for i in range(3)])'
    )
    report = await run(script, model=Probe(), executor=executor)
    assert report["result"] == [{"id": i, "phase": "audit"} for i in (1, 2, 3)]
    first = executor.specs[0]
    assert (first.definition.name, first.prompt, first.tools) == ("auditor", "a0", ("read",))
    assert (first.max_tokens, first.schema, first.model) == (900, {"type": "object"}, "fake")
    assert first.run_id == report["run_id"] and first.max_turns == 24


async def test_a_fatal_outcome_stops_the_run_wherever_it_came_from():
    executor = Recording(fail_on=1)
    script = 'await gather([spawn("general", f"u{i}") for i in range(5)], concurrency=1)'
    journal = Journal()
    report = await run(script, model=Probe(), executor=executor, journal=journal)
    assert report["status"] == "failed"
    assert len(executor.specs) == 1  # nothing starts after a fatal outcome
    statuses = [a["status"] for a in journal.agents(report["run_id"])]
    assert statuses == ["failed", "not_run", "not_run", "not_run", "not_run"]
    assert any("the key was revoked" in e["error"] for e in report["errors"])
