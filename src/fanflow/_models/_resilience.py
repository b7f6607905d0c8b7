"""Retries, shared back-off and error mapping for real providers, in one place.

Both official SDKs raise the same shapes (`APIStatusError` with a status and
headers, `APIConnectionError`, `APITimeoutError`); `classify` maps them into
fanflow's errors by who can fix them:

    RetryableModelError  429, 408, 409, 5xx, 529, dropped connections, timeouts
    FatalModelError      401, 403 (the key), 404 (the model): stop the run
    ModelError           any other 4xx: this agent fails with the API's message

The SDKs' own retries are off (`max_retries=0`) so that one policy, with a
back-off shared by every agent of the run, decides: when one call is told to
wait (`retry-after`, or a refusal whose rate-limit window has nothing left),
all calls to that provider wait, instead of 16 agents stampeding into the same
429. Pacing sends so that refusals do not happen is `_pressure`'s job.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from .._errors import ModelError
from .._redact import redact
from ._pressure import MAX_WAIT_S, AdaptiveLimit, RequestPacer

T = TypeVar("T")

MAX_ATTEMPTS = 10
BASE_DELAY_S = 0.25
MAX_DELAY_S = 30.0


class RetryableModelError(ModelError):
    """A failure worth retrying; `retry_after` is the server's own advice, if any.

    `pressure` marks the provider pushing back (429, 529), which lowers the
    run's in-flight limit, unlike a dropped connection or a 500.
    """

    def __init__(
        self,
        message: str,
        retry_after: float | None = None,
        pressure: bool = False,
        shared: bool = True,
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.pressure = pressure
        self.shared = shared
        """Whether every call to the provider should wait `retry_after`, not just this one."""


class FatalModelError(ModelError):
    """A failure no retry or other agent can get past (bad key, unknown model)."""


class SharedBackoff:
    """A gate every call to one provider passes; any call can close it for a while.

    It also paces sends by the provider's rate-limit headers (`pacer`), which
    every answer, error or not, is shown to through `observe`.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._until = 0.0
        self.pacer = RequestPacer(clock)
        self.on_capped: Callable[[float], None] | None = None
        """Told what a server asked for when it asked for more than `MAX_WAIT_S`."""
        self._told = 0.0

    def observe(self, headers: Mapping[str, Any] | None) -> None:
        if headers:
            self.pacer.observe(headers)

    async def wait(self) -> None:
        # a loop, not an Event: another call may extend the hold while this one sleeps
        while (delay := self._until - self._clock()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(delay)

    def hold(self, seconds: float) -> None:
        self._until = max(self._until, self._clock() + capped(seconds))

    def advised(self, seconds: float) -> float:
        """A server-advised wait, capped; a longer ask is reported (once per new maximum)."""
        if seconds > MAX_WAIT_S and seconds > self._told:
            self._told = seconds
            if self.on_capped is not None:
                self.on_capped(seconds)
        return capped(seconds)


def capped(seconds: float) -> float:
    """`seconds` within [0, MAX_WAIT_S]; NaN counts as no advice."""
    if math.isnan(seconds):
        return 0.0
    return min(max(seconds, 0.0), MAX_WAIT_S)


def _wait(state: RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    advised = capped(getattr(exc, "retry_after", None) or 0.0)
    exponential = min(MAX_DELAY_S, BASE_DELAY_S * 2 ** (state.attempt_number - 1))
    return max(advised, random.uniform(exponential / 2, exponential))


async def with_retries(
    call: Callable[[], Awaitable[T]],
    backoff: SharedBackoff,
    on_retry: Callable[[], None] | None = None,
    limiter: AdaptiveLimit | None = None,
) -> T:
    """Run `call` until it succeeds, is not retryable, or `MAX_ATTEMPTS` are spent."""

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        asked = getattr(exc, "retry_after", None)
        if asked:
            backoff.advised(asked)  # reports an ask over the cap
            if getattr(exc, "shared", True):
                backoff.hold(asked)
        if on_retry is not None:
            on_retry()

    retrying = AsyncRetrying(
        retry=retry_if_exception_type(RetryableModelError),
        stop=stop_after_attempt(MAX_ATTEMPTS),
        wait=_wait,
        before_sleep=before_sleep,
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            await backoff.wait()
            if limiter is None:
                await backoff.pacer.pace()
                return await call()
            async with limiter.slot():
                await backoff.pacer.pace()
                return await call()
    raise AssertionError("unreachable: tenacity reraises the last error")


def classify(exc: Exception, *, provider: str, model: str, key_var: str) -> ModelError:
    """The fanflow error for an SDK exception (see the module docstring)."""
    status = getattr(exc, "status_code", None)
    if status is None:
        kind = "timed out" if "Timeout" in type(exc).__name__ else "connection failed"
        return RetryableModelError(f"{provider} request {kind}: {redact(str(exc))}")
    message = redact(_api_message(exc)) or f"HTTP {status}"
    headers = getattr(getattr(exc, "response", None), "headers", {}) or {}
    if status in (408, 409, 429) or status >= 500:
        return RetryableModelError(
            f"{provider} API {status}: {message}",
            retry_after(headers),
            pressure=status in (429, 529),
            shared=status != 429 or not budget_left(headers),
        )
    if status in (401, 403):
        return FatalModelError(
            f"{provider} refused the API key ({status}): {message}; check {key_var}"
        )
    if status == 404:
        return FatalModelError(
            f"{provider} has no model {model!r} (404): {message}; check the --model name"
        )
    return ModelError(f"{provider} API {status}: {message}")


def _api_message(exc: Exception) -> str:
    """The API's own message, on one line; an HTML error page is named, not pasted."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return " ".join(str(inner["message"]).split())[:500]
    text = str(getattr(exc, "message", "") or exc)
    if "<html" in text.lower() or "<!doctype" in text.lower():
        return "the server answered with an HTML page, not the API's JSON (a proxy or wrong URL?)"
    return " ".join(text.split())[:500]


_REMAINING = re.compile(r"^(anthropic-ratelimit-.*-remaining|x-ratelimit-remaining-.*)$")


def budget_left(headers: Mapping[str, Any]) -> bool:
    """Whether a 429's own rate-limit headers say requests and tokens remain.

    Then the refusal is not about the rate every call draws on (a limit on
    concurrent calls, say): the refused call waits its `retry-after`, the others
    go on, and the adaptive in-flight limit learns the ceiling. Without such
    headers nothing is known, and every call waits.
    """
    remaining = [v for k, v in headers.items() if _REMAINING.match(str(k).lower())]
    try:
        return bool(remaining) and all(int(v) > 0 for v in remaining)
    except ValueError:
        return False


def retry_after(headers: Mapping[str, Any]) -> float | None:
    """Seconds the server asked us to wait: retry-after(-ms), else an exhausted window's reset."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw is not None:
            try:
                seconds = float(raw) * scale
            except ValueError:
                continue
            if not math.isnan(seconds):  # "inf" parses; with_retries caps it like any ask
                return max(0.0, seconds)
    return window_reset(headers)


def window_reset(headers: Mapping[str, Any]) -> float | None:
    """When a rate-limit header says no requests remain, seconds until the window resets."""
    if headers.get("anthropic-ratelimit-requests-remaining") == "0":
        return _seconds_until(headers.get("anthropic-ratelimit-requests-reset"))
    if headers.get("x-ratelimit-remaining-requests") == "0":
        return _duration(headers.get("x-ratelimit-reset-requests"))
    return None


def _seconds_until(stamp: str | None) -> float | None:
    if not stamp:
        return None
    try:
        when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def _duration(text: str | None) -> float | None:
    if not text:
        return None
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    parts = _DURATION.findall(text)
    return sum(float(n) * units[u] for n, u in parts) if parts else None
