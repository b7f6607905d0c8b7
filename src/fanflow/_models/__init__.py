"""Model providers behind one interface, chosen by a `PROVIDER:MODEL` string."""

from __future__ import annotations

import os

from .._errors import ConfigError
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
from ._sim import SimModel

__all__ = [
    "FunctionModel",
    "Message",
    "Model",
    "ModelRequest",
    "ModelResponse",
    "SimModel",
    "ToolCall",
    "ToolResult",
    "ToolSpec",
    "Usage",
    "estimate_tokens",
    "resolve_model",
]

_REAL_PROVIDERS = ("anthropic", "openai")


def resolve_model(spec: str) -> Model:
    """Build the model named by `spec` (`sim`, `anthropic:NAME`, `openai:NAME`, `claude-…`)."""
    spec = spec.strip()
    if spec == "sim" or spec.startswith("sim:"):
        return SimModel(latency=_sim_latency(), name=spec)
    provider, _, name = spec.partition(":")
    if spec.startswith("claude-"):
        provider, name = "anthropic", spec
    if provider in _REAL_PROVIDERS and name:
        raise ConfigError(
            f"model {spec!r}: the {provider} provider is not in this build of fanflow yet; "
            "use --model sim for now"
        )
    raise ConfigError(
        f"unknown model {spec!r}; use sim, anthropic:MODEL, openai:MODEL or a claude-… name"
    )


def _sim_latency() -> float:
    raw = os.environ.get("FANFLOW_SIM_LATENCY", "0")
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"FANFLOW_SIM_LATENCY={raw!r} is not a number of seconds") from None
    if value < 0:
        raise ConfigError(f"FANFLOW_SIM_LATENCY={raw!r} must not be negative")
    return value
