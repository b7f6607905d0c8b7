"""How hard a run pushes one provider: an adaptive in-flight limit and request pacing.

Two signals, two mechanisms, both shared by every agent of a run:

    AdaptiveLimit  429/529 answers: fewer calls in flight (AIMD), more as they clear
    RequestPacer   rate-limit headers: spaces sends so the request bucket never runs dry

The pacer acts before the provider refuses anything, so under a request-rate
limit the run settles at the rate the provider grants instead of learning it
from 429s; the limit catches what headers do not announce (concurrency or
token limits, overload).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

WINDOW_S = 60.0
"""The request limits of both APIs are per minute."""

MAX_WAIT_S = 60.0
"""The longest any one wait lasts, whatever a server's headers ask (docs/SECURITY.md):
`retry-after: 10000000` once parked an agent for 116 days. A call that still finds
the provider unready after the cap is refused again and retried, so a real limit
is still honoured, a hostile or broken one costs at most this per attempt."""


def request_window(headers: Mapping[str, Any]) -> tuple[int, int] | None:
    """(requests per minute, requests remaining) from either API's rate-limit headers."""
    for limit_name, remaining_name in (
        ("anthropic-ratelimit-requests-limit", "anthropic-ratelimit-requests-remaining"),
        ("x-ratelimit-limit-requests", "x-ratelimit-remaining-requests"),
    ):
        limit, remaining = headers.get(limit_name), headers.get(remaining_name)
        if limit is None or remaining is None:
            continue
        try:
            parsed = int(limit), int(remaining)
        except ValueError:
            return None
        return parsed if parsed[0] > 0 and parsed[1] >= 0 else None
    return None


class RequestPacer:
    """Spaces request starts by the provider's own rate-limit headers.

    The APIs refill a request bucket continuously at `limit` a minute and say
    in every answer how much is left. Between answers the pacer keeps its own
    count: it refills at that rate and takes one per send; a send that would
    find the bucket empty sleeps until its token is due instead of collecting a
    429. Each answer corrects the count downwards (another client may share
    the key). Until the first answer, and while plenty remain, it adds nothing.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._rate = 0.0
        """Tokens a second; 0 until an answer has said."""
        self._tokens = 0.0
        self._capacity = 0.0
        self._at = 0.0
        self._waiting = 0
        """Sends that hold a token not yet due: the provider has not counted them."""
        self._limit = 0
        self._told_limit = 0
        self.on_pacing: Callable[[int], None] | None = None
        """Told the per-minute limit when pacing first holds a send back under it."""

    @property
    def active(self) -> bool:
        return self._rate > 0

    def observe(self, headers: Mapping[str, Any]) -> None:
        window = request_window(headers)
        if window is None:
            return
        limit, remaining = window
        self._refill()
        # the bucket held at least `remaining` when it answered; requests it counted
        # since were ours and are already off our count
        self._capacity = max(self._capacity, remaining + 1.0)
        told = remaining + 1.0 - self._waiting
        self._tokens = min(self._tokens, told) if self._rate else remaining - self._waiting
        self._rate, self._limit = limit / WINDOW_S, limit

    def reserve(self) -> float:
        """Take a token; the seconds until it is due (0: send now)."""
        if not self._rate:
            return 0.0
        self._refill()
        self._tokens -= 1.0
        return max(0.0, -self._tokens / self._rate)

    async def pace(self) -> None:
        """Take a token, sleeping until it is due when the bucket is (about to be) empty."""
        delay = self.reserve()
        if not delay:
            return
        if self._limit != self._told_limit and self.on_pacing is not None:
            self._told_limit = self._limit
            self.on_pacing(self._limit)
        self._waiting += 1
        try:
            await asyncio.sleep(min(delay, MAX_WAIT_S))
        finally:
            self._waiting -= 1

    def _refill(self) -> None:
        now = self._clock()
        if self._rate:
            self._tokens = min(self._capacity, self._tokens + (now - self._at) * self._rate)
        self._at = now


class AdaptiveLimit:
    """How many requests a run keeps in flight to one provider, adapted to its pushback.

    Additive increase, multiplicative decrease: each success raises the limit
    by 1/limit (about one a round trip), a 429/529 cuts it to 0.7x, once per window:
    refusals of requests sent before the last decrease do not count again
    (they were sent under the old limit). Every refusal also measures: the
    calls still in flight are what the provider holds, and the limit never
    stays above that. Near the level that was refused last it probes eight
    times slower. It never passes the run's concurrency cap.
    """

    DECREASE = 0.7
    PROBE_SLOWDOWN = 8

    def __init__(self, cap: int, on_change: Callable[[int, str], None] | None = None) -> None:
        self.cap, self.limit, self.in_flight = cap, float(cap), 0
        self._on_change = on_change
        self._window = 0
        self._ceiling: float | None = None
        """The limit at which the provider last pushed back."""
        self._changed = asyncio.Condition()

    @property
    def current(self) -> int:
        return max(1, int(self.limit))

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._changed:
            await self._changed.wait_for(lambda: self.in_flight < self.current)
            window = self._window
            self.in_flight += 1
        try:
            yield
        except Exception as exc:
            if getattr(exc, "pressure", False):  # a RetryableModelError for a 429/529
                self._decrease(str(exc).split(":")[0], window)
            raise
        else:
            self._increase()
        finally:
            async with self._changed:
                self.in_flight -= 1
                self._changed.notify_all()

    def capped(self, asked: float) -> None:
        """Say that a server asked for a longer wait than `MAX_WAIT_S`, and what was done."""
        if self._on_change:
            asked_text = "forever" if asked == float("inf") else f"{asked:,.0f} s"
            self._on_change(
                self.current,
                f"the provider asked to wait {asked_text}; fanflow waits at most "
                f"{MAX_WAIT_S:.0f} s per wait, then tries again",
            )

    def paced(self, per_minute: int) -> None:
        """Say (as a limit change does) that sends are being spaced to the provider's rate."""
        if self._on_change:
            self._on_change(
                self.current,
                f"pacing sends to {per_minute:,} a minute, as the provider's headers announce",
            )

    def _increase(self) -> None:
        before = self.current
        # back to the level that last worked quickly; past it, probe slowly (a
        # step per PROBE_SLOWDOWN round trips) so the probing itself costs few 429s
        slow = self._ceiling is not None and self.limit >= self._ceiling - 1
        step = 1.0 / (self.limit * (self.PROBE_SLOWDOWN if slow else 1))
        self.limit = min(float(self.cap), self.limit + step)
        if self.current != before and self._on_change:
            self._on_change(self.current, "the provider is answering again")

    def _decrease(self, why: str, window: int) -> None:
        before = self.current
        if window == self._window:  # the first refusal of calls sent under this limit
            self._window += 1
            self._ceiling = float(before)
            self.limit = max(1.0, self.limit * self.DECREASE)
        # Every refusal also measures: the provider is evidently holding the calls still in
        # flight, so a limit on concurrent calls is found in one round trip, not by
        # repeated cuts (a rate limit or overload leaves most calls in flight: no effect).
        holding = self.in_flight - 1
        if 1 <= holding < self.limit:
            self.limit = float(holding)
            self._ceiling = min(self._ceiling or float(holding + 1), float(holding + 1))
        if self.current != before and self._on_change:
            self._on_change(self.current, f"{why} pushed back")
