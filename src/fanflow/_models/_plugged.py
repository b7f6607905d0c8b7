"""A plugin's model under the host's retry policy.

A plugin raises `RetryableModelError` for a call worth retrying; the host, not
the plugin, decides when: with the back-off and adaptive limit its provider
shares with every other agent of the run. The plugin's own attributes show
through, so reports name it as the plugin does.
"""

from __future__ import annotations

from ._base import Model, ModelRequest, ModelResponse, Usage
from ._pressure import AdaptiveLimit
from ._resilience import SharedBackoff, with_retries


class PluggedModel(Model):
    """Wraps `inner` (a plugin's `fanflow.Model`); retries it with the shared back-off."""

    def __init__(
        self, inner: Model, backoff: SharedBackoff, limiter: AdaptiveLimit | None = None
    ) -> None:
        self.inner, self._backoff, self._limiter = inner, backoff, limiter
        self.name = str(getattr(inner, "name", type(inner).__name__))
        if not isinstance(inner.context_tokens, int) or inner.context_tokens < 1:
            raise TypeError(f"context_tokens is {inner.context_tokens!r}")
        if not isinstance(inner.supports_mid_system, bool):
            raise TypeError(f"supports_mid_system is {inner.supports_mid_system!r}")
        self.context_tokens = inner.context_tokens
        self.supports_mid_system = inner.supports_mid_system
        self.scripted = inner.scripted

    async def request(self, req: ModelRequest) -> ModelResponse:
        retries = 0

        def count() -> None:
            nonlocal retries
            retries += 1

        reply = await with_retries(
            lambda: self.inner.request(req), self._backoff, count, self._limiter
        )
        if not isinstance(reply, ModelResponse):
            from .._errors import ModelError

            raise ModelError(
                f"model {self.name!r} returned {type(reply).__name__}, not a ModelResponse"
            )
        reply.retries += retries
        return reply

    def price(self, usage: Usage) -> float | None:
        return self.inner.price(usage)

    async def aclose(self) -> None:
        await self.inner.aclose()
