"""`anthropic:NAME` through the official `anthropic` SDK (async client).

The shared prefix of a fan-out (tool definitions and system prompt) carries
`cache_control`, so the 2nd..Nth agent of a phase read it from cache. Effort
goes as `output_config.effort`. A mid-conversation `system` message (the
fan-in data block) is sent as such to claude-opus-4-8 and later; other models
get it as user text, and a 400 for the system role switches the model to user
text for the rest of the run.
"""

from __future__ import annotations

import re
from typing import Any

from ._base import (
    Message,
    ModelRequest,
    ModelResponse,
    ToolCall,
    Usage,
    begin_watched,
    response_began,
)
from ._provider import ProviderModel, checked_response
from ._resilience import classify

KEY_VAR = "ANTHROPIC_API_KEY"
STREAM_ABOVE_MAX_TOKENS = 16_000
_OPUS = re.compile(r"^claude-opus-(\d+)-(\d+)")
_CACHE = {"type": "ephemeral"}


def takes_mid_system(name: str) -> bool:
    """claude-opus-4-8 and later accept a system message mid-conversation."""
    match = _OPUS.match(name)
    return bool(match) and (int(match[1]), int(match[2])) >= (4, 8)


class AnthropicModel(ProviderModel):
    """One model on the Messages API; one client (one connection pool) per model."""

    context_tokens = 200_000
    caches_prompts = True  # the shared prefix carries cache_control: the stagger helps

    provider = "anthropic"
    key_var = KEY_VAR
    base_url_var = "ANTHROPIC_BASE_URL"
    client_class = "AsyncAnthropic"

    def __init__(self, name: str, **options: Any) -> None:
        super().__init__(name, **options)
        self.supports_mid_system = takes_mid_system(name)

    async def _call(self, req: ModelRequest) -> ModelResponse:
        params = self._params(req)
        try:
            return await self._send(params)
        except self._sdk.APIError as exc:
            if self._rejects_mid_system(exc, params):
                self.supports_mid_system = False  # remembered for the rest of the run
                return await self._call(req)
            self._backoff.observe(getattr(getattr(exc, "response", None), "headers", None))
            raise classify(
                exc,
                provider="Anthropic",
                model=self.model,
                key_var=KEY_VAR,
                base_url_var=self.base_url_var,
            ) from None

    async def _send(self, params: dict[str, Any]) -> ModelResponse:
        # streamed when long, and when someone waits for the response to begin (the prefix
        # stagger's leader): only a stream says when that is
        if params["max_tokens"] > STREAM_ABOVE_MAX_TOKENS or begin_watched():
            async with self._client.messages.stream(**params) as stream:
                self._backoff.observe(stream.response.headers)
                await first_event(stream)
                return await checked_response(
                    "Anthropic Messages API", _response, stream.get_final_message
                )
        raw = await self._client.messages.with_raw_response.create(**params)
        self._backoff.observe(raw.headers)
        return await checked_response("Anthropic Messages API", _response, raw.parse)

    def _rejects_mid_system(self, exc: Exception, params: dict[str, Any]) -> bool:
        return (
            getattr(exc, "status_code", None) == 400
            and self.supports_mid_system
            and "system" in str(exc).lower()
            and any(m["role"] == "system" for m in params["messages"])
        )

    def _params(self, req: ModelRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.model,
            "max_tokens": req.max_tokens,
            "system": [{"type": "text", "text": req.system, "cache_control": _CACHE}],
            "messages": wire_messages(req.messages, mid_system=self.supports_mid_system),
        }
        if req.tools:
            params["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.input_schema}
                for t in req.tools
            ]
        if req.effort:
            params["output_config"] = {"effort": req.effort}
        return params


async def first_event(stream: Any) -> None:
    """Read a stream's first event (its accumulator keeps it) and say the response began."""
    try:
        await stream.__anext__()
    except StopAsyncIteration:
        return
    response_began()


def wire_messages(messages: list[Message], *, mid_system: bool) -> list[dict[str, Any]]:
    """Neutral messages as Messages API turns; same-role neighbours merged, as the API needs."""
    turns: list[dict[str, Any]] = []
    for message in messages:
        role = message.role if message.role != "system" or mid_system else "user"
        blocks = _blocks(message)
        if turns and turns[-1]["role"] == role and role != "system":
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return turns


def _blocks(message: Message) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {
            "type": "tool_result",
            "tool_use_id": r.call_id,
            "content": r.content,
            "is_error": r.is_error,
        }
        for r in message.tool_results
    ]
    if message.text:
        blocks.append({"type": "text", "text": message.text})
    blocks += [
        {"type": "tool_use", "id": c.id, "name": c.name, "input": c.input}
        for c in message.tool_calls
    ]
    return blocks


def _response(message: Any) -> ModelResponse:
    text = "".join(b.text for b in message.content if b.type == "text")
    calls = [ToolCall(b.id, b.name, dict(b.input)) for b in message.content if b.type == "tool_use"]
    u = message.usage
    usage = Usage(
        input_tokens=u.input_tokens,
        output_tokens=u.output_tokens,
        cache_read_input_tokens=u.cache_read_input_tokens or 0,
        cache_creation_input_tokens=u.cache_creation_input_tokens or 0,
    )
    return ModelResponse(
        text=text, tool_calls=calls, usage=usage, stop_reason=message.stop_reason or "end_turn"
    )
