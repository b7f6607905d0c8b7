"""Request pacing by rate-limit headers, and the fake API's token-bucket rate limit."""

from __future__ import annotations

import os

import anthropic
import pytest
from fakeapi import FakeAPI, Faults

from fanflow._models._pressure import RequestPacer, request_window

ANTHROPIC = {
    "anthropic-ratelimit-requests-limit": "600",  # 10 a second
    "anthropic-ratelimit-requests-remaining": "2",
}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_request_window_reads_both_apis_and_ignores_junk():
    assert request_window(ANTHROPIC) == (600, 2)
    openai = {"x-ratelimit-limit-requests": "60", "x-ratelimit-remaining-requests": "0"}
    assert request_window(openai) == (60, 0)
    assert request_window({}) is None
    assert request_window({**ANTHROPIC, "anthropic-ratelimit-requests-limit": "lots"}) is None
    assert request_window({**ANTHROPIC, "anthropic-ratelimit-requests-limit": "0"}) is None


def test_pacer_adds_nothing_until_a_provider_has_spoken():
    pacer = RequestPacer(Clock())
    assert not pacer.active
    assert [pacer.reserve() for _ in range(100)] == [0.0] * 100


def test_pacer_spends_what_remains_then_spaces_sends_at_the_refill_rate():
    clock = Clock()
    pacer = RequestPacer(clock)
    pacer.observe(ANTHROPIC)
    assert pacer.reserve() == 0 and pacer.reserve() == 0  # the two that remain
    assert pacer.reserve() == pytest.approx(0.1)  # then one every 1/10 s, queued in order
    assert pacer.reserve() == pytest.approx(0.2)
    clock.now += 1.0  # a quiet second refills the bucket, but never past what it held
    # (the answer's own request was already taken from it: it holds remaining + 1)
    assert [pacer.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert pacer.reserve() > 0


def test_an_answer_lowers_the_count_but_a_stale_one_never_raises_it():
    clock = Clock()
    pacer = RequestPacer(clock)
    pacer.observe({**ANTHROPIC, "anthropic-ratelimit-requests-remaining": "5"})
    pacer.observe({**ANTHROPIC, "anthropic-ratelimit-requests-remaining": "0"})  # another client
    assert pacer.reserve() == pytest.approx(0.0, abs=1e-9)  # < 1 token of slack for rounding
    assert pacer.reserve() == pytest.approx(0.1)
    pacer.observe({**ANTHROPIC, "anthropic-ratelimit-requests-remaining": "5"})  # sent earlier
    assert pacer.reserve() > 0


async def test_fake_api_bucket_refuses_past_the_burst_and_says_when_to_retry():
    async with FakeAPI(api_key="k" * 12, faults=Faults(rpm=600, burst=2)) as api:
        client = anthropic.AsyncAnthropic(api_key="k" * 12, base_url=api.url, max_retries=0)
        params = {"model": "claude-sonnet-4-6", "max_tokens": 10}
        params["messages"] = [{"role": "user", "content": "hi"}]
        first = await client.messages.with_raw_response.create(**params)
        assert first.headers["anthropic-ratelimit-requests-limit"] == "600"
        assert first.headers["anthropic-ratelimit-requests-remaining"] == "1"
        await client.messages.create(**params)
        with pytest.raises(anthropic.RateLimitError) as refused:
            await client.messages.create(**params)
        headers = refused.value.response.headers
        assert 0 < int(headers["retry-after-ms"]) <= 100
        assert headers["anthropic-ratelimit-requests-remaining"] == "0"
        await client.close()
    assert Faults(rpm=60, burst=1).burst == 1
    with pytest.raises(ValueError, match=r"burst needs Faults\.rpm"):
        Faults(burst=3)


async def test_a_rate_limited_run_paces_itself_instead_of_collecting_429s():
    """40 agents at concurrency 16 against 20 requests a second in bursts of 4.

    Only the first wave, sent before any answer said anything, meets refusals
    (16 - 4 = 12 at most); without pacing every wave of retries meets them too.
    """
    from helpers import run

    from fanflow._journal import Journal

    journal = Journal()
    faults = Faults(rpm=1200, burst=4, latency=0.05, retry_after=0)
    async with FakeAPI(api_key="k" * 12, faults=faults) as api:
        os.environ.update(ANTHROPIC_API_KEY="k" * 12, ANTHROPIC_BASE_URL=api.url)
        try:
            report = await run(
                "await gather([spawn('general', f'u{i}', tools=[]) for i in range(40)])",
                model_name="anthropic:claude-sonnet-4-6",
                journal=journal,
            )
        finally:
            del os.environ["ANTHROPIC_API_KEY"], os.environ["ANTHROPIC_BASE_URL"]
    assert report["agents"]["succeeded"] == 40
    assert api.count(status=429) <= 12, api.count(status=429)
    said = [e["message"] for e in journal.events_of_kind(report["run_id"], "concurrency")]
    assert any("pacing sends to 1,200 a minute" in m for m in said), said
    from fanflow._views import take_snapshot

    assert take_snapshot(journal, report["run_id"]).paced_per_minute == 1200


def test_a_refusal_measures_how_many_calls_the_provider_holds():
    from fanflow._models._pressure import AdaptiveLimit

    limit = AdaptiveLimit(16)
    limit.in_flight = 9  # the refused call and the 8 the provider kept
    limit._decrease("429", window=0)
    assert limit.current == 8
    limit.in_flight = 15  # a later refusal with most calls still in flight changes nothing
    limit._decrease("429", window=0)
    assert limit.current == 8
