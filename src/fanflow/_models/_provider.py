"""What the SDK-backed providers share: the key check, one client, prices, retries.

Options come from the config files' `[models.PROVIDER]` table, overridden by a
`[models."PROVIDER:NAME"]` table (`_registry`): `timeout_s`, `budget_s`,
`warn_after_s` (the call's `CallPolicy`) and `context_tokens`.

An estimate (`--dry-run`, the approval card) needs a model's name, context size
and price, never its key: inside `keyless()` a provider model is built without
one, and its key is required only when a request is made (`require_key`).
"""

from __future__ import annotations

import abc
import contextlib
import contextvars
import importlib
import os
from collections.abc import Iterator
from typing import Any

from .._errors import ConfigError, ModelError
from ._base import Model, ModelRequest, ModelResponse, Usage
from ._pressure import AdaptiveLimit
from ._pricing import Price, price_for
from ._resilience import CallPolicy, SharedBackoff, with_retries

OPTIONS = ("timeout_s", "budget_s", "warn_after_s", "context_tokens")
"""The `[models.*]` options every SDK provider reads (subclasses add theirs)."""

_KEYLESS: contextvars.ContextVar[bool] = contextvars.ContextVar("fanflow_keyless", default=False)


@contextlib.contextmanager
def keyless() -> Iterator[None]:
    """Provider models built in this block may lack their key (estimates call no model)."""
    token = _KEYLESS.set(True)
    try:
        yield
    finally:
        _KEYLESS.reset(token)


class ProviderModel(Model):
    """A model behind an official SDK; subclasses build the client and make one call."""

    provider = "provider"
    key_var = "PROVIDER_API_KEY"
    key_hint = ""
    base_url_var = "PROVIDER_BASE_URL"
    client_class = "AsyncClient"
    """The SDK's async client class, in the module named like `provider`."""

    def __init__(
        self,
        name: str,
        *,
        timeout: float | None = None,
        prices: dict[str, Price] | None = None,
        backoff: SharedBackoff | None = None,
        limiter: AdaptiveLimit | None = None,
        options: dict[str, str] | None = None,
    ) -> None:
        self.model = name
        self.options = dict(options or {})
        self.policy = _policy(self.options, timeout, f"{self.provider}:{name}")
        configured = _number(self.options, "context_tokens", integer=True)
        if configured is not None:
            self.context_tokens = int(configured)
        self.context_configured = configured is not None
        self._limiter = limiter
        self.name = f"{self.provider}:{name}"
        self._price = price_for(self.name, prices)
        self._backoff = backoff or SharedBackoff()
        self._sdk = importlib.import_module(self.provider)  # imported only when used
        self._timeout = self.policy.timeout_s
        self._built: Any = None
        self.key_missing: ConfigError | None = None
        """Why this model cannot make a request (no key), when built by `keyless()`."""
        try:
            self._key = self.api_key()
        except ConfigError as exc:
            if not _KEYLESS.get():
                raise
            self.key_missing, self._key = exc, ""

    @property
    def _client(self) -> Any:
        """One client per model for the whole run; retries are ours (with_retries), not the
        SDK's. Built at first use, so a keyless model never holds one."""
        if self._built is None:
            self.require_key()
            self._built = getattr(self._sdk, self.client_class)(
                api_key=self._key,
                base_url=os.environ.get(self.base_url_var) or None,
                max_retries=0,
                timeout=self._timeout,
            )
        return self._built

    def api_key(self) -> str:
        key = os.environ.get(self.key_var)
        if not key:
            raise ConfigError(
                f"{self.key_var} is not set; export your API key{self.key_hint}, "
                "or use --model test to check the plumbing offline"
            )
        return key

    def require_key(self) -> None:
        """Raise the one-line `ConfigError` when this model has no key to call with."""
        if self.key_missing is not None:
            raise self.key_missing

    def price(self, usage: Usage) -> float | None:
        return self._price.cost(usage) if self._price else None

    async def aclose(self) -> None:
        if self._built is not None:
            await self._built.close()

    async def request(self, req: ModelRequest) -> ModelResponse:
        retries = 0

        def count() -> None:
            nonlocal retries
            retries += 1

        reply = await with_retries(
            lambda: self._call(req), self._backoff, count, self._limiter, self.policy
        )
        reply.retries = retries
        return reply

    @abc.abstractmethod
    async def _call(self, req: ModelRequest) -> ModelResponse:
        """One attempt; raise the `classify`d error on failure."""


async def checked_response(api: str, convert: Any, parse: Any) -> ModelResponse:
    """Parse and convert an SDK body; one that is not a response is the endpoint's fault."""
    try:
        body = parse()
        if hasattr(body, "__await__"):
            body = await body
        return convert(body)
    except (AttributeError, TypeError, KeyError, IndexError, ValueError):
        raise ModelError(
            f"the {api} endpoint returned a body that is not a response; "
            "check that the base URL points at the API"
        ) from None


def _policy(options: dict[str, str], timeout: float | None, label: str) -> CallPolicy:
    timeout_s = _number(options, "timeout_s")
    return CallPolicy(
        timeout_s=timeout_s or timeout or CallPolicy.timeout_s,
        budget_s=_number(options, "budget_s"),
        warn_after_s=_number(options, "warn_after_s"),
        label=label,
    )


def _number(options: dict[str, str], key: str, *, integer: bool = False) -> float | None:
    """A positive number option, or None when unset; a bad one is a one-line ConfigError."""
    raw = options.get(key)
    if raw is None:
        return None
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        value = 0
    if not value > 0 or value != value or value == float("inf"):
        kind = "a positive whole number" if integer else "a positive number of seconds"
        raise ConfigError(f"[models] option {key} = {raw!r} must be {kind}")
    return value
