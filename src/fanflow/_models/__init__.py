"""Model providers behind one interface, chosen by a `PROVIDER:MODEL` string."""

from __future__ import annotations

import os
from collections.abc import Callable

from .._errors import ConfigError
from ._anthropic import AnthropicModel
from ._base import (
    Message,
    Model,
    ModelRequest,
    ModelResponse,
    ToolCall,
    ToolResult,
    ToolSpec,
    Usage,
    estimate_tokens,
)
from ._function import FunctionModel
from ._openai import OpenAIModel
from ._pressure import AdaptiveLimit
from ._pricing import Price
from ._resilience import FatalModelError, RetryableModelError, SharedBackoff
from ._sim import SimModel

__all__ = [
    "AdaptiveLimit",
    "AnthropicModel",
    "FatalModelError",
    "FunctionModel",
    "Message",
    "Model",
    "ModelRequest",
    "ModelResponse",
    "OpenAIModel",
    "Price",
    "RetryableModelError",
    "SharedBackoff",
    "SimModel",
    "ToolCall",
    "ToolResult",
    "ToolSpec",
    "Usage",
    "estimate_tokens",
    "resolve_model",
]


def resolve_model(
    spec: str,
    *,
    prices: dict[str, Price] | None = None,
    backoffs: dict[str, SharedBackoff] | None = None,
    limiters: dict[str, AdaptiveLimit] | None = None,
    new_limiter: Callable[[str], AdaptiveLimit | None] | None = None,
) -> Model:
    """Build the model named by `spec` (`sim`, `anthropic:NAME`, `openai:NAME`, `claude-…`).

    `backoffs` and `limiters` hold one shared back-off and adaptive limit per
    provider, so every model of a provider in one run waits and backs off
    together; `new_limiter` makes a provider's limit the first time it is needed.
    """
    spec = spec.strip()
    if spec == "sim" or spec.startswith("sim:"):
        return SimModel(latency=_sim_latency(), name=spec)
    provider, _, name = spec.partition(":")
    if spec.startswith("claude-"):
        provider, name = "anthropic", spec
    providers = {"anthropic": AnthropicModel, "openai": OpenAIModel}
    if provider not in providers or not name.strip():
        raise ConfigError(
            f"unknown model {spec!r}; use sim, anthropic:MODEL, openai:MODEL or a claude-… name"
        )
    backoff = (backoffs if backoffs is not None else {}).setdefault(provider, SharedBackoff())
    limiters = limiters if limiters is not None else {}
    if provider not in limiters and new_limiter is not None:
        made = new_limiter(provider)
        if made is not None:
            limiters[provider] = made
    limiter = limiters.get(provider)
    if limiter is not None and backoff.pacer.on_pacing is None:
        backoff.pacer.on_pacing = limiter.paced
    return providers[provider](name.strip(), prices=prices, backoff=backoff, limiter=limiter)


def _sim_latency() -> float:
    raw = os.environ.get("FANFLOW_SIM_LATENCY", "0")
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"FANFLOW_SIM_LATENCY={raw!r} is not a number of seconds") from None
    if value < 0:
        raise ConfigError(f"FANFLOW_SIM_LATENCY={raw!r} must not be negative")
    return value
