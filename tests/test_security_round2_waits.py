"""Issue 14, class 11: no server can park an agent for longer than MAX_WAIT_S.

`retry-after: 10000000` once parked an agent for about 116 days. Every wait a
server's headers advise (retry-after, retry-after-ms, either API's rate-limit
reset) and the shared back-off hold are capped, and an ask over the cap is said
in the event log.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from fanflow._models import _pressure
from fanflow._models._pressure import AdaptiveLimit
from fanflow._models._registry import _limiter
from fanflow._models._resilience import (
    RetryableModelError,
    SharedBackoff,
    retry_after,
    with_retries,
)

_REAL_SLEEP = asyncio.sleep
MAX_WAIT_S = 60.0  # the documented cap (docs/SECURITY.md)


def test_the_cap_is_the_documented_one():
    assert _pressure.MAX_WAIT_S == MAX_WAIT_S


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float, *args: Any) -> None:
        self.sleeps.append(seconds)
        await _REAL_SLEEP(0)  # let other tasks reserve before time moves
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(asyncio, "sleep", fake.sleep)
    return fake


def _far_future() -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=365)).isoformat()


HEADERS = {
    "retry-after seconds": {"retry-after": "10000000"},
    "retry-after-ms": {"retry-after-ms": "1e12"},
    "retry-after inf": {"retry-after": "inf"},
    "retry-after 1e400": {"retry-after": "1e400"},
    "anthropic reset a year out": {
        "anthropic-ratelimit-requests-remaining": "0",
        "anthropic-ratelimit-requests-reset": _far_future(),
    },
    "openai reset 99999h": {
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "99999h59m",
    },
}


@pytest.mark.parametrize("name", list(HEADERS))
async def test_every_advised_wait_is_capped(name: str, clock: Clock):
    asked = retry_after(HEADERS[name])
    assert asked is not None and asked > MAX_WAIT_S
    backoff = SharedBackoff(clock=clock)
    told: list[float] = []
    backoff.on_capped = told.append
    calls = 0

    async def call() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise RetryableModelError("429: slow down", retry_after=asked, pressure=True)
        return "ok"

    assert await with_retries(call, backoff) == "ok"
    assert clock.sleeps and max(clock.sleeps) <= MAX_WAIT_S
    assert clock.now <= 3 * 2 * MAX_WAIT_S  # two retries, each: the hold and the retry wait
    assert told == [asked]  # said once, not once per retry


async def test_a_nan_retry_after_is_no_advice(clock: Clock):
    assert retry_after({"retry-after": "nan"}) is None
    backoff = SharedBackoff(clock=clock)
    backoff.hold(float("nan"))
    await backoff.wait()
    assert clock.now == 0.0


async def test_the_shared_hold_is_capped_for_every_waiting_call(clock: Clock):
    backoff = SharedBackoff(clock=clock)
    backoff.hold(10_000_000)
    await asyncio.gather(backoff.wait(), backoff.wait())
    assert len(clock.sleeps) == 2 and max(clock.sleeps) <= MAX_WAIT_S


async def test_pacing_never_sleeps_longer_than_the_cap(clock: Clock):
    backoff = SharedBackoff(clock=clock)
    # one request a minute and none left: a queue of sends would each wait minutes more
    backoff.observe({"x-ratelimit-limit-requests": "1", "x-ratelimit-remaining-requests": "0"})
    await asyncio.gather(*(backoff.pacer.pace() for _ in range(5)))
    assert clock.sleeps and max(clock.sleeps) <= MAX_WAIT_S


def test_an_ask_over_the_cap_reaches_the_run_events():
    said: list[tuple[int, str]] = []
    backoff = SharedBackoff()
    limiter = _limiter(
        "p", backoff, {}, lambda provider: AdaptiveLimit(8, lambda *a: said.append(a))
    )
    assert limiter is not None
    assert backoff.advised(10_000_000) == MAX_WAIT_S
    assert backoff.advised(20) == 20  # under the cap: nothing to say
    assert len(said) == 1
    limit, message = said[0]
    assert limit == 8
    assert "10,000,000 s" in message and f"at most {MAX_WAIT_S:.0f} s" in message


async def test_short_advice_is_still_followed(clock: Clock):
    backoff = SharedBackoff(clock=clock)
    calls = 0

    async def call() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RetryableModelError("429", retry_after=2.0, pressure=True)
        return "ok"

    await with_retries(call, backoff)
    assert clock.now >= 2.0
