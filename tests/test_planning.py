"""The lead model plans; estimates, the approval card and budgets guard the spend."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys

import pytest
from fakeapi import FakeAPI
from helpers import EXAMPLE, REPO, run

from fanflow import FunctionModel, ModelResponse, RunOptions, ToolCall, Usage
from fanflow._budget import Budget, parse_tokens
from fanflow._journal import Journal
from fanflow._models import TestModel
from fanflow._planner import EXAMPLE_AUDIT, EXAMPLE_MIGRATION, make_plan
from fanflow._resume import prepare_resume
from fanflow._run import Run
from fanflow._script import Sandbox
from fanflow._workspace import Workspace

KEY = "sk-plan-test-key-0123456789"
AUDIT_TASK = "audit examples/race_audit/sample for race conditions"
TEST = ("--model", "test")


@pytest.fixture
def workspace(tmp_path):
    """A small tree to plan over: three source files and a README."""
    ws = tmp_path / "ws"
    (ws / "src").mkdir(parents=True)
    for name in ("a.py", "b.py", "c.py"):
        (ws / "src" / name).write_text(f"def {name[0]}():\n    return 1\n")
    (ws / "README.md").write_text("# a small tree\n")
    return ws


async def fanflow_on(api: FakeAPI, home, *args: str) -> tuple[int, bytes, bytes]:
    """The CLI in a subprocess, on anthropic against `api`, with its own FANFLOW_HOME."""
    env = {
        **os.environ,
        "ANTHROPIC_API_KEY": KEY,
        "ANTHROPIC_BASE_URL": api.url,
        "FANFLOW_HOME": str(home),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "fanflow",
        *args,
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    return proc.returncode, out, err


def fanflow(*args: str, env: dict | None = None, cwd=REPO):
    return subprocess.run(
        [sys.executable, "-m", "fanflow", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("text", ["2M", "500k", "120000", "1.5m"])
def test_token_budgets_parse(text):
    assert (
        parse_tokens(text)
        == {"2M": 2_000_000, "500k": 500_000, "120000": 120_000, "1.5m": 1_500_000}[text]
    )


async def test_planner_examples_pass_the_check():
    async with Sandbox() as sandbox:
        await sandbox.check(EXAMPLE_AUDIT, "audit.py")
        await sandbox.check(EXAMPLE_MIGRATION, "migrate.py")


async def scripted_planner(replies):
    """A lead model over the fake API whose replies are scripted, one per request."""
    queue = list(replies)

    async def brain(req):
        return ModelResponse(
            text=queue.pop(0) if queue else replies[-1],
            usage=Usage(input_tokens=100, output_tokens=50),
        )

    return brain


async def test_type_error_then_fixed_script_yields_a_checked_script(monkeypatch):
    broken = "```python\nfiles = await tools.glob('*.ts')\nr = await spawn('general', 42)\n```"
    fixed = "```python\nfiles = await tools.glob('*.ts')\nr = await spawn('general', 'ok')\n```"
    async with FakeAPI(api_key=KEY, brain=await scripted_planner([broken, fixed])) as api:
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        from fanflow._models import resolve_model

        lead = resolve_model("anthropic:claude-opus-4-8")
        async with Sandbox() as sandbox:
            plan = await make_plan("do it", lead, Workspace(REPO), sandbox)
        await lead.aclose()
        second = api.requests[1].body
    assert plan.attempts == 2 and "spawn('general', 'ok')" in plan.script
    feedback = second["messages"][-1]["content"]
    feedback = feedback if isinstance(feedback, str) else feedback[0]["text"]
    assert "does not check" in feedback and "Expected `str`" in feedback
    assert second["output_config"] == {"effort": "xhigh"}


async def test_a_lead_model_that_never_fixes_it_fails_clearly_after_3_attempts(tmp_path):
    broken = "```python\nr = await spwan('general', 'x')\n```"
    async with FakeAPI(api_key=KEY, brain=await scripted_planner([broken])) as api:
        code, _, err = await fanflow_on(
            api,
            tmp_path,
            "plan",
            "do it",
            "--model",
            "anthropic:claude-opus-4-8",
        )
        attempts = len(api.requests)
    assert code == 2
    assert "wrote no script that checks in 3 attempts" in err.decode()
    assert "`spwan` used when not defined" in err.decode()
    assert attempts == 3 and "Traceback" not in err.decode()


async def test_do_plans_runs_and_reports_on_anthropic_against_the_fake_api(tmp_path, workspace):
    # the test model behind the fake API plays both the lead model and the agents
    async with FakeAPI(api_key=KEY, brain=TestModel()) as api:
        code, out, err = await fanflow_on(
            api,
            tmp_path,
            "do",
            "describe each file",
            "--model",
            "anthropic:claude-opus-4-8",
            "--workspace",
            str(workspace),
            "--yes",
            "--json",
        )
    assert code == 0, err.decode()
    report = json.loads(out)
    assert report["status"] == "succeeded" and report["model"] == "anthropic:claude-opus-4-8"
    # 4 files + merge
    assert report["agents"] == {"spawned": 5, "succeeded": 5, "failed": 0, "retried": 0}
    assert report["phases"][0]["name"] == "plan"  # the lead model's spend is in the report
    assert report["phases"][0]["input_tokens"] > 0
    shown = fanflow("show", report["run_id"], "--script", env={"FANFLOW_HOME": str(tmp_path)})
    assert shown.stdout.startswith('meta = {"name": "test-plan"')


def test_plan_on_test_writes_a_checked_fan_out_over_the_workspace_files(tmp_path, workspace):
    proc = fanflow(
        "plan", "summarize each file", *TEST, "--workspace", str(workspace), "--json",
        env={"FANFLOW_HOME": str(tmp_path)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    planned = json.loads(proc.stdout)
    assert planned["attempts"] == 1 and 'tools.glob("**/*")' in planned["script"]
    assert "summarize each file" in planned["script"]


def test_do_on_test_runs_end_to_end_one_agent_per_file(tmp_path, workspace):
    proc = fanflow(
        "do", "summarize each file", *TEST, "--workspace", str(workspace), "--yes", "--json",
        env={"FANFLOW_HOME": str(tmp_path)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["status"] == "succeeded" and report["model"] == "test"
    assert report["scripted"].startswith("model test is scripted")
    assert [p["name"] for p in report["phases"]] == ["plan", "units", "merge"]
    assert report["agents"] == {"spawned": 5, "succeeded": 5, "failed": 0, "retried": 0}
    assert report["result"]["summary"].startswith("test model answer")
    answers = report["result"]["answers"]
    assert sorted(answers) == ["README.md", "src/a.py", "src/b.py", "src/c.py"]
    assert all(answer.endswith(f"read {path}.") for path, answer in answers.items())


async def test_a_task_that_does_not_split_is_answered_directly(tmp_path):
    brain = await scripted_planner(["ANSWER: Queues wait / one by one the tasks move on."])
    async with FakeAPI(api_key=KEY, brain=brain) as api:
        code, out, err = await fanflow_on(
            api, tmp_path, "do", "write a haiku about queues", "--model",
            "anthropic:claude-opus-4-8", "--json", "--yes",
        )  # fmt: skip
    assert code == 0, err.decode()
    report = json.loads(out)
    assert report["agents"]["spawned"] == 0
    assert report["result"] == "Queues wait / one by one the tasks move on."


def test_planned_run_without_yes_and_no_terminal_is_refused(tmp_path, workspace):
    proc = fanflow(
        "do", AUDIT_TASK, *TEST, "--workspace", str(workspace), "--json",
        env={"FANFLOW_HOME": str(tmp_path)},
    )  # fmt: skip
    assert proc.returncode == 3
    report = json.loads(proc.stdout)
    assert report["status"] == "refused" and report["agents"]["spawned"] == 0
    assert "pass --yes" in proc.stderr + json.dumps(report)


async def test_estimate_over_budget_refuses_with_zero_subagent_calls(tmp_path):
    async with FakeAPI(api_key=KEY, brain=TestModel()) as api:
        code, out, err = await fanflow_on(
            api,
            tmp_path,
            "run",
            str(EXAMPLE),
            "--model",
            "anthropic:claude-opus-4-8",
            "--budget",
            "10k",
            "--json",
        )
        calls = len(api.requests)
    assert code == 3
    report = json.loads(out)
    assert report["status"] == "refused"
    assert "over the budget of 10,000 by" in report["errors"][-1]["error"]
    assert "over the budget" in err.decode()  # the card shows by how much
    assert calls == 0


def test_dry_run_prints_the_card_and_calls_no_model(tmp_path):
    proc = fanflow("run", str(EXAMPLE), *TEST, "--dry-run", env={"FANFLOW_HOME": str(tmp_path)})
    assert proc.returncode == 0
    for needle in ("audit", "review", "report", "total", "Assumptions", "no prompt-cache"):
        assert needle in proc.stdout
    estimate = json.loads(
        fanflow(
            "run", str(EXAMPLE), *TEST, "--dry-run", "--json", env={"FANFLOW_HOME": str(tmp_path)}
        ).stdout
    )
    assert [p["name"] for p in estimate["phases"]] == ["audit", "review", "report"]
    assert estimate["complete"] and estimate["assumptions"]
    assert "no runs yet" in fanflow("ls", env={"FANFLOW_HOME": str(tmp_path)}).stdout


async def test_budget_stops_spawning_mid_run_and_resume_with_more_finishes():
    async def model(req):
        await asyncio.sleep(0)
        return ModelResponse(text='{"ok": 1}', usage=Usage(input_tokens=800, output_tokens=200))

    journal = Journal()
    fake = {"fake": FunctionModel(model, name="fake")}
    script = "await gather([spawn('general', f'u{i}', tools=[]) for i in range(50)])"
    report = await run(  # each call reserves ~10.5k: its input bound + 8,000 max_tokens
        script, model=fake["fake"], journal=journal, budget_tokens=20_000, concurrency=4
    )
    assert report["status"] == "budget_exceeded"
    spent = sum(report["usage"][k] for k in ("input_tokens", "output_tokens"))
    assert 1000 <= spent <= 20_000  # a ceiling: never more than the budget
    assert any("token budget of 20,000 reached" in e["error"] for e in report["errors"])
    resumed = prepare_resume(journal, report["run_id"], fake, budget_tokens=100_000)
    async with Sandbox() as sandbox:
        final = await resumed.execute(sandbox)
    assert final["status"] == "succeeded"
    assert final["agents"] == {"spawned": 50, "succeeded": 50, "failed": 0, "retried": 0}
    assert sum(final["usage"][k] for k in ("input_tokens", "output_tokens")) == 50 * 1000


# How many units there are is an agent's answer, which the estimate can only guess (it
# takes an early point of the range: 4); on `test` this prompt's hash answers 35, so the
# run spends several times the estimate and meets the budget mid-run.
DYNAMIC = """
n = await spawn("general", "How many parts?", schema={
    "type": "integer", "minimum": 0, "maximum": 40})
