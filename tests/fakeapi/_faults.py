"""What the fake server does wrong on purpose, and the error answers it gives.

`Faults` is the knob tests turn; `FaultEngine` turns it into decisions. Every
request draws exactly one number from one `random.Random(seed)` on arrival,
whatever happens to it afterwards, so a seed replays the same faults for the
same request order even when a test changes the rates between calls.

Capacity limits (`max_in_flight`, `rpm`, `burst`) are not random: a request beyond
them gets a 429 whose `retry-after` says when trying again can work.

The second half is how each provider says that something went wrong: error
bodies, request ids, rate-limit headers and the canned answers of faults.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

DEFAULT_RPM = 1_000_000
"""The requests-per-minute limit the rate-limit headers report when `rpm` is unset: one no
test reaches, since none is enforced (clients pace themselves by what headers announce)."""

WINDOW_S = 60.0

FAULT_KINDS = ("drop", "429", "529", "500")
"""Random faults in the order their probabilities are stacked on the one draw."""


@dataclass
class Faults:
    """Fault rates and limits of a `FakeAPI`; tests may change them between calls.

    latency        seconds to wait before answering every request that passed validation
    p_429          probability of a 429 rate-limit error (with `retry-after`)
    p_529          probability of an "overloaded" error: 529 (Anthropic), 503 (OpenAI)
    p_500          probability of a 500 internal error
    p_drop         probability of closing the connection without any response
    seed           seed of the one draw sequence (read when the server starts)
    retry_after    seconds the `retry-after` / `retry-after-ms` headers advise
    max_in_flight  requests beyond this many at once get a 429
    rpm            requests beyond this many in a sliding 60 s window get a 429
    burst          with `rpm`: enforce it as a token bucket of `burst` requests that
                   refills at rpm/60 a second, as the real APIs treat short bursts
                   (a 60 s window never binds in a short test)
    fail_status    answer every request with this HTTP status and a proper error body
    account        an account failure (`ACCOUNT_FAULTS`) every request gets once
                   `account_after` requests have been answered: credit or quota
                   exhausted, a spend limit, a revoked key, in each provider's wire format
    account_after  requests answered normally before `account` starts
    """

    latency: float = 0.0
    p_429: float = 0.0
    p_529: float = 0.0
    p_500: float = 0.0
    p_drop: float = 0.0
    seed: int = 0
    retry_after: float = 0.05
    max_in_flight: int | None = None
    rpm: int | None = None
    burst: int | None = None
    fail_status: int | None = None
    account: str | None = None
    account_after: int = 0

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """Raise `ValueError` for settings no server could follow."""
        for name in ("p_429", "p_529", "p_500", "p_drop"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"Faults.{name}={value!r} must be a probability in [0, 1]")
        if self.latency < 0 or self.retry_after < 0:
            raise ValueError("Faults.latency and Faults.retry_after must not be negative")
        for name in ("max_in_flight", "rpm", "burst"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"Faults.{name}={value!r} must be None or at least 1")
        if self.burst is not None and self.rpm is None:
            raise ValueError("Faults.burst needs Faults.rpm (the rate its bucket refills at)")
        if self.fail_status is not None and not 400 <= self.fail_status <= 599:
            raise ValueError(f"Faults.fail_status={self.fail_status!r} must be a 4xx or 5xx")
        if self.account is not None and self.account not in ACCOUNT_FAULTS:
            raise ValueError(f"Faults.account={self.account!r} must be one of {ACCOUNT_FAULTS}")
        if self.account_after < 0:
            raise ValueError("Faults.account_after must not be negative")


@dataclass(eq=False)
class Problem(Exception):
    """An error answer: HTTP status plus what the provider's error body needs.

    `kind` is the error type (Anthropic `error.type`, OpenAI `error.type`);
    `param` and `code` are used by OpenAI bodies only.
    """

    status: int
    kind: str
    message: str
    param: str | None = None
    code: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    """The whole error body, when a server words it its own way (`LocalServer`)."""

    def __str__(self) -> str:
        return f"{self.status} {self.kind}: {self.message}"


@dataclass(frozen=True)
class Window:
    """The request-rate window as rate-limit headers report it."""

    limit: int
    remaining: int
    reset_s: float
    """Seconds until the window (or bucket) is full again (0 when it is)."""


def retry_headers(seconds: float) -> dict[str, str]:
    """`retry-after` (whole seconds, as HTTP says) plus the precise `retry-after-ms`."""
    return {
        "retry-after": str(math.ceil(seconds)),
        "retry-after-ms": str(max(0, round(seconds * 1000))),
    }


class FaultEngine:
    """Draws, capacity and the rate window of one server."""

    def __init__(self, faults: Faults, clock=time.monotonic) -> None:
        self.faults = faults
        self._rng = random.Random(faults.seed)
        self._clock = clock
        self._stamps: deque[float] = deque()
        self._tokens = float(faults.burst or 0)
        self._filled_at = clock()
        self.in_flight = 0
        self.peak_in_flight = 0
        self.arrived = 0
        """Requests that reached the account check (see `account_problem`)."""

    def draw(self) -> float:
        """The one number of the request that just arrived."""
        return self._rng.random()

    def pick(self, draw: float) -> str | None:
        """The random fault the draw lands on, if any (`FAULT_KINDS`)."""
        f = self.faults
        edge = 0.0
        for kind, p in zip(FAULT_KINDS, (f.p_drop, f.p_429, f.p_529, f.p_500), strict=True):
            edge += p
            if p > 0 and draw < edge:
                return kind
        return None

    def admit(self) -> tuple[str, float] | None:
        """Count the request in, or say why not: (`"max_in_flight"` | `"rpm"`, retry-after)."""
        f = self.faults
        now = self._clock()
        self._expire(now)
        if f.max_in_flight is not None and self.in_flight >= f.max_in_flight:
            return "max_in_flight", f.retry_after
        if f.rpm is not None and f.burst is not None:
            self._refill(now)
            if self._tokens < 1:
                return "rpm", max(f.retry_after, (1 - self._tokens) * WINDOW_S / f.rpm)
            self._tokens -= 1
        elif f.rpm is not None and len(self._stamps) >= f.rpm:
            return "rpm", max(f.retry_after, self._stamps[0] + WINDOW_S - now)
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        self._stamps.append(now)
        return None

    def account_problem(self, provider: str) -> Problem | None:
        """The account failure this request gets, once `account_after` requests came first."""
        self.arrived += 1
        f = self.faults
        if f.account is None or self.arrived <= f.account_after:
            return None
        return account_failure(provider, f.account)

    def release(self) -> None:
        self.in_flight -= 1

    def window(self) -> Window:
        now = self._clock()
        f = self.faults
        if f.rpm is not None and f.burst is not None:
            self._refill(now)
            reset = (f.burst - self._tokens) * WINDOW_S / f.rpm
            return Window(f.rpm, int(self._tokens), max(0.0, reset))
        self._expire(now)
        limit = self.faults.rpm or DEFAULT_RPM
        remaining = max(0, limit - len(self._stamps))
        reset = self._stamps[0] + WINDOW_S - now if self._stamps else 0.0
        return Window(limit, remaining, max(0.0, reset))

    def _refill(self, now: float) -> None:
        f = self.faults
        assert f.rpm is not None and f.burst is not None
        self._tokens = min(
            float(f.burst), self._tokens + (now - self._filled_at) * f.rpm / WINDOW_S
        )
        self._filled_at = now

    def _expire(self, now: float) -> None:
        # Bounded: each stamp is removed at most once.
        while self._stamps and self._stamps[0] <= now - WINDOW_S:
            self._stamps.popleft()


# -- how each provider says it --------------------------------------------------------------

ANTHROPIC_ERRORS = {
    400: ("invalid_request_error", "Your request is invalid."),
    401: ("authentication_error", "invalid x-api-key"),
    402: ("billing_error", "Your credit balance is too low to access the Anthropic API."),
    403: ("permission_error", "Your API key does not have permission to use this resource."),
    404: ("not_found_error", "The requested resource could not be found."),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: (
        "rate_limit_error",
        "Number of requests has exceeded your per-minute rate limit. "
        "See the response headers for current usage; please try again later.",
    ),
    500: ("api_error", "Internal server error"),
    504: ("timeout_error", "Request timed out"),
    529: ("overloaded_error", "Overloaded"),
}
OPENAI_ERRORS = {
    401: ("invalid_request_error", "Incorrect API key provided.", "invalid_api_key"),
    404: (
        "invalid_request_error",
        "The model does not exist or you do not have access to it.",
        "model_not_found",
    ),
    503: ("server_error", "The engine is currently overloaded, please try again later", None),
}
_FAULT_STATUS = {"429": 429, "rpm": 429, "max_in_flight": 429, "529": 529, "500": 500}


def canned(provider: str, what: str | int, model: str | None = None) -> Problem:
    """The error `provider` answers for a fault kind (`"429"`, `"529"`, `"500"`, `"rpm"`,
    `"max_in_flight"`) or for an HTTP status (`Faults.fail_status`)."""
    status = _FAULT_STATUS[what] if isinstance(what, str) else what
    if provider == "anthropic":
        kind, message = ANTHROPIC_ERRORS.get(status) or (
            ("api_error", "Internal server error")
            if status >= 500
            else ("invalid_request_error", f"Your request was rejected (HTTP {status}).")
        )
        if what == "max_in_flight":
            message = "Number of concurrent connections has exceeded your rate limit."
        return Problem(status, kind, message)
    if status == 429:
        per = "concurrent requests" if what == "max_in_flight" else "requests per min (RPM)"
        message = (
            f"Rate limit reached for {model or 'this model'} in organization org-fakeapi "
            f"on {per}. Please try again later."
        )
        return Problem(429, "requests", message, code="rate_limit_exceeded")
    if status == 529:
        status = 503  # OpenAI has no 529; its overload answer is a 503
    if status in OPENAI_ERRORS:
        kind, message, code = OPENAI_ERRORS[status]
        return Problem(status, kind, message, code=code)
    if status >= 500:
        message = "The server had an error while processing your request. Sorry about that!"
        return Problem(status, "server_error", message)
    return Problem(status, "invalid_request_error", f"Your request was rejected (HTTP {status}).")


def error_body(provider: str, problem: Problem, request_id: str) -> dict[str, Any]:
    """The JSON error body of `problem`, as `provider` writes it."""
    if problem.body is not None:
        return problem.body
    if provider == "anthropic":
        error = {"type": problem.kind, "message": problem.message}
        return {"type": "error", "error": error, "request_id": request_id}
    error = {"message": problem.message, "type": problem.kind}
    return {"error": {**error, "param": problem.param, "code": problem.code}}


def new_request_id(provider: str) -> str:
    return "req_" + uuid.uuid4().hex[: 24 if provider == "anthropic" else 32]


def id_headers(provider: str, request_id: str) -> dict[str, str]:
    """The request-id header(s) every answer of `provider` carries."""
    if provider == "anthropic":
        return {"request-id": request_id}
    return {"x-request-id": request_id, "openai-version": "2020-10-01"}


def window_headers(provider: str, window: Window) -> dict[str, str]:
    """The request rate-limit headers of `provider` for `window`."""
    if provider == "anthropic":
        reset = dt.datetime.now(dt.UTC).timestamp() + window.reset_s
        stamp = dt.datetime.fromtimestamp(math.ceil(reset), dt.UTC)  # RFC 3339, never early
        return {
            "anthropic-ratelimit-requests-limit": str(window.limit),
            "anthropic-ratelimit-requests-remaining": str(window.remaining),
            "anthropic-ratelimit-requests-reset": stamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    return {
        "x-ratelimit-limit-requests": str(window.limit),
        "x-ratelimit-remaining-requests": str(window.remaining),
        "x-ratelimit-reset-requests": duration(window.reset_s),
    }


def duration(seconds: float) -> str:
    """A reset time as OpenAI writes it: `20ms`, `1.5s`, `6m0s`."""
    if seconds < 1:
        return f"{max(0, round(seconds * 1000))}ms"
    if seconds < 60:
        return f"{round(seconds, 3):g}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest}s"


# -- account failures: the run cannot go on (DESIGN §8) --------------------------------------

ACCOUNT_FAULTS = ("credit", "usage_limit", "spend_limit", "revoked", "forbidden", "billing")
"""`credit`: Anthropic's 400 "credit balance is too low", OpenAI's 429 `insufficient_quota`;
`usage_limit`: a 400 saying the account's usage limit is reached until a date;
`spend_limit`: a 429 saying a monthly spend limit is reached, retry-after a day;
`revoked`: the key no longer valid (401); `forbidden`: the key lost permission (403);
`billing`: Anthropic's 402 billing_error (OpenAI: 429 `billing_not_active`)."""

