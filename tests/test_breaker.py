"""Issue 15 item 3: failures that stop a run trip a run-wide breaker (DESIGN §8).

Through the real SDKs against the fake API, which answers each account failure
in its provider's own wire format (status, JSON body, headers). After the
first such answer no agent starts and no request is sent; the run ends
`paused` with the cause in one line, resumable, and no stopped agent counts
as failed. Counts, not clocks: "stops fast" is shown by how few requests and
attempts were made.
"""

from __future__ import annotations

import re
import socket

import pytest
from fakeapi import FakeAPI, Faults
from helpers import EXAMPLE, REPO, run

from fanflow import AccountStop, RetryableModelError, resume
from fanflow._journal import Journal
from fanflow._models._resilience import REFUSALS_TO_STOP, classify

KEY = "sk-test-breaker-0123456789abcdef"
ANTHROPIC = "anthropic:claude-sonnet-4-6"
OPENAI = "openai:gpt-5-mini"
# one agent first, so the provider has answered before the fan-out (a key that worked, then
# stopped working, is a revoked key, not a wrong one)
FAN_OUT = (
    "first = await spawn('general', 'warm up', tools=[])\n"
    "r = await gather([spawn('general', f'u{i}', tools=[]) for i in range(60)])\n"
    "await synthesize([x for x in r if x])"
)
CONCURRENCY = 8
ANSWERED = 5


@pytest.fixture
async def api(monkeypatch):
    async with FakeAPI(api_key=KEY) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
        yield server


def _calls(api: FakeAPI) -> list:
    return [r for r in api.requests if r.path in ("/v1/messages", "/v1/chat/completions")]


CASES = [
    (ANTHROPIC, "credit", "credit balance is too low"),
    (ANTHROPIC, "usage_limit", "usage limits"),
    (ANTHROPIC, "spend_limit", "monthly spend limit"),
    (ANTHROPIC, "billing", "billing"),
    (ANTHROPIC, "revoked", "refused the API key (401)"),
    (ANTHROPIC, "forbidden", "refused the API key (403)"),
    (OPENAI, "credit", "exceeded your current quota"),
    (OPENAI, "spend_limit", "monthly spend limit"),
    (OPENAI, "billing", "not active"),
    (OPENAI, "revoked", "refused the API key (401)"),
]


@pytest.mark.parametrize(("model", "kind", "said"), CASES)
async def test_an_account_failure_pauses_the_run_and_sends_nothing_more(api, model, kind, said):
    api.faults = Faults(latency=0.02, account=kind, account_after=ANSWERED)
    journal = Journal()
    report = await run(FAN_OUT, model_name=model, concurrency=CONCURRENCY, journal=journal)
    calls = _calls(api)
    refused = [i for i, r in enumerate(calls) if r.fault == "account"]
    assert refused, "the fake never refused"
    # only requests already in flight when the first refusal came back, then nothing
    assert len(calls) - refused[0] - 1 <= CONCURRENCY - 1
    assert all(r.fault == "account" for r in calls[refused[0] :])  # no retry got through
    assert report["status"] == "paused"
    cause = report["errors"][-1]["error"]
    assert said in cause and "fanflow resume" in cause and "\n" not in cause
    agents = journal.agents(report["run_id"])
    assert not [a for a in agents if a["status"] == "failed"]  # stopped, not failed
    assert report["agents"]["failed"] == 0
    assert sum(a["status"] == "succeeded" for a in agents) == ANSWERED
    assert not [a for a in agents if a["label"] == "synthesis"]  # the synthesizer never ran


async def test_a_short_429_over_a_rate_limit_is_retried_not_a_stop(api):
    # the same words without an account limit: a plain rate limit, which retries get past
    api.faults = Faults(p_429=0.3, seed=3, retry_after=0.01)
    report = await run(FAN_OUT, model_name=ANTHROPIC, concurrency=CONCURRENCY)
    assert report["status"] == "succeeded"


def test_a_spend_limit_429_with_a_short_retry_after_is_a_rate_limit():
    class Refusal(Exception):
        def __init__(self, retry_after: str) -> None:
            self.status_code = 429
            self.body = {"error": {"message": "monthly spend limit reached", "type": "x"}}
            self.response = type("R", (), {"headers": {"retry-after": retry_after}})()

    short = classify(Refusal("30"), provider="Anthropic", model="m", key_var="K")
    assert type(short) is RetryableModelError
    long = classify(Refusal("7200"), provider="Anthropic", model="m", key_var="K")
    assert type(long) is AccountStop


