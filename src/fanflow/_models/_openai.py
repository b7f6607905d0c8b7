"""`openai:NAME` through the official `openai` SDK: Chat Completions, so any
OpenAI-compatible server works (`OPENAI_BASE_URL`).

Effort maps to `reasoning_effort` on reasoning models (o-series, gpt-5),
which is where the API accepts it. Prompt caching is automatic on this API:
the shared prefix (system prompt, tools) is kept first and identical across a
fan-out, and cached tokens come back in `prompt_tokens_details`.
"""

from __future__ import annotations

import json
from typing import Any

from ._anthropic import first_event
from ._base import Message, ModelRequest, ModelResponse, ToolCall, Usage, begin_watched
from ._provider import ProviderModel, checked_response
from ._resilience import classify

KEY_VAR = "OPENAI_API_KEY"
_REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")
_EFFORT = {"low": "low", "medium": "medium", "high": "high", "xhigh": "high", "max": "high"}
_FINISH = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens"}


class OpenAIModel(ProviderModel):
    """One model on the Chat Completions API; one client per model."""

    context_tokens = 128_000
    supports_mid_system = True  # Chat Completions takes system messages anywhere
    caches_prompts = True  # automatic prefix caching: the stagger helps

    provider = "openai"
    key_var = KEY_VAR
    key_hint = " (any OpenAI-compatible server: also OPENAI_BASE_URL)"
    base_url_var = "OPENAI_BASE_URL"
    client_class = "AsyncOpenAI"

    async def _call(self, req: ModelRequest) -> ModelResponse:
        try:
            if begin_watched():
                return await self._stream(self._params(req))
            raw = await self._client.chat.completions.with_raw_response.create(**self._params(req))
        except self._sdk.APIError as exc:
            self._backoff.observe(getattr(getattr(exc, "response", None), "headers", None))
            raise classify(
                exc,
                provider="OpenAI",
                model=self.model,
                key_var=KEY_VAR,
                base_url_var=self.base_url_var,
            ) from None
        self._backoff.observe(raw.headers)
        return await checked_response("OpenAI Chat Completions", _response, raw.parse)

    async def _stream(self, params: dict[str, Any]) -> ModelResponse:
        """The call streamed, so that its first chunk can say the response began (the
        prefix stagger's leader waits on it); usage comes in the last chunk."""
        params["stream_options"] = {"include_usage": True}
        async with self._client.chat.completions.stream(**params) as stream:
            response = getattr(stream, "_response", None)  # the SDK keeps the HTTP response here
            self._backoff.observe(getattr(response, "headers", None))
            await first_event(stream)
            return await checked_response(
                "OpenAI Chat Completions", _response, stream.get_final_completion
            )

    def _params(self, req: ModelRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.model,
            "max_completion_tokens": req.max_tokens,
            "messages": [{"role": "system", "content": req.system}, *wire_messages(req.messages)],
        }
        if req.tools:
            params["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.input_schema,
                    },
                }
                for t in req.tools
            ]
        if req.effort and self.model.startswith(_REASONING_PREFIXES):
            params["reasoning_effort"] = _EFFORT[req.effort]
        return params


def wire_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """Neutral messages as Chat Completions messages (tool results become `tool` messages)."""
    out: list[dict[str, Any]] = []
    for m in messages:
        out += [
            {
                "role": "tool",
                "tool_call_id": r.call_id,
                "content": f"ERROR: {r.content}" if r.is_error else r.content,
            }
            for r in m.tool_results
        ]
        if m.tool_calls:
            out.append(
                {
                    "role": "assistant",
                    "content": m.text or None,
                    "tool_calls": [
                        {
                            "id": c.id,
                            "type": "function",
                            "function": {"name": c.name, "arguments": json.dumps(c.input)},
                        }
                        for c in m.tool_calls
                    ],
                }
            )
        elif m.text:
            out.append({"role": m.role, "content": m.text})
    return out


def _response(completion: Any) -> ModelResponse:
    choice = completion.choices[0]
    calls = [
        ToolCall(c.id, c.function.name, _arguments(c.function.arguments))
        for c in choice.message.tool_calls or []
    ]
    u = completion.usage
    cached = 0
    if u is not None and u.prompt_tokens_details is not None:
        cached = u.prompt_tokens_details.cached_tokens or 0
    usage = Usage(
        input_tokens=(u.prompt_tokens - cached) if u else 0,
        output_tokens=u.completion_tokens if u else 0,
        cache_read_input_tokens=cached,
    )
    return ModelResponse(
        text=choice.message.content or "",
        tool_calls=calls,
        usage=usage,
        stop_reason=_FINISH.get(choice.finish_reason or "stop", "end_turn"),
    )


def _arguments(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {"_unparsed_arguments": raw}
    return value if isinstance(value, dict) else {"value": value}