SPEND_LIMIT_RETRY_S = 86_400


def _regain() -> str:
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    return f"{soon:%Y-%m-%d} at 00:00 UTC"


def account_failure(provider: str, kind: str) -> Problem:
    """The answer `provider` gives when the account cannot go on, as its API words it.

    Anthropic's bodies are `{"type": "error", "error": {"type", "message"}}` with
    `x-should-retry: false`; OpenAI's `{"error": {"message", "type", "param", "code"}}`.
    The messages are the ones these APIs are seen to send (credit, quota, key)."""
    if provider == "anthropic":
        no_retry = {"x-should-retry": "false"}
        if kind == "credit":
            message = (
                "Your credit balance is too low to access the Anthropic API. "
                "Please go to Plans & Billing to upgrade or purchase credits."
            )
            return Problem(400, "invalid_request_error", message, headers=no_retry)
        if kind == "usage_limit":
            message = (
                "You have reached your specified API usage limits. "
                f"You will regain access on {_regain()}."
            )
            return Problem(400, "invalid_request_error", message, headers=no_retry)
        if kind == "spend_limit":
            message = (
                "This request would exceed your organization's monthly spend limit. "
                f"You will regain access on {_regain()}."
            )
            return Problem(
                429, "rate_limit_error", message, headers=retry_headers(SPEND_LIMIT_RETRY_S)
            )
        if kind == "billing":
            message = "There's an issue with your billing or payment information."
            return Problem(402, "billing_error", message, headers=no_retry)
        if kind == "forbidden":
            message = "Your API key does not have permission to use the specified resource."
            return Problem(403, "permission_error", message, headers=no_retry)
        return Problem(401, "authentication_error", "invalid x-api-key", headers=no_retry)
    if kind in ("credit", "usage_limit"):
        message = (
            "You exceeded your current quota, please check your plan and billing details. "
            "For more information on this error, read the docs: "
            "https://platform.openai.com/docs/guides/error-codes/api-errors."
        )
        return Problem(429, "insufficient_quota", message, code="insufficient_quota")
    if kind == "spend_limit":
        message = "You have reached your monthly spend limit for this organization."
        problem = Problem(429, "requests", message, code="billing_hard_limit_reached")
        problem.headers.update(retry_headers(SPEND_LIMIT_RETRY_S))
        return problem
    if kind == "billing":
        message = "Your account is not active, please check your billing details on our website."
        return Problem(429, "billing_not_active", message, code="billing_not_active")
    if kind == "forbidden":
        message = "You have insufficient permissions for this operation."
        return Problem(403, "invalid_request_error", message, code="insufficient_permissions")
    message = (
        "Incorrect API key provided: sk-p****revk. You can find your API key at "
        "https://platform.openai.com/account/api-keys."
    )
    return Problem(401, "invalid_request_error", message, code="invalid_api_key")