await gather([spawn("general", f"Part {i}: " + "many words " * 200) for i in range(n)])
"""


def test_budget_reached_exits_3_from_the_cli(tmp_path):
    script = tmp_path / "dynamic.py"
    script.write_text(DYNAMIC)
    env = {"FANFLOW_HOME": str(tmp_path)}
    estimate = json.loads(fanflow("run", str(script), *TEST, "--dry-run", "--json", env=env).stdout)
    # a ceiling: the budget must hold a call's worst case (input bound + 8,000 max_tokens)
    budget = 2 * (estimate["input_tokens"] + estimate["output_tokens"]) + 15_000
    proc = fanflow("run", str(script), *TEST, "--budget", str(budget), "--json", env=env)
    report = json.loads(proc.stdout)
    assert proc.returncode == 3 and report["status"] == "budget_exceeded", report["errors"]
    assert 1 < report["agents"]["succeeded"] < 36  # stopped before the last parts ran


@pytest.mark.parametrize("answer,status", [("d\n", "refused"), ("o\n", "succeeded")])
def test_approval_card_once_and_deny(tmp_path, monkeypatch, answer, status, capsys):
    from fanflow._cli import _approval

    monkeypatch.setattr(_approval, "interactive", lambda: True)
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(answer))
    from fanflow._cli import invoke

    code = invoke(["run", str(EXAMPLE), *TEST, "--json"])
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["status"] == status and code == (3 if status == "refused" else 0)


def test_always_is_remembered_per_workspace_and_script(tmp_path, monkeypatch, capsys):
    from fanflow._cli import _approval, invoke

    monkeypatch.setattr(_approval, "interactive", lambda: True)
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("a\n"))
    assert invoke(["run", str(EXAMPLE), *TEST, "--json"]) == 0
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(""))  # an empty answer is deny
    assert invoke(["run", str(EXAMPLE), *TEST, "--json"]) == 0  # not asked again
    other = tmp_path / "other.py"
    shutil.copy(EXAMPLE, other)
    other.write_text(EXAMPLE.read_text() + "\n# changed\n")
    assert invoke(["run", str(other), *TEST, "--json"]) == 3  # a different script is asked again
    capsys.readouterr()


def rewriter(req):
    """An agent that reads the file its prompt names, rewrites it, then says what it did."""
    done = {c.name for m in req.messages for c in m.tool_calls}
    if "read" not in done:
        path = req.messages[0].text.split()[1]
        return ModelResponse(tool_calls=[ToolCall("r", "read", {"path": path})])
    if "write" not in done:
        path, text = next(
            (c.input["path"], r.content)
            for m in req.messages
            for c in m.tool_calls
            for n in req.messages
            for r in n.tool_results
            if c.name == "read" and r.call_id == c.id
        )
        return ModelResponse(tool_calls=[ToolCall("w", "write", {"path": path, "text": text})])
    return " ".join(["done"] * 240)  # about the 300 tokens the estimate assumes


REWRITE = """
files = await tools.glob("src/*.py")
phase("rewrite")
await gather([spawn("general", f"Rewrite {f} in place.", tools=["read", "write"]) for f in files])
"""


@pytest.mark.parametrize("example", ["race_audit", "rewrite"])
async def test_estimate_is_within_30_percent_of_actual_tokens(example, workspace, monkeypatch):
    """The audit on `test`; the rewrite on anthropic against the fake API, whose agents
    read, rewrite and answer as the estimate assumes (the fake API counts the tokens)."""
    if example == "race_audit":
        script, root, name = EXAMPLE.read_text(), str(REPO), "test"
        return await check_estimate(script, root, name)
    for f in (workspace / "src").iterdir():
        f.write_text(f.read_text() * 40)
    async with FakeAPI(api_key=KEY, brain=FunctionModel(rewriter)) as api:
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        await check_estimate(REWRITE, str(workspace), "anthropic:claude-opus-4-8")


async def check_estimate(script, root, name):
    run_ = Run(script, RunOptions(workspace=root, model=name), Journal(":memory:"))
    async with Sandbox() as sandbox:
        await run_.check(sandbox)
        estimate = await run_.estimate(sandbox)
        actual = await run_.execute(sandbox)
    estimated = estimate["input_tokens"] + estimate["output_tokens"]
    real = sum(
        actual["usage"][k]
        for k in (
            "input_tokens",
            "output_tokens",
            "cache_read_input_tokens",
            "cache_creation_input_tokens",
        )
    )
    assert actual["status"] == "succeeded", actual["errors"]
    assert actual["agents"]["spawned"] > 1 and estimate["agents"] > 1
    assert abs(estimated - real) / real <= 0.30, (estimated, real)


def test_budget_over_by_messages():
    budget = Budget(tokens=1000, usd=1.0)
    assert "by 500" in budget.over_by(1500, 0.5)
    assert "by $1.00" in budget.over_by(500, 2.0)
    assert "no dollar figure" in budget.over_by(500, None)
    assert budget.over_by(500, 0.5) is None


def test_do_checks_its_run_options_before_the_lead_model_is_called(tmp_path):
    proc = fanflow(
        "do", AUDIT_TASK, *TEST, "--concurrency", "0", env={"FANFLOW_HOME": str(tmp_path)}
    )
    assert proc.returncode == 2
    assert "--concurrency must be at least 1 (got 0)" in proc.stderr
