"""`openai:NAME` through the official `openai` SDK: Chat Completions, so any
OpenAI-compatible server works (`OPENAI_BASE_URL`): llama.cpp's llama-server,
llama-cpp-python, vLLM, Ollama, LM Studio (docs/providers.md, "Local
OpenAI-compatible servers").

Calls stream (`stream: true`, `stream_options.include_usage`): the first chunk
says the response began (the prefix stagger waits on it), and a timed-out or
cancelled call closes its connection, which is what stops a local server
generating for it. What differs between servers:

- the output cap: OpenAI's reasoning models refuse `max_tokens`, so OpenAI's own
  API gets `max_completion_tokens` alone; any other server gets both fields
  (llama-cpp-python, LM Studio and older Ollama read only `max_tokens`);
- an assistant turn that only calls tools has `content: null` at OpenAI and
  `content: ""` elsewhere (llama-cpp-python answers a null with HTTP 500);
- a 400 that names a field we sent (`stream_options`, `max_completion_tokens`,
  `max_tokens`, `tool_choice`, `response_format`, `stream`) teaches this model, for the rest of
  the run, to stop sending it, and the call is made again at once;
- a stream without usage (llama-cpp-python ignores `stream_options`) is counted
  by estimate: the conversation sent, and the larger of the content chunks
  received and the four-characters-a-token estimate of the reply;
- a server's context size is asked once (`_local.probe`) unless configured;
- a spawn's schema goes as `response_format` json_schema (a grammar on llama-server
  and vLLM), except on a local server's turns that offer tools.

Effort maps to `reasoning_effort` on reasoning models (o-series, gpt-5). Prompt
caching is automatic on this API: the shared prefix (system prompt, tools) is
kept first and identical across a fan-out, and cached tokens come back in
`prompt_tokens_details`.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from typing import Any

from .._errors import ConfigError
from ._base import (
    Message,
    ModelRequest,
    ModelResponse,
    ToolCall,
    Usage,
    estimate_tokens,
    response_began,
)
from ._conversation import billed_input
from ._local import ServerInfo, is_official, probe, tools_ignored
from ._provider import OPTIONS as PROVIDER_OPTIONS
from ._provider import ProviderModel, checked_response
from ._resilience import classify, note

KEY_VAR = "OPENAI_API_KEY"
OPTIONS = (*PROVIDER_OPTIONS, "max_tokens_field", "stream")
FIELDS = ("both", "max_tokens", "max_completion_tokens")
_REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")
_EFFORT = {"low": "low", "medium": "medium", "high": "high", "xhigh": "high", "max": "high"}
_FINISH = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens"}
_LEARNABLE = (
    "stream_options",
    "max_completion_tokens",
    "max_tokens",
    "tool_choice",
    "response_format",
    "stream",
)
"""Fields a server may refuse by name; each is dropped at most once per model (bounded)."""


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

    def __init__(self, name: str, **options: Any) -> None:
        super().__init__(name, **options)
        self.base_url = os.environ.get(self.base_url_var) or None
        self.official = is_official(self.base_url)
        field = self.options.get("max_tokens_field")
        if field is not None and field not in FIELDS:
            raise ConfigError(
                f"[models.openai] max_tokens_field = {field!r} must be one of {', '.join(FIELDS)}"
            )
        default = "max_completion_tokens" if self.official else "both"
        self._send = {"stream", "stream_options", "tool_choice", "response_format"}
        self._send |= (
            {"max_tokens", "max_completion_tokens"}
            if (field or default) == "both"
            else {field or default}
        )
        if self.options.get("stream", "true").lower() in ("false", "0", "no", "off"):
            self._send -= {"stream", "stream_options"}
        self.server = ServerInfo()
        self._probed: asyncio.Task[None] | None = None
        self._tools_work = False
        """A reply of this server carried a tool call: it does take tools."""
        self._told: set[str] = set()

    async def context_size(self) -> int:
        """Asks a non-OpenAI server its context size once (concurrent callers share the
        one question); the configured `context_tokens` is never overridden."""
        if self.official or self.base_url is None or self.key_missing is not None:
            return self.context_tokens
        if self._probed is None:
            self._probed = asyncio.ensure_future(self._probe())
        await asyncio.shield(self._probed)
        return self.context_tokens

    async def _probe(self) -> None:
        assert self.base_url is not None
        self.server = await probe(self._client, self.base_url, self.model)
        if self.server.n_ctx is not None and not self.context_configured:
            self.context_tokens = self.server.n_ctx

    async def request(self, req: ModelRequest) -> ModelResponse:
        await self.context_size()
        return await super().request(req)

    async def _call(self, req: ModelRequest) -> ModelResponse:
        params = self._params(req)
        try:
            if "stream" in self._send:
                reply, counted = await self._streamed(params, req)
            else:
                reply, counted = await self._plain(params, req)
        except self._sdk.APIError as exc:
            if self._learn(exc, params):
                return await self._call(req)
            self._backoff.observe(getattr(getattr(exc, "response", None), "headers", None))
            raise classify(
                exc,
                provider="OpenAI",
                model=self.model,
                key_var=KEY_VAR,
                base_url_var=self.base_url_var,
            ) from None
        self._check_tools(req, reply, counted)
        return reply

    async def _streamed(
        self, params: dict[str, Any], req: ModelRequest
    ) -> tuple[ModelResponse, int | None]:
        """The call streamed; its first chunk says the response began. Leaving the
        `async with` in any way (done, timed out, cancelled) closes the connection."""
        params["stream"] = True
        if "stream_options" in self._send:
            params["stream_options"] = {"include_usage": True}
        stream = await self._client.chat.completions.create(**params)
        self._backoff.observe(getattr(getattr(stream, "response", None), "headers", None))
        acc = _Accumulator()
        async with stream:
            async for chunk in stream:  # bounded by the server's stream, each chunk once
                if acc.add(chunk):
                    response_began()
        return await checked_response(
            "OpenAI Chat Completions", lambda a: self._made(a, req), lambda: acc
        )

    async def _plain(
        self, params: dict[str, Any], req: ModelRequest
    ) -> tuple[ModelResponse, int | None]:
        raw = await self._client.chat.completions.with_raw_response.create(**params)
        self._backoff.observe(raw.headers)
        return await checked_response(
            "OpenAI Chat Completions",
            lambda c: self._counted(_response(c), c.usage, req),
            raw.parse,
        )

    def _made(self, acc: _Accumulator, req: ModelRequest) -> tuple[ModelResponse, int | None]:
        return self._counted(acc.response(), acc.usage, req, acc.pieces)

    def _counted(
        self, reply: ModelResponse, usage: Any, req: ModelRequest, pieces: int = 0
    ) -> tuple[ModelResponse, int | None]:
        """The reply with its usage; without one from the server, an estimate (said once)."""
        if usage is not None and getattr(usage, "prompt_tokens", None) is not None:
            reply.usage = _usage(usage)
            return reply, usage.prompt_tokens
        output = estimate_tokens(
            reply.text + "".join(json.dumps(c.input) for c in reply.tool_calls)
        )
        reply.usage = Usage(input_tokens=billed_input(req), output_tokens=max(pieces, output))
        self._tell_once(
            "usage_estimated",
            f"{self.name}: the server sent no token usage; counts are estimated "
            "(four characters a token)",
        )
        return reply, None

    def _learn(self, exc: Exception, params: dict[str, Any]) -> bool:
        """Whether a refusal names a field we can do without; it is dropped for the run."""
        if getattr(exc, "status_code", None) not in (400, 422):
            return False
        text = str(getattr(exc, "body", "") or "") + str(exc)
        for name in _LEARNABLE:
            if name in self._send and name in params and _names(text, name):
                if (
                    name.startswith("max_")
                    and not {"max_tokens", "max_completion_tokens"} <= self._send
                ):
                    continue  # the only output cap left: never sent without one
                self._send.discard(name)
                if name == "stream":
                    self._send.discard("stream_options")
                self._tell_once(
                    f"dropped_{name}",
                    f"{self.name}: the server refused `{name}`; not sent again this run",
                )
                return True
        return False

    def _check_tools(self, req: ModelRequest, reply: ModelResponse, counted: int | None) -> None:
        """D3: an agent granted tools that answers without ever calling one, on a server
        that shows a sign of having dropped them, is said to the journal and the reply."""
        if not req.tools:
            return
        if reply.tool_calls:
            self._tools_work = True
            return
        if self._tools_work or any(m.tool_calls or m.tool_results for m in req.messages):
            return
        why = tools_ignored(req, reply, counted, self.server)
        if why is None:
            return
        text = (
            f"{self.name} seems to ignore tools: {why}; the agent answered without its "
            "tools (llama-server needs --jinja; llama-cpp-python a chat format with "
            "function calling)"
        )
        reply.notes.append(text)
        note("tools_ignored", text)

    def _tell_once(self, key: str, message: str) -> None:
        if key not in self._told:
            self._told.add(key)
            note(key, message)

    def _params(self, req: ModelRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": req.system},
                *wire_messages(req.messages, null_content=self.official),
            ],
        }
        for name in ("max_completion_tokens", "max_tokens"):
            if name in self._send:
                params[name] = req.max_tokens
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
            if "tool_choice" in self._send:
                params["tool_choice"] = "auto"
        # the schema as a grammar (llama-server, vLLM) or structured output (OpenAI); not
        # strict, which would demand every property and no extra ones. A local grammar
        # would also forbid tool calls, so there it waits for a tool-less turn.
        grammar_fits = self.official or not req.tools
        if req.schema is not None and "response_format" in self._send and grammar_fits:
            params["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": req.schema, "strict": False},
            }
        if req.effort and self.model.startswith(_REASONING_PREFIXES):
            params["reasoning_effort"] = _EFFORT[req.effort]
        return params


def _names(text: str, field: str) -> bool:
    """Whether an error text names `field` itself (not a longer field containing it)."""
    return re.search(rf"(?<![\w]){re.escape(field)}(?![\w])", text) is not None


def wire_messages(messages: list[Message], *, null_content: bool = True) -> list[dict[str, Any]]:
    """Neutral messages as Chat Completions messages (tool results become `tool` messages).

    An assistant turn with tool calls and no text has `content: null` when
    `null_content` (OpenAI's own API), else `""` (servers that require a string)."""
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
                    "content": m.text or (None if null_content else ""),
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


class _Accumulator:
    """A streamed reply put together from its chunks, read leniently: local servers leave
    out fields OpenAI sends (a tool call's `index`, `usage`, sometimes `choices`)."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.calls: dict[int, dict[str, Any]] = {}
        self.finish: str | None = None
        self.usage: Any = None
        self.pieces = 0
        self.chunks = 0

    def add(self, chunk: Any) -> bool:
        """Take one chunk; True for the first (the response began)."""
        self.chunks += 1
        if getattr(chunk, "usage", None) is not None:
            self.usage = chunk.usage
        for choice in getattr(chunk, "choices", None) or []:
            if (getattr(choice, "index", 0) or 0) != 0:
                continue
            delta = getattr(choice, "delta", None)
            if getattr(delta, "content", None):
                self.text.append(delta.content)
                self.pieces += 1
            for call in getattr(delta, "tool_calls", None) or []:
                index = getattr(call, "index", None)
                slot = self.calls.setdefault(
                    index if isinstance(index, int) else len(self.calls),
                    {"id": None, "name": "", "arguments": []},
                )
                slot["id"] = getattr(call, "id", None) or slot["id"]
                function = getattr(call, "function", None)
                if getattr(function, "name", None):
                    slot["name"] = function.name
                if getattr(function, "arguments", None):
                    slot["arguments"].append(function.arguments)
                    self.pieces += 1
            self.finish = getattr(choice, "finish_reason", None) or self.finish
        return self.chunks == 1

    def response(self) -> ModelResponse:
        if self.chunks == 0:
            raise ValueError("an empty stream")
        calls = [
            ToolCall(c["id"] or f"call_{i}", c["name"], _arguments("".join(c["arguments"])))
            for i, c in sorted(self.calls.items())
        ]
        finish = self.finish or ("tool_calls" if calls else "stop")
        return ModelResponse(
            text="".join(self.text),
            tool_calls=calls,
            stop_reason=_FINISH.get(finish, "end_turn"),
        )


def _usage(u: Any) -> Usage:
    details = getattr(u, "prompt_tokens_details", None)
    cached = (getattr(details, "cached_tokens", 0) or 0) if details is not None else 0
    return Usage(
        input_tokens=(u.prompt_tokens or 0) - cached,
        output_tokens=getattr(u, "completion_tokens", 0) or 0,
        cache_read_input_tokens=cached,
    )


def _response(completion: Any) -> ModelResponse:
    choice = completion.choices[0]
    calls = [
        ToolCall(c.id, c.function.name, _arguments(c.function.arguments))
        for c in choice.message.tool_calls or []
    ]
    return ModelResponse(
        text=choice.message.content or "",
        tool_calls=calls,
        stop_reason=_FINISH.get(choice.finish_reason or "stop", "end_turn"),
    )


def _arguments(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {"_unparsed_arguments": raw}
    return value if isinstance(value, dict) else {"value": value}
