"""Model providers behind one interface, chosen by a `PROVIDER:MODEL` string (`_registry`)."""

from __future__ import annotations

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
from ._pressure import AdaptiveLimit
from ._pricing import Price
from ._registry import HOW_TO_CHOOSE, ModelSource, model_sources, resolve_model, split_spec
from ._resilience import FatalModelError, RetryableModelError, SharedBackoff
from ._test import TestModel

__all__ = [
    "HOW_TO_CHOOSE",
    "AdaptiveLimit",
    "FatalModelError",
    "FunctionModel",
    "Message",
    "Model",
    "ModelRequest",
    "ModelResponse",
    "ModelSource",
    "Price",
    "RetryableModelError",
    "SharedBackoff",
    "TestModel",
    "ToolCall",
    "ToolResult",
    "ToolSpec",
    "Usage",
    "estimate_tokens",
    "model_sources",
    "resolve_model",
    "split_spec",
]
