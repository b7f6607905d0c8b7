"""What an OpenAI-compatible server other than OpenAI's says about itself, and how it
shows that it ignored the tools it was sent.

Asked once per model per run, each question with a short timeout, never retried
(an answer is a help, not a need): llama.cpp's `llama-server` has `GET /props`
(`default_generation_settings.n_ctx`, the context of one slot, and
`chat_template_caps.supports_tools`); vLLM's `GET /v1/models` lists
`max_model_len`, llama-server's `meta.n_ctx`, LM Studio's `max_context_length`.
llama-cpp-python and Ollama say nothing: their context size comes from the
configuration (`context_tokens`) or from a context-length 400 (`ContextTooLong`).

A server can drop the tools of a request silently (a chat template that does not
render them, as llama-cpp-python's do when its chat format has no function
calling). The model then answers without them, and the agent's report would look
like a success that never used a tool. Signals that it happened (`tools_ignored`),
checked only when an agent granted tools answers without having made a single
tool call, and never once the server has returned a tool call in this run:

1. the server said so: `/props` `chat_template_caps.supports_tools` is false;
2. the model wrote a tool call as text (`<tool_call>`, `{"name": "read", ...`), which
   the server did not turn into `tool_calls`;
3. the prompt the server counted (`usage.prompt_tokens`) is too small to hold the
   tool definitions sent: under 0.6 x the estimate of tools plus conversation,
   when the tools alone are estimated at 100 tokens or more. A server that renders
   the tools counts their tokens; tokenizers count at most ~1.7x fewer tokens than
   the four-characters-a-token estimate, so 0.6 leaves a margin.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ._base import ModelRequest, ModelResponse, estimate_tokens
from ._conversation import conversation_text

PROBE_TIMEOUT_S = 3.0
MIN_TOOL_TOKENS = 100
COUNTED_SHARE = 0.6
_TEXT_CALL = re.compile(r"<\|?tool_call\|?>|\[TOOL_CALLS\]|<function[=>]|\"function\"\s*:\s*\{")


@dataclass
class ServerInfo:
    """What the server said about itself (each None when it did not say)."""

    n_ctx: int | None = None
    source: str | None = None
    """Where `n_ctx` came from: `/props`, `/v1/models`."""
    supports_tools: bool | None = None


def is_official(base_url: str | None) -> bool:
    """OpenAI's own API (or Azure OpenAI): no base URL, or a host under openai.com /
    openai.azure.com. Everything else is an OpenAI-compatible server."""
    if not base_url:
        return True
    host = (urlsplit(base_url).hostname or "").lower()
    return host == "openai.com" or host.endswith((".openai.com", ".openai.azure.com"))


async def probe(client: Any, base_url: str, model: str) -> ServerInfo:
    """Ask the server at `base_url` (the SDK's, ending in /v1) for its context size."""
    info = ServerInfo()
    base = base_url.rstrip("/")
    root = base[:-3] if base.endswith("/v1") else base
    props = await _get(client, f"{root}/props")
    if isinstance(props, dict):
        settings = props.get("default_generation_settings")
        n_ctx = settings.get("n_ctx") if isinstance(settings, dict) else None
        if _positive(n_ctx):
            info.n_ctx, info.source = n_ctx, "/props"
        caps = props.get("chat_template_caps")
        if isinstance(caps, dict) and isinstance(caps.get("supports_tools"), bool):
            info.supports_tools = caps["supports_tools"]
    if info.n_ctx is None:
        listed = await _get(client, f"{base}/models")
        n_ctx = _listed_context(listed, model)
        if n_ctx is not None:
            info.n_ctx, info.source = n_ctx, "/v1/models"
    return info


def tools_ignored(
    req: ModelRequest, reply: ModelResponse, prompt_tokens: int | None, info: ServerInfo
) -> str | None:
    """Why the server seems to have ignored the tools of `req`, or None (see the module
    docstring). Called for a final answer of an agent that made no tool call."""
    if info.supports_tools is False:
        return "its /props says its chat template does not support tools"
    names = [t.name for t in req.tools]
    alternatives = "|".join(map(re.escape, names))
    named = re.compile(rf"\"name\"\s*:\s*\"({alternatives})\"")
    if _TEXT_CALL.search(reply.text) or named.search(reply.text):
        return "the model wrote a tool call as text, which the server did not parse"
    if prompt_tokens is not None:
        tools = estimate_tokens(json.dumps([t.__dict__ for t in req.tools]))
        rest = estimate_tokens(req.system + conversation_text(req.messages))
        if tools >= MIN_TOOL_TOKENS and prompt_tokens < COUNTED_SHARE * (tools + rest):
            return (
                f"it counted {prompt_tokens} prompt tokens, too few to hold the tool "
                f"definitions sent (about {tools}) and the conversation (about {rest})"
            )
    return None


async def _get(client: Any, url: str) -> Any:
    """GET `url` with the client's auth; None on any failure (the answer is optional)."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            return await client.get(
                url, cast_to=object, options={"timeout": PROBE_TIMEOUT_S, "max_retries": 0}
            )
    return None


def _listed_context(listed: Any, model: str) -> int | None:
    data = listed.get("data") if isinstance(listed, dict) else None
    if not isinstance(data, list):
        return None
    entries = [e for e in data if isinstance(e, dict)]
    mine = [e for e in entries if e.get("id") == model] or (entries if len(entries) == 1 else [])
    for entry in mine:
        meta = entry.get("meta") if isinstance(entry.get("meta"), dict) else {}
        for value in (
            entry.get("max_model_len"),
            entry.get("loaded_context_length"),
            entry.get("max_context_length"),
            entry.get("context_length"),
            meta.get("n_ctx"),
        ):
            if _positive(value):
                return value
    return None


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
