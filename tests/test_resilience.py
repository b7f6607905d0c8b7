"""The retry policy's pieces: error classification, server wait advice, the shared gate."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sys
import time

import pytest
from fakeapi import FakeAPI, Faults
from helpers import EXAMPLE, REPO
from race_oracle import OracleModel

from fanflow._models._resilience import (
    FatalModelError,
    RetryableModelError,
    SharedBackoff,
    classify,
    retry_after,
    window_reset,
    with_retries,
)


class FakeStatusError(Exception):
    def __init__(self, status: int, headers: dict | None = None, message: str = "nope"):
        super().__init__(message)
        self.status_code = status
        self.body = {"error": {"message": message}}
        self.response = type("R", (), {"headers": headers or {}})()


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (429, RetryableModelError),
        (529, RetryableModelError),
        (500, RetryableModelError),
        (503, RetryableModelError),
        (408, RetryableModelError),
        (401, FatalModelError),
        (403, FatalModelError),
        (404, FatalModelError),
    ],
)
def test_classify_by_status(status, kind):
    error = classify(
        FakeStatusError(status), provider="Anthropic", model="m", key_var="ANTHROPIC_API_KEY"
    )
    assert type(error) is kind


def test_other_4xx_is_a_plain_agent_failure_with_the_api_message():
    error = classify(
        FakeStatusError(400, message="messages: roles must alternate"),
        provider="OpenAI",
        model="m",
        key_var="OPENAI_API_KEY",
    )
    assert type(error).__name__ == "ModelError"
    assert str(error) == "OpenAI API 400: messages: roles must alternate"


def test_connection_errors_are_retryable():
    class APIConnectionError(Exception):
        pass

    assert isinstance(
        classify(APIConnectionError("reset"), provider="A", model="m", key_var="K"),
        RetryableModelError,
    )


def test_retry_after_prefers_ms_then_seconds_then_exhausted_window():
    assert retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after({"retry-after": "2"}) == 2.0
    reset = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3)).isoformat()
    waited = retry_after(
        {"anthropic-ratelimit-requests-remaining": "0", "anthropic-ratelimit-requests-reset": reset}
    )
    assert 2.0 < waited <= 3.0
    assert (
        window_reset(
            {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1m6.5s"}
        )
        == 66.5
    )
    assert window_reset({"x-ratelimit-remaining-requests": "5"}) is None


async def test_shared_backoff_holds_every_caller():
    now = [100.0]
    gate = SharedBackoff(clock=lambda: now[0])
    gate.hold(0.05)
    gate.hold(0.01)  # a shorter hold never shortens the longer one
    assert gate._until == pytest.approx(100.05)
    now[0] = 100.06
    await asyncio.wait_for(gate.wait(), 1)  # past the hold: returns at once


async def test_with_retries_retries_only_retryable_errors_and_counts_them():
    calls, retries = [], []

    async def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise RetryableModelError("busy", retry_after=0.001)
        return "ok"

    assert await with_retries(flaky, SharedBackoff(), lambda: retries.append(1)) == "ok"
    assert len(calls) == 3 and len(retries) == 2

    async def fatal():
        calls.append(1)
        raise FatalModelError("bad key")

    calls.clear()
    with pytest.raises(FatalModelError):
        await with_retries(fatal, SharedBackoff())
    assert len(calls) == 1


async def test_a_429_holds_the_other_agents_too():
    async with FakeAPI(
        api_key="k" * 12, faults=Faults(max_in_flight=2, retry_after=0.2, latency=0.05)
    ) as api:
        os.environ.update(ANTHROPIC_API_KEY="k" * 12, ANTHROPIC_BASE_URL=api.url)
        try:
            from helpers import run

            start = time.perf_counter()
            report = await run(
                "await gather([spawn('general', f'u{i}', tools=[]) for i in range(8)])",
                model_name="anthropic:claude-sonnet-4-6",
                concurrency=8,
            )
            elapsed = time.perf_counter() - start
        finally:
            del os.environ["ANTHROPIC_API_KEY"], os.environ["ANTHROPIC_BASE_URL"]
    assert report["status"] == "succeeded"
    refused = api.count(status=429)
    # every refused agent waited out retry-after, then all eight finished
    assert refused >= 1
    assert len(api.requests) == 8 + refused
    assert elapsed >= 0.2


async def test_cli_runs_the_example_on_anthropic_against_the_fake_api(tmp_path):
    key = "sk-cli-test-abcdefgh"
    async with FakeAPI(api_key=key, brain=OracleModel()) as api:  # the example's answers
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "fanflow",
            "run",
            str(EXAMPLE),
            "--model",
            "anthropic:claude-opus-4-8",
            "--json",
            cwd=REPO,
            env={
                **os.environ,
                "ANTHROPIC_API_KEY": key,
                "ANTHROPIC_BASE_URL": api.url,
                "FANFLOW_HOME": str(tmp_path),
            },
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    report = json.loads(out)
    assert report["status"] == "succeeded"
    assert report["result"].startswith("# Report: 5 confirmed finding(s), 3 refuted")
    assert report["usage"]["cost_usd"] > 0  # priced from the published table (_pricing)
    assert key not in out.decode() + err.decode()
    assert key.encode() not in b"".join(p.read_bytes() for p in tmp_path.glob("fanflow.db*"))


async def refusals(adaptive: bool) -> tuple[int, dict, list]:
    from fanflow import Limits
    from fanflow._journal import Journal

    journal = Journal()
    async with FakeAPI(
        api_key="k" * 12, faults=Faults(max_in_flight=4, retry_after=0.02, latency=0.03)
    ) as api:
        os.environ.update(ANTHROPIC_API_KEY="k" * 12, ANTHROPIC_BASE_URL=api.url)
        try:
            from helpers import run

            report = await run(
                "await gather([spawn('general', f'u{i}', tools=[]) for i in range(60)])",
                model_name="anthropic:claude-sonnet-4-6",
                limits=Limits(adaptive=adaptive),
                journal=journal,
            )
        finally:
            del os.environ["ANTHROPIC_API_KEY"], os.environ["ANTHROPIC_BASE_URL"]
        events = journal.events_of_kind(report["run_id"], "concurrency")
        return api.count(status=429), report, events


async def test_adaptive_concurrency_backs_off_to_what_the_provider_takes():
    fixed_429s, fixed, _ = await refusals(adaptive=False)
    adaptive_429s, adaptive, events = await refusals(adaptive=True)
    assert fixed["status"] == adaptive["status"] == "succeeded"
    assert adaptive["agents"]["succeeded"] == 60
    assert adaptive_429s < 0.8 * fixed_429s, (adaptive_429s, fixed_429s)
    assert any("in-flight limit 11 (Anthropic API 429" in e["message"] for e in events)


def test_adaptive_limit_halves_on_pressure_and_creeps_back():
    from fanflow._models._pressure import AdaptiveLimit

    changes = []
    limit = AdaptiveLimit(16, lambda n, why: changes.append(n))
    limit._decrease("429", window=0)
    limit._decrease("429", window=0)  # sent under the old limit: counted once
    assert limit.current == 11  # 16 x 0.7
    limit._decrease("429", window=1)
    assert limit.current == 7
    for _ in range(30):
        limit._increase()
    assert limit.current == 10  # quickly back towards 11, where it was refused
    for _ in range(30):
        limit._increase()
    assert limit.current == 10  # past it, probing is slow
    assert changes[:2] == [11, 7]


def test_a_429_with_budget_left_holds_only_the_refused_call():
    from fanflow._models._resilience import budget_left

    plenty = {
        "anthropic-ratelimit-requests-remaining": "900",
        "anthropic-ratelimit-tokens-remaining": "40000",
        "retry-after": "1",
    }
    assert budget_left(plenty)
    assert not budget_left({**plenty, "anthropic-ratelimit-tokens-remaining": "0"})
    assert not budget_left({"retry-after": "1"})  # nothing said: assume the shared budget
    assert not budget_left({"x-ratelimit-remaining-requests": "soon"})

    def error_for(headers):
        return classify(FakeStatusError(429, headers), provider="A", model="m", key_var="K")

    assert error_for(plenty).shared is False  # e.g. a limit on concurrent calls
    assert error_for({"retry-after": "1"}).shared is True
