"""Issue 20 D4 (synthesis), D5, D6, D8: how runs end and what they say about it.

D4: a context-length refusal (`ContextTooLong`) makes `synthesize` split its data
further, bounded, and the agent that did not fit is not a failure of the run.
D5: an agent's journaled turns and attempts are what it did, however it ended.
D6: a run whose work agents all failed is `failed` whatever a synthesizer did;
mostly failed, the report's `warning` says so. D8: a resume prints only its own
attempt, and `wall_s` is the attempts' run time, not the gap between them.
States and counts only, no timing.
"""

from __future__ import annotations

import asyncio
import io
import json

import pytest
from fakeapi import FakeAPI, Faults
from helpers import REPO, ThreadExecutor, journal_run, run
from rich.console import Console

from fanflow import FunctionModel, ModelResponse, RunOptions, Usage
from fanflow._errors import ContextTooLong, ModelError
from fanflow._journal import Journal
from fanflow._models import ToolCall
from fanflow._report import build_report
from fanflow._resume import prepare_resume
from fanflow._run import execute_script
from fanflow._run_time import ATTEMPT_TIME, close_lost_attempt, wall_seconds
from fanflow._script import Sandbox
from fanflow._synthesis import MAX_SPLITS, _chunks, data_tokens
from fanflow._views import live_progress
from fanflow._views._snapshot import event_line

KEY = "sk-test-outcomes-0123456789abcdef"


def _data_of(req) -> str | None:
    block = next((m.text for m in req.messages if "<data>" in m.text), None)
    return None if block is None else block.split("<data>")[1].split("</data>")[0]


# -- D4: split further on a context-length refusal ----------------------------------------


def _small_server(real_limit_chars: int, *, mid_system: bool = True, context: int = 4_000):
    """A model that claims `context` tokens but refuses data longer than the limit: the
    4k server that said it had 128k, as seen from fanflow."""
    sizes: list[int] = []
    refused: list[int] = []

    def reply(req):
        data = _data_of(req)
        if data is not None and len(data) > real_limit_chars:
            refused.append(len(data))
            raise ContextTooLong(f"request exceeds the context ({len(data)} characters)")
        sizes.append(len(data or ""))
        return json.dumps({"items": len(json.loads(data)) if data else 0})

    model = FunctionModel(
        reply, name="fake", context_tokens=context, supports_mid_system=mid_system
    )
    return model, sizes, refused


ITEMS = "[{'id': i, 'text': 'word ' * 60} for i in range(120)]"  # ~38k chars, ~12k tokens


@pytest.mark.parametrize("mid_system", [True, False])
@pytest.mark.parametrize("executor", [None, "thread"])
async def test_synthesize_splits_again_when_the_server_refuses_the_context(mid_system, executor):
    model, sizes, refused = _small_server(3_000, mid_system=mid_system)
    journal = Journal()
    report = await run(
        f"await synthesize({ITEMS})",
        model=model,
        journal=journal,
        executor=ThreadExecutor() if executor else None,
    )
    assert refused, "the first chunks must have been too big for the real window"
    assert report["status"] == "succeeded", report["errors"]
    assert report["agents"]["failed"] == 0 and report["errors"] == []
    assert report["warning"] is None
    assert all(size <= 3_000 for size in sizes)  # what was answered fit
    agents = journal.agents(report["run_id"])
    superseded = [a for a in agents if a["status"] == "not_run"]
    assert len(superseded) == len(refused)
    assert all(a["error"].startswith("split:") and a["attempts"] == 1 for a in superseded)
    assert len(journal.events_of_kind(report["run_id"], "split")) == len(refused)
    assert agents[-1]["label"] == "synthesis" and agents[-1]["status"] == "succeeded"


async def test_a_window_nothing_fits_is_bounded_and_fails():
    model, sizes, refused = _small_server(10)  # even the partial syntheses do not fit
    journal = Journal()
    report = await run("await synthesize([{'a': 'x' * 400}])", model=model, journal=journal)
    assert report["status"] == "failed"
    assert not sizes and len(refused) == MAX_SPLITS + 1  # one branch: halved MAX_SPLITS times
    agents = journal.agents(report["run_id"])
    assert [a["status"] for a in agents] == ["not_run"] * MAX_SPLITS + ["failed"]
    assert "context" in agents[-1]["error"]


async def test_context_too_long_fails_an_ordinary_agent():
    def reply(req):
        raise ContextTooLong("the prompt is bigger than the window")

    journal = Journal()
    report = await run("await gather([spawn('general', 'big')])", model=reply, journal=journal)
    [agent] = journal.agents(report["run_id"])
    assert agent["status"] == "failed" and "window" in agent["error"]
    assert not journal.events_of_kind(report["run_id"], "split")


