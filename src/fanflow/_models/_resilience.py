"""Retries, shared back-off and error mapping for real providers, in one place.

Both official SDKs raise the same shapes (`APIStatusError` with a status and
headers, `APIConnectionError`, `APITimeoutError`); `classify` maps them into
fanflow's errors by who can fix them:

    RetryableModelError  429, 408, 409, 5xx, 529, dropped connections, timeouts
    AccountStop          the account cannot go on (DESIGN §8): credit or quota
                         exhausted, a usage or spend limit reached, billing (402),
                         a key refused after the provider had answered (revoked
                         mid-run), or the endpoint refusing connections 3 tries
                         in a row: the run pauses, resumable
    FatalModelError      401, 403 before any answer (a wrong key), 404 (the model)
    ContextTooLong       a 4xx/5xx saying the request exceeds the context window
    ModelError           any other 4xx, and a 5xx that is a validation error (the
                         same request fails the same way again): this agent fails
                         with the API's message, not retried

A 5xx is retried, but the same 5xx answer twice in a row (same status and message,
not the wording of an overload) is not retried again: a server that breaks on this
request breaks on it every time. A call has a `CallPolicy`: each attempt may wait
`timeout_s`, a call that waits `warn_after_s` journals a `waiting` event, a call
that times out twice is not tried again, and no attempt starts after `budget_s`
(so an agent cannot sit on a hung server for the ten attempts' worth of timeouts).
A timed-out attempt is cancelled, which closes its HTTP connection: that is what
makes a local server (llama.cpp) stop generating for it.

The SDKs' own retries are off (`max_retries=0`) so that one policy, with a
back-off shared by every agent of the run, decides: when one call is told to
wait (`retry-after`, or a refusal whose rate-limit window has nothing left),
all calls to that provider wait, instead of 16 agents stampeding into the same
429. Pacing sends so that refusals do not happen is `_pressure`'s job.

Once a provider's call ends in `AccountStop`, the provider's back-off remembers
it: no later attempt of any agent is sent. The agent's `CallWatch` (set by the
scheduler for the agent's task, `WATCH`) is told of every attempt and retry
(the journal's retry events) and can close the gate run-wide (the breaker).
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import math
import random
import re
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from tenacity import AsyncRetrying, RetryCallState

from .._errors import AccountStop, ContextTooLong, ModelError
from .._redact import redact
from . import _wire_errors as wire
from ._pressure import MAX_WAIT_S, AdaptiveLimit, RequestPacer

T = TypeVar("T")

MAX_ATTEMPTS = 10
BASE_DELAY_S = 0.25
MAX_DELAY_S = 30.0
REFUSALS_TO_STOP = 3
"""Connection refusals in a row (any agent's) after which the endpoint counts as unreachable."""
NAP_SLICE_S = 0.2
"""A back-off sleep looks at the gate this often, so a tripped breaker is not slept through."""
ACCOUNT_HOLD_S = 3600.0
"""A 429 over a usage or spend limit that asks for at least this long is an account stop."""


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
        self.status: int | None = None
        """The HTTP status, if the server answered (None: a connection or timeout failure)."""
        self.fingerprint: str | None = None
        """What makes a 5xx the same answer as the last one (`_wire_errors.fingerprint`)."""


class CallTimedOut(RetryableModelError):
    """An attempt that waited its whole `timeout_s` (its connection is closed)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, shared=False)


@dataclass(frozen=True)
class CallPolicy:
    """How long one model call may take: per attempt, in all, and when to say it waits."""

    timeout_s: float = 600.0
    """The most one attempt waits for its answer; then it is cancelled (connection closed)."""
    budget_s: float | None = None
    """No attempt starts after this long since the call began (None: 3 x `timeout_s`)."""
    warn_after_s: float | None = None
    """An attempt that waits this long journals a `waiting` event (None: `timeout_s` / 4)."""
    label: str = "the model"
    """How events name the model (`openai:NAME`)."""

    @property
    def budget(self) -> float:
        return self.budget_s if self.budget_s is not None else 3 * self.timeout_s

    @property
    def warn_after(self) -> float:
        return self.warn_after_s if self.warn_after_s is not None else self.timeout_s / 4


MAX_TIMEOUTS = 2
"""Timed-out attempts after which a call is not tried again."""


class Unreachable(RetryableModelError):
    """A connection that could not be opened (refused, host unknown, connect timeout)."""

    def __init__(self, message: str, where: str, reason: str, hint: str) -> None:
        super().__init__(message, shared=False)
        self.where, self.reason, self.hint = where, reason, hint

    def stop(self, tries: int) -> AccountStop:
        return AccountStop(
            f"cannot reach {self.where} ({self.reason}) after {tries} tries; {self.hint}"
        )


class FatalModelError(ModelError):
    """A failure no retry or other agent can get past (bad key, unknown model)."""

    key_refused = False
    """401/403: a wrong key, or, once the provider has answered this run, a revoked one."""


class CallWatch(Protocol):
    """What the scheduler hears from one agent's calls (`WATCH`); see `_attempts`."""

    def gate(self) -> None:
        """Raise `AccountStop` when the run may send no more requests."""

    def sending(self) -> None:
        """One attempt is about to be sent."""

    def retrying(self, error: ModelError, wait_s: float, why: str) -> None:
        """An attempt failed and the next one comes in `wait_s` seconds (`why`)."""

    def stopped(self, error: AccountStop) -> None:
        """A call of this agent ended in `AccountStop` (the breaker trips)."""

    # optional: note(kind, message) journals an event of the agent (`note` below)


WATCH: contextvars.ContextVar[CallWatch | None] = contextvars.ContextVar(
    "fanflow_call_watch", default=None
)


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
        self.stopped: AccountStop | None = None
        """The account stop a call to this provider ended in: no attempt is sent after it."""
        self.refused = 0
        """Connection failures in a row, any agent's; an answer of any kind resets it."""
        self.answered = False
        """Whether the provider has answered a call with success during this run."""

    def stop(self, error: AccountStop) -> AccountStop:
        if self.stopped is None:
            self.stopped = error
        return error

    def check(self, watch: CallWatch | None) -> None:
        """Raise `AccountStop` when this provider, or the run (`watch`), is stopped."""
        if self.stopped is not None:
            raise AccountStop(str(self.stopped))
        if watch is not None:
            watch.gate()

    async def nap(self, seconds: float, watch: CallWatch | None) -> None:
        """A back-off sleep that ends early, raising, once the gate closes."""
        end = self._clock() + seconds
        for _ in range(int(seconds / NAP_SLICE_S) + 2):  # bounded: each slice is <= NAP_SLICE_S
            self.check(watch)
            left = end - self._clock()
            if left <= 0:
                return
            await asyncio.sleep(min(left, NAP_SLICE_S))
        self.check(watch)

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
    policy: CallPolicy | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Run `call` until it succeeds, is not retryable, or `MAX_ATTEMPTS` are spent.

    No attempt is sent once the provider or the run is stopped (`AccountStop`).
    With a `policy`, each attempt is cut at its timeout and the call at its budget.
    """
    watch = WATCH.get()
    end = clock() + policy.budget if policy is not None else math.inf
    last: dict[str, Any] = {"fingerprint": None, "timeouts": 0, "why_not": None}

    def worth_retrying(state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        if not isinstance(exc, RetryableModelError):
            return False
        repeated = exc.fingerprint is not None and exc.fingerprint == last["fingerprint"]
        last["fingerprint"] = exc.fingerprint
        if isinstance(exc, CallTimedOut):
            last["timeouts"] += 1
        if repeated:
            last["why_not"] = "the server gave the same error twice; not retried again"
        elif last["timeouts"] >= MAX_TIMEOUTS:
            last["why_not"] = f"timed out {last['timeouts']} times; not retried again"
        elif clock() >= end:
            last["why_not"] = f"the call's {policy.budget:.0f} s budget is spent"  # type: ignore[union-attr]
        return last["why_not"] is None

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        asked = getattr(exc, "retry_after", None)
        if asked:
            backoff.advised(asked)  # reports an ask over the cap
            if getattr(exc, "shared", True):
                backoff.hold(asked)
        if watch is not None and isinstance(exc, ModelError):
            wait = state.next_action.sleep if state.next_action else 0.0
            watch.retrying(exc, wait, _why(exc))
        if on_retry is not None:
            on_retry()

    def wait(state: RetryCallState) -> float:
        return max(0.0, min(_wait(state), end - clock()))

    async def attempt() -> T:
        if policy is None:
            return await _attempt(call, backoff, limiter, watch)
        left = end - clock()
        return await _timed(lambda: _attempt(call, backoff, limiter, watch), policy, left)

    retrying = AsyncRetrying(
        retry=worth_retrying,
        stop=lambda state: state.attempt_number >= MAX_ATTEMPTS,
        wait=wait,
        sleep=lambda seconds: backoff.nap(seconds, watch),
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        async for attempt_ in retrying:
            with attempt_:
                return await attempt()
    except AccountStop as exc:
        if watch is not None:
            watch.stopped(exc)
        raise
    except RetryableModelError as exc:
        if last["why_not"] is not None:
            raise ModelError(f"{exc}; {last['why_not']}") from None
        raise
    raise AssertionError("unreachable: tenacity reraises the last error")


def note(kind: str, message: str) -> None:
    """A journal event of the current agent (`kind`: `waiting`, `api_error`, ...), when
    an agent's watch is listening (library calls outside a run have none)."""
    tell = getattr(WATCH.get(), "note", None)
    if tell is not None:
        tell(kind, message)


async def _timed(
    attempt: Callable[[], Awaitable[T]],
    policy: CallPolicy,
    left: float,
) -> T:
    """One attempt cut at its timeout (or what is `left` of the call's budget); one that
    waits long says so. The cut cancels the attempt: the SDK closes its connection."""
    limit = max(0.001, min(policy.timeout_s, left))
    loop = asyncio.get_running_loop()
    waiting = loop.call_later(
        policy.warn_after,
        note,
        "waiting",
        f"{policy.label}: a call has waited {policy.warn_after:.0f} s for the server "
        f"(it times out at {limit:.0f} s; timeout_s sets it)",
    )
    try:
        async with asyncio.timeout(limit):
            return await attempt()
    except TimeoutError:
        message = f"{policy.label} call timed out after {limit:.0f} s (timeout_s)"
        note("timeout", f"{message}; the request was cancelled and its connection closed")
        raise CallTimedOut(message) from None
    finally:
        waiting.cancel()


async def _attempt(
    call: Callable[[], Awaitable[T]],
    backoff: SharedBackoff,
    limiter: AdaptiveLimit | None,
    watch: CallWatch | None,
) -> T:
    """One attempt through the gate, the shared hold, the limiter and the pacer."""
    backoff.check(watch)
    await backoff.wait()
    try:
        if limiter is None:
            await backoff.pacer.pace()
            backoff.check(watch)
            if watch is not None:
                watch.sending()
            result = await call()
        else:
            async with limiter.slot():
                await backoff.pacer.pace()
                backoff.check(watch)
                if watch is not None:
                    watch.sending()
                result = await call()
    except Unreachable as exc:
        backoff.refused += 1
        if backoff.refused >= REFUSALS_TO_STOP:
            raise backoff.stop(exc.stop(backoff.refused)) from None
        raise
    except FatalModelError as exc:
        if exc.key_refused and backoff.answered:  # it worked earlier in this run: revoked
            raise backoff.stop(AccountStop(f"{exc} (revoked mid-run)")) from None
        raise
    except AccountStop as exc:
        raise backoff.stop(exc) from None
    except ModelError:
        backoff.refused = 0  # the server answered: it is reachable
        raise
    backoff.refused = 0
    backoff.answered = True
    return result


def _why(exc: BaseException) -> str:
    """Why the next attempt waits, as the views say it: `429 retry-after`, `back-off`."""
    status = getattr(exc, "status", None)
    if getattr(exc, "retry_after", None):
        return f"{status or 'server'} retry-after"
    if isinstance(exc, Unreachable):
        return f"{exc.reason}, back-off"
    return f"{status} back-off" if status else "back-off"


def classify(
    exc: Exception, *, provider: str, model: str, key_var: str, base_url_var: str = ""
) -> ModelError:
    """The fanflow error for an SDK exception (see the module docstring). When the message
    shown is not the whole body, the body goes to the journal (`api_error` event)."""
    error = _classify(exc, provider, model, key_var, base_url_var)
    if getattr(exc, "status_code", None) is not None:
        raw = wire.raw_message(exc)
        if wire.shown_message(raw) != " ".join(raw.split()):  # cut or summed up: keep it all
            status = exc.status_code  # type: ignore[attr-defined]
            note("api_error", f"{provider} answered {status}: {redact(wire.detail(exc))}")
    return error


def _classify(
    exc: Exception, provider: str, model: str, key_var: str, base_url_var: str
) -> ModelError:
    status = getattr(exc, "status_code", None)
    if status is None:
        failure = connect_failure(exc)
        if failure is not None:
            where = endpoint(exc)
            hint = f"check {base_url_var} and the network" if base_url_var else "check the network"
            return Unreachable(
                f"{provider} request cannot reach {where} ({failure})", where, failure, hint
            )
        if "Timeout" in type(exc).__name__:
            return CallTimedOut(f"{provider} request timed out: {redact(str(exc))}")
        return RetryableModelError(f"{provider} request connection failed: {redact(str(exc))}")
    raw = redact(wire.raw_message(exc))
    message = _api_message(exc) or f"HTTP {status}"
    headers = getattr(getattr(exc, "response", None), "headers", {}) or {}
    codes = _error_codes(exc)
    stop = account_stop(status, codes, message, headers)
    if stop is not None:
        return AccountStop(f"{provider} {stop} ({status}): {message}")
    overflow = wire.context_overflow(codes, raw, getattr(exc, "body", None))
    if overflow is not None and status not in (401, 403, 404, 429):
        return ContextTooLong(
            f"{provider} API {status}: the request is longer than the model's context "
            f"window: {message}",
            *overflow,
        )
    if wire.is_validation(status, raw):
        return ModelError(
            f"{provider} API {status}: the server rejected the request as invalid: {message}"
        )
    if status in (408, 409, 429) or status >= 500:
        error = RetryableModelError(
            f"{provider} API {status}: {message}",
            retry_after(headers),
            pressure=status in (429, 529),
            shared=status != 429 or not budget_left(headers),
        )
        error.status = status
        error.fingerprint = wire.fingerprint(status, raw)
        return error
    if status in (401, 403):
        refused = FatalModelError(
            f"{provider} refused the API key ({status}): {message}; check {key_var}"
        )
        refused.key_refused = True
        return refused
    if status == 404:
        return FatalModelError(
            f"{provider} has no model {model!r} (404): {message}; check the --model name"
        )
    return ModelError(f"{provider} API {status}: {message}")


_QUOTA_CODES = frozenset(
    {"insufficient_quota", "billing_hard_limit_reached", "billing_not_active", "access_terminated"}
)
_LIMIT_WORDS = re.compile(
    r"\b(usage|spend|spending|budget)\s+limits?\b|regain access|credit balance", re.IGNORECASE
)


def account_stop(
    status: int, codes: set[str], message: str, headers: Mapping[str, Any]
) -> str | None:
    """Why the account cannot go on (for the message), or None for any other refusal.

    Credit or quota exhausted (Anthropic's 400 "credit balance is too low",
    OpenAI's 429 `insufficient_quota`), billing (402), and a 400 or 429 whose
    message says a usage or spend limit was reached: a 429 only when it also
    asks to wait an hour or more (or says nothing), since a short ask is a rate
    limit that retries get past.
    """
    if codes & _QUOTA_CODES:
        return "says the account is out of quota or billing is not active"
    if status == 402:
        return "says the account's billing needs attention"
    if status in (400, 429) and _LIMIT_WORDS.search(message):
        wait = retry_after(headers)
        if status == 400 or wait is None or wait >= ACCOUNT_HOLD_S:
            return "says the account's credit or usage limit is reached"
    return None


def _error_codes(exc: Exception) -> set[str]:
    """`error.code` and `error.type` of an API error body (OpenAI has both), if present."""
    body = getattr(exc, "body", None)
    inner = body.get("error", body) if isinstance(body, dict) else None
    if not isinstance(inner, dict):
        return set()
    return {str(inner[k]) for k in ("code", "type") if isinstance(inner.get(k), str)}


def connect_failure(exc: BaseException) -> str | None:
    """Why a connection could not be opened (refused, unknown host, connect timeout), or None
    for a connection that broke after it was open (worth a plain retry)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    found: str | None = None
    while current is not None and id(current) not in seen:  # bounded: each link seen once
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        if isinstance(current, socket.gaierror):
            return "host not found"
        name = type(current).__name__
        if name == "ConnectTimeout":
            found = found or "connect timed out"
        elif name == "ConnectError":
            found = found or "cannot connect"
        current = current.__cause__ or current.__context__
    return found


def endpoint(exc: BaseException) -> str:
    """`host:port` of the request that failed (the SDK's error carries it)."""
    url = getattr(getattr(exc, "request", None), "url", None)
    host = getattr(url, "host", None)
    if not host:
        return "the endpoint"
    port = getattr(url, "port", None) or (443 if getattr(url, "scheme", "") == "https" else 80)
    return f"{host}:{port}"


def _api_message(exc: Exception) -> str:
    """The API's own message, on one line (`_wire_errors.shown_message`)."""
    return redact(wire.shown_message(wire.raw_message(exc)))


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