async def test_a_key_wrong_from_the_start_still_fails_as_a_bad_key(api):
    api.faults = Faults(account="revoked", account_after=0)
    report = await run(FAN_OUT, model_name=ANTHROPIC, concurrency=4)
    assert report["status"] == "failed"  # never worked: a wrong key, not a revoked one
    assert "check ANTHROPIC_API_KEY" in report["errors"][-1]["error"]
    assert len(_calls(api)) <= 4


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("model", "var", "suffix"),
    [(ANTHROPIC, "ANTHROPIC_BASE_URL", ""), (OPENAI, "OPENAI_BASE_URL", "/v1")],
)
async def test_a_closed_port_pauses_after_three_refusals(monkeypatch, model, var, suffix):
    port = _closed_port()
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv(var, f"http://127.0.0.1:{port}{suffix}")
    journal = Journal()
    report = await run(FAN_OUT, model_name=model, concurrency=CONCURRENCY, journal=journal)
    assert report["status"] == "paused"
    cause = report["errors"][-1]["error"]
    assert f"cannot reach 127.0.0.1:{port} (connection refused) after 3 tries" in cause
    assert var in cause
    agents = journal.agents(report["run_id"])
    assert not [a for a in agents if a["status"] == "failed"]
    # 3 refusals in a row stop it: at most the agents already trying, never 10 tries each
    assert sum(a["attempts"] for a in agents) <= REFUSALS_TO_STOP + CONCURRENCY
    assert not [a for a in agents if a["label"] == "synthesis"]


async def test_a_paused_run_resumes_without_paying_again(api, tmp_path):
    api.faults = Faults(account="credit", account_after=ANSWERED)
    journal = Journal(tmp_path / "j.db")
    options = {"model_name": ANTHROPIC, "concurrency": CONCURRENCY, "workspace": str(REPO)}
    first = await run(FAN_OUT, journal=journal, **options)
    assert first["status"] == "paused"
    paid = len([r for r in _calls(api) if r.status == 200])
    assert paid == ANSWERED
    api.faults = Faults()  # credit bought
    second = await resume(first["run_id"], journal=journal)
    assert second["status"] == "succeeded", second["errors"]
    answered_again = len([r for r in _calls(api) if r.status == 200]) - paid
    assert answered_again == 61 - ANSWERED + 1  # the rest and the synthesis, nothing twice


async def test_the_synthesizer_does_not_run_when_every_agent_before_it_failed(api):
    api.faults = Faults(fail_status=400)  # every agent fails on its own, no account stop
    journal = Journal()
    script = FAN_OUT.split("\n", 1)[1]  # no warm-up: its failure would end the script first
    report = await run(script, model_name=ANTHROPIC, concurrency=CONCURRENCY, journal=journal)
    assert report["status"] == "failed"
    agents = journal.agents(report["run_id"])
    assert not [a for a in agents if a["label"] == "synthesis"]
    assert len(_calls(api)) == 60  # one per agent, none for a synthesis of nothing
    assert "synthesize() not run" in " ".join(e["error"] for e in report["errors"])


def _sections(result: str) -> dict[str, set[str]]:
    """The claim ids under each heading of the race-audit report."""
    found: dict[str, set[str]] = {}
    heading = "confirmed"
    for line in result.splitlines():
        if line.startswith("## "):
            heading = line[3:].split(":")[0].split(" by ")[0].lower()
        found.setdefault(heading, set()).update(re.findall(r"^- \[(\w+\d)\]", line))
    return found