def test_size_estimates_are_conservative():
    for text in ["plain words " * 50, json.dumps(list(range(500))), "日本語のテキスト" * 40]:
        assert data_tokens(text) >= (len(text) + 3) // 4  # never below 4 characters a token
        assert data_tokens(text) * 3 >= len(text.encode("utf-8"))
    assert data_tokens("日本語") == 3  # a token per character, not 3/4 of one
    items = [{"n": i, "s": "é" * (i % 50)} for i in range(400)]
    for chunk in _chunks(items, 500):
        assert data_tokens(json.dumps(chunk, ensure_ascii=False)) <= 500 + 2


# -- D5: turns and attempts, however the agent ended ------------------------------------


@pytest.fixture
async def api(monkeypatch):
    async with FakeAPI(api_key=KEY) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        yield server


def _tool_turns_then(api: FakeAPI, turns: int, then: list[str]):
    """A brain that asks for `glob` for `turns` replies, then fails as `then` says, one
    step a request: "500" (the brain raises: the fake answers 500, retried),
    "400+500" (the same, and every later request gets a 400, not retried)."""
    state = {"calls": 0}

    async def brain(req):
        state["calls"] += 1
        if state["calls"] <= turns:
            call = ToolCall(id=f"c{state['calls']}", name="glob", input={"pattern": "*.toml"})
            return ModelResponse(text="", tool_calls=[call])
        step = then[state["calls"] - turns - 1]
        if step == "400+500":
            api.faults = Faults(fail_status=400)
        raise RuntimeError("the server broke")

    return brain


@pytest.mark.parametrize(
    ("turns", "then", "attempts"),
    [(3, ["400+500"], 5), (2, ["500", "400+500"], 5), (0, ["400+500"], 2), (1, [], 2)],
)
async def test_a_failed_agent_journals_the_calls_and_turns_it_made(api, turns, then, attempts):
    """N HTTP calls (answered, 500s retried, the last 400) are N attempts; turns are
    the replies the agent got."""
    if then:
        api.brain = _tool_turns_then(api, turns, then)
    else:  # a 400 at once after the turns
        api.brain = _first_then_400(api, turns)
    journal = Journal()
    opts = RunOptions(model="anthropic:claude-sonnet-4-6", workspace=str(REPO))
    script = "await gather([spawn('general', 'look', tools=['glob'])])"
    report = await execute_script(script, opts, journal=journal)
    [agent] = journal.agents(report["run_id"])
    assert agent["status"] == "failed"
    assert agent["turns"] == turns
    assert agent["attempts"] == attempts == len(api.requests)  # every HTTP call counted


def _first_then_400(api: FakeAPI, turns: int):
    state = {"calls": 0}

    async def brain(req):
        state["calls"] += 1
        if state["calls"] >= turns:
            api.faults = Faults(fail_status=400)
        call = ToolCall(id=f"c{state['calls']}", name="glob", input={"pattern": "*.toml"})
        return ModelResponse(text="", tool_calls=[call])

    return brain


@pytest.mark.parametrize("executor", [None, "thread"])
@pytest.mark.parametrize(
    ("ending", "status"),
    [("model_error", "failed"), ("crash", "failed"), ("bad_schema", "failed")],
)
async def test_every_ending_keeps_turns_and_attempts(executor, ending, status):
    calls = {"n": 0}

    def reply(req):
        calls["n"] += 1
        if ending == "bad_schema":
            return "not json"  # and again after the repair turn
        if calls["n"] <= 2:
            return ModelResponse(tool_calls=[_glob(calls["n"])])
        if ending == "crash":
            raise KeyError("provider bug")
        raise ModelError("the model refused")

    journal = Journal()
    schema = ", schema={'type': 'object'}" if ending == "bad_schema" else ""
    report = await run(
        f"await gather([spawn('general', 'x', tools=['glob']{schema})])",
        model=reply,
        journal=journal,
        executor=ThreadExecutor() if executor else None,
    )
    [agent] = journal.agents(report["run_id"])
    assert agent["status"] == status
    assert agent["turns"] == 2  # two tool turns, or an answer and its repair
    assert agent["attempts"] == calls["n"]


def _glob(n: int) -> ToolCall:
    return ToolCall(id=f"t{n}", name="glob", input={"pattern": "*.md"})


