"""The one interface every model provider implements.

Messages are provider-neutral: a provider turns them into its wire format and
its reply back into a `ModelResponse`. The subagent loop never sees an SDK type.
"""

from __future__ import annotations

import abc
import contextlib
import contextvars
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class ToolSpec:
    """A tool as the model sees it: a name, what it does, and its JSON Schema input."""

    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass(frozen=True)
class ToolCall:
    """The model asks the host to run a tool."""

    id: str
    name: str
    input: dict[str, Any]


@dataclass(frozen=True)
class ToolResult:
    """What a tool call returned, sent back to the model on the next turn."""

    call_id: str
    content: str
    is_error: bool = False


@dataclass
class Message:
    """One turn of a conversation.

    `role="system"` in the middle of a conversation is the fan-in block of
    `synthesize`; providers that cannot take it get it as a user message.
    """

    role: Literal["user", "assistant", "system"]
    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_results: list[ToolResult] = field(default_factory=list)


@dataclass
class Usage:
    """Tokens one model call used, cache reads and writes included."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0

    def __iadd__(self, other: Usage) -> Usage:
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cache_read_input_tokens += other.cache_read_input_tokens
        self.cache_creation_input_tokens += other.cache_creation_input_tokens
        return self


TOKEN_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)
"""Every kind of token a call is billed for, as `Usage` fields and report keys."""


def billed_tokens(usage: Usage | Mapping[str, int]) -> int:
    """All tokens billed: input, output, cache reads and writes (a Usage or a report dict)."""
    if isinstance(usage, Usage):
        return sum(getattr(usage, field) for field in TOKEN_FIELDS)
    return sum(usage.get(field) or 0 for field in TOKEN_FIELDS)


@dataclass(frozen=True)
class ModelRequest:
    """Everything one model call needs; built fresh by the subagent loop each turn."""

    system: str
    messages: list[Message]
    tools: list[ToolSpec]
    max_tokens: int
    effort: str | None = None
    schema: dict[str, Any] | None = None
    """The JSON Schema the answer will be validated against, if any."""


@dataclass
class ModelResponse:
    """The model's reply: final text, or tool calls to run before the next turn."""

    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    stop_reason: str = "end_turn"
    retries: int = 0
    """Attempts the provider retried before this reply (never counted as agents)."""
    notes: list[str] = field(default_factory=list)
    """What the provider noticed about this reply that the agent's record should say
    (a server that ignored the tools); each is also a journal event of the agent."""


class Model(abc.ABC):
    """A model a subagent can talk to. One subclass per provider."""

    name: str = "model"
    context_tokens: int = 200_000
    """How many tokens a request may hold; `synthesize` reduces data that exceeds it."""

    supports_mid_system: bool = False
    """Whether a `system` message may appear mid-conversation (fan-in block)."""

    scripted: str | None = None
    """Set by models that are not an LLM (`test`, an example's oracle): what plays the
    agents instead, in a few words. Every run on such a model says so in its report."""

    @abc.abstractmethod
    async def request(self, req: ModelRequest) -> ModelResponse:
        """Make one model call. Raise `ModelError` for replies that cannot be used."""

    def price(self, usage: Usage) -> float | None:
        """USD for `usage`, or None when the price is unknown (never a guess)."""
        return None

    async def context_size(self) -> int:
        """`context_tokens`, after the provider has asked its server where it can (once
        per run, cached); `synthesize` awaits this before it decides to split."""
        return self.context_tokens

    async def aclose(self) -> None:  # noqa: B027 - most models hold nothing to close
        """Release clients and connections."""


def estimate_tokens(text: str) -> int:
    """A provider-free token count: about four characters a token."""
    return max(1, (len(text) + 3) // 4)


_BEGAN: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar(
    "fanflow_response_began", default=None
)


@contextlib.contextmanager
def watching_begin(callback: Callable[[], None] | None) -> Iterator[None]:
    """Within this block, `response_began()` calls `callback` (the prefix stagger's cue)."""
    token = _BEGAN.set(callback)
    try:
        yield
    finally:
        _BEGAN.reset(token)


def begin_watched() -> bool:
    """Whether the caller wants to know when the response begins (so a provider streams)."""
    return _BEGAN.get() is not None


def response_began() -> None:
    """Called by a provider when the first event of a response arrives; at most once matters."""
    callback = _BEGAN.get()
    if callback is not None:
        callback()