@pytest.mark.parametrize("via", ["plugin", "model"])
async def test_race_audit_shows_claims_whose_reviewer_could_not_run_as_unverified(monkeypatch, via):
    from race_oracle import OracleModel

    from fanflow import RunOptions
    from fanflow._run import execute_script

    down = {"R4", "FP2"}  # a real bug and a false positive, both weak, both reviewed
    if via == "plugin":
        monkeypatch.setenv("RACE_ORACLE_UNREACHABLE", ",".join(sorted(down)))
        report = await run(EXAMPLE.read_text(), model_name="race-oracle")
    else:
        report = await execute_script(
            EXAMPLE.read_text(),
            RunOptions(model="race-oracle", workspace=str(REPO)),
            journal=Journal(),
            models={"race-oracle": OracleModel(unreachable=frozenset(down))},
        )
    assert report["status"] == "partial"
    result = report["result"]
    assert result.startswith("# Report: 4 confirmed finding(s), 2 refuted, 2 unverified")
    sections = _sections(result)
    assert sections["unverified"] == down
    assert not down & sections["refuted"]  # never counted as refuted
    assert not down & sections["confirmed"]  # nor as confirmed
    assert sections["refuted"] == {"FP1", "FP3"}


def test_the_cli_exits_3_with_the_cause_in_one_line_and_show_says_paused(tmp_path):
    import json
    import os
    import subprocess
    import sys

    port = _closed_port()
    env = {
        **os.environ,
        "ANTHROPIC_API_KEY": KEY,
        "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port}",
        "FANFLOW_HOME": str(tmp_path / "home"),
    }
    script = tmp_path / "w.py"
    script.write_text(FAN_OUT + "\n")

    def fanflow(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "fanflow", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )

    proc = fanflow("run", str(script), "--model", ANTHROPIC, "--yes", "--json")
    assert proc.returncode == 3, proc.stderr
    report = json.loads(proc.stdout)
    assert report["status"] == "paused"
    assert (
        f"cannot reach 127.0.0.1:{port} (connection refused) after 3 tries"
        in (report["errors"][-1]["error"])
    )
    shown = fanflow("show", report["run_id"])
    assert "paused" in shown.stdout and f"127.0.0.1:{port}" in shown.stdout


@pytest.mark.parametrize("kind", ["credit", "usage_limit", "spend_limit", "revoked", "billing"])
async def test_the_fake_answers_account_failures_in_each_providers_wire_format(api, kind):
    import anthropic
    import openai

    api.faults = Faults(account=kind)
    claude = anthropic.AsyncAnthropic(api_key=KEY, base_url=api.url, max_retries=0)
    with pytest.raises(anthropic.APIStatusError) as caught:
        await claude.messages.create(
            model="claude-sonnet-4-6", max_tokens=10, messages=[{"role": "user", "content": "x"}]
        )
    error = caught.value
    status = {"credit": 400, "usage_limit": 400, "spend_limit": 429, "revoked": 401}
    assert error.status_code == status.get(kind, 402)
    assert error.body["type"] == "error" and set(error.body["error"]) == {"type", "message"}
    assert error.response.headers["request-id"].startswith("req_")
    if kind == "spend_limit":
        assert float(error.response.headers["retry-after"]) >= 3600
    else:
        assert error.response.headers["x-should-retry"] == "false"
    await claude.close()

    gpt = openai.AsyncOpenAI(api_key=KEY, base_url=api.url + "/v1", max_retries=0)
    with pytest.raises(openai.APIStatusError) as caught:
        await gpt.chat.completions.create(
            model="gpt-5-mini", messages=[{"role": "user", "content": "x"}]
        )
    error = caught.value
    assert error.status_code == (401 if kind == "revoked" else 429)
    assert set(error.body) == {"message", "type", "param", "code"}  # the SDK unwraps "error"
    assert error.response.headers["x-request-id"]
    if kind in ("credit", "usage_limit"):
        assert error.body["code"] == error.body["type"] == "insufficient_quota"
    await gpt.close()


async def test_the_race_audit_pauses_on_an_exhausted_account_without_its_synthesis(monkeypatch):
    from race_oracle import OracleModel

    async with FakeAPI(api_key=KEY, brain=OracleModel()) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        server.faults = Faults(account="credit", account_after=6)
        journal = Journal()
        report = await run(EXAMPLE.read_text(), model_name=ANTHROPIC, journal=journal)
    assert report["status"] == "paused"
    agents = journal.agents(report["run_id"])
    assert not [a for a in agents if a["status"] == "failed"]
    assert not [a for a in agents if a["agent_type"] == "synthesizer"]
    assert report["result"] is None  # no report of half an audit