async def test_a_cancelled_agent_keeps_turns_and_attempts():
    calls = {"n": 0}
    blocked = asyncio.Event()

    async def reply(req):
        calls["n"] += 1
        if calls["n"] <= 3:
            return ModelResponse(tool_calls=[_glob(calls["n"])])
        blocked.set()
        await asyncio.Event().wait()  # hangs until cancelled

    journal = Journal()
    task = asyncio.create_task(
        run("await gather([spawn('general', 'x', tools=['glob'])])", model=reply, journal=journal)
    )
    await asyncio.wait_for(blocked.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    run_id = journal.get_run("last")["id"]
    [agent] = journal.agents(run_id)
    assert agent["status"] == "cancelled"
    assert (agent["turns"], agent["attempts"]) == (3, 4)


async def test_a_budget_stop_keeps_the_turns_before_it():
    calls = {"n": 0}

    def reply(req):
        calls["n"] += 1
        billed = Usage(input_tokens=400, output_tokens=50)
        return ModelResponse(tool_calls=[_glob(calls["n"])], usage=billed)

    journal = Journal()
    # each call reserves its input + max_tokens (100): the budget holds a few calls only
    report = await run(
        "await gather([spawn('general', 'x', tools=['glob'], max_tokens=100)])",
        model=reply,
        journal=journal,
        budget_tokens=6_000,
    )
    assert report["status"] == "budget_exceeded"
    [agent] = journal.agents(report["run_id"])
    assert agent["turns"] == calls["n"] >= 1
    assert agent["attempts"] == calls["n"]


# -- D6: all work failed is failed; most failed is loud ---------------------------------


def _work_model(fail_first: int):
    """Work agents `w0`..: the first `fail_first` fail; the synthesizer always answers."""

    def reply(req):
        prompt = req.messages[0].text
        if prompt.startswith("w") and int(prompt[1:]) < fail_first:
            raise ModelError("server said no")
        if _data_of(req) is not None:
            return "A confident summary with a link: https://example.invalid/made-up"
        return json.dumps({"found": prompt})

    return reply


FAN_OUT = (
    "rs = await gather([spawn('general', f'w{i}') for i in range(15)])\n"
    "await synthesize([{'unit': i, 'result': r} for i, r in enumerate(rs)])"
)


async def test_all_work_failed_is_failed_though_the_synthesis_answered():
    journal = Journal()
    report = await run(FAN_OUT, model=_work_model(15), journal=journal)
    assert report["status"] == "failed"
    assert report["agents"]["failed"] == 15
    assert report["warning"].startswith("all 15 work agent(s) failed")
    assert any("all 15 work agent(s) failed" in e["error"] for e in report["errors"])
    assert build_report(journal, report["run_id"])["status"] == "failed"  # show agrees


@pytest.mark.parametrize(
    ("failing", "status", "loud"),
    [(10, "partial", True), (8, "partial", True), (7, "partial", False), (0, "succeeded", False)],
)
async def test_most_work_failed_says_so(failing, status, loud):
    report = await run(FAN_OUT, model=_work_model(failing))
    assert report["status"] == status
    if loud:
        assert report["warning"] == (
            f"{failing} of 15 work agents failed: the result rests on the {15 - failing} "
            "that succeeded"
        )
    else:
        assert report["warning"] is None


async def test_synthesizing_nothing_is_not_a_success():
    script = (
        "rs = await gather([spawn('general', f'w{i}') for i in range(15)])\n"
        "await synthesize({'findings': rs})"
    )
    journal = Journal()
    report = await run(script, model=_work_model(15), journal=journal)
    assert report["status"] == "failed"
    assert [a["agent_type"] for a in journal.agents(report["run_id"])] == ["general"] * 15
    assert any("synthesize() not run" in e["error"] for e in report["errors"])


async def test_reviewers_are_work_synthesizers_are_not():
    def reply(req):
        prompt = req.messages[0].text
        if prompt.startswith("audit"):
            raise ModelError("no")
        return json.dumps({"ok": prompt})

    script = (
        "a = await gather([spawn('auditor', f'audit {i}') for i in range(3)])\n"
        "r = await gather([spawn('reviewer', f'review {i}') for i in range(3)])\n"
        "await synthesize({'a': a, 'r': r})"
    )
    report = await run(script, model=reply)
    assert report["status"] == "partial"  # the reviewers' verdicts are work that was done
    assert report["warning"] is None  # 3 of 6 work agents failed: half, not most


def test_the_cli_result_view_prints_the_warning(capsys):
    from fanflow._cli._run_cmd import print_report

    report = {
        "run_id": "r",
        "status": "partial",
        "result": "x",
        "agents": {"spawned": 15, "succeeded": 5, "failed": 10, "retried": 0},
        "usage": {
            "input_tokens": 0,
            "output_tokens": 0,
            "cache_read_input_tokens": 0,
            "cache_creation_input_tokens": 0,
            "cost_usd": None,
        },
        "wall_s": 1.0,
        "errors": [],
        "scripted": None,
        "warning": "10 of 15 work agents failed: the result rests on the 5 that succeeded",
    }
    print_report(report, as_json=False)
    err = capsys.readouterr().err
    assert "WARNING 10 of 15 work agents failed" in err
    print_report({**report, "warning": None}, as_json=False)
    assert "WARNING" not in capsys.readouterr().err


# -- D8: resume prints its own attempt; wall time is run time ---------------------------


async def _resume_printing(journal, run_id, model):
    console = Console(file=io.StringIO(), force_terminal=False, width=300)
    resumed = prepare_resume(journal, run_id, {"fake": FunctionModel(model, name="fake")})
    async with Sandbox() as sandbox:
        await resumed.check(sandbox)
        async with live_progress(journal, resumed.started, lambda: resumed.run_id, console):
            report = await resumed.execute(sandbox)
    return report, console.file.getvalue()


async def test_resume_prints_only_its_own_attempt():
    fail = {"on": True}

    def model(req):
        prompt = req.messages[0].text
        if fail["on"] and prompt.startswith("bad"):
            raise ModelError("provider down")
        return json.dumps({"done": prompt})

    script = "await gather([spawn('general', p) for p in ['good', 'bad1', 'bad2']])"
    journal = Journal()
    first = await run(script, model=model, journal=journal)
    assert first["status"] == "partial"
    assert len(journal.events_of_kind(first["run_id"], "agent_failed")) == 2
    fail["on"] = False
    report, out = await _resume_printing(journal, first["run_id"], model)
    assert report["status"] == "succeeded" and report["errors"] == []
    assert "agent_failed" not in out and "provider down" not in out  # attempt 1's lines
    assert "resumed: resumed:" not in out
    [line] = [x for x in out.splitlines() if x.startswith("resumed")]
    assert "attempt 2" in line and "1 finished agent(s)" in line
    # a third attempt reports what two earlier ones finished
    journal.db.execute("UPDATE runs SET status='failed' WHERE id=?", (first["run_id"],))
    journal.db.commit()
    report, out = await _resume_printing(journal, first["run_id"], model)
    assert "attempt 3" in out and "3 finished agent(s)" in out


def test_older_journals_resumed_lines_are_not_double_prefixed():
    line = event_line({"kind": "resumed", "message": "resumed: re-executing the script"})
    assert line == "resumed: re-executing the script"
    assert event_line({"kind": "log", "message": "x"}) == "log: x"


async def test_wall_time_counts_the_attempts_not_the_gap():
    fail = {"on": True}

    def model(req):
        if fail["on"] and req.messages[0].text == "b":
            raise ModelError("down")
        return "ok"

    journal = Journal()
    first = await run(
        "await gather([spawn('general', p) for p in 'ab'])", model=model, journal=journal
    )
    run_id = first["run_id"]
    # the first attempt happened a day ago: its times move back, the gap is a day
    day = 86_400
    journal.db.execute(
        "UPDATE runs SET started_at=started_at-?, ended_at=ended_at-? WHERE id=?",
        (day, day, run_id),
    )
    journal.db.execute("UPDATE events SET at=at-? WHERE run_id=?", (day, run_id))
    journal.db.commit()
    fail["on"] = False
    resumed = prepare_resume(journal, run_id, {"fake": FunctionModel(model, name="fake")})
    async with Sandbox() as sandbox:
        await resumed.check(sandbox)
        report = await resumed.execute(sandbox)
    spans = [json_span(e["message"]) for e in journal.events_of_kind(run_id, ATTEMPT_TIME)]
    assert len(spans) == 2
    assert report["wall_s"] == round(sum(spans), 3)
    row = journal.get_run(run_id)
    assert row["ended_at"] - row["started_at"] > day  # what wall_s used to say
    assert report["wall_s"] < day


def json_span(message: str) -> float:
    assert message.startswith("attempt ")
    return float(message.split(" ran ")[1].split(" s")[0])


def test_an_attempt_that_died_is_closed_from_its_last_heartbeat():
    journal = Journal()
    journal_run(journal, "r1", script="1", workspace=str(REPO))
    journal.start_run("r1")
    journal.finish_run("r1", "failed")  # releases the lease; then pretend it died at 1010
    journal.db.execute(
        "UPDATE runs SET started_at=1000, heartbeat_at=1010, ended_at=NULL, status='running' "
        "WHERE id='r1'"
    )
    journal.db.commit()
    before = journal.get_run("r1")
    close_lost_attempt(journal, "r1", before)
    journal._flush_now()
    [event] = journal.events_of_kind("r1", ATTEMPT_TIME)
    assert event["message"].startswith("attempt 1 ran 10.000 s")
    close_lost_attempt(journal, "r1", before)  # once only
    journal._flush_now()
    assert len(journal.events_of_kind("r1", ATTEMPT_TIME)) == 1
    done = {**before, "ended_at": 1010}
    assert wall_seconds(journal, done) == 10.0
