"""A strict "local server" mode of the fake OpenAI endpoint: strict in the ways the
OpenAI-compatible servers people run at home are, not in OpenAI's ways.

    FakeAPI(local=LocalServer(n_ctx=4096, drop_tools=True))

What each setting copies (seen against llama-cpp-python's server and llama.cpp's
`llama-server`, and in their sources):

null_content   an assistant turn with `content: null` is a 500 whose message is a
               pydantic validation dump (llama-cpp-python: its assistant message
               type wants a string)
honours        the output-cap field read: `max_tokens` (llama-cpp-python, LM Studio,
               older Ollama), `max_completion_tokens`, or `both` (llama-server, vLLM);
               without it the model writes until it is done
drop_tools     tools are accepted and never shown to the model: no tool calls come
               back, and the prompt tokens do not count them (a chat template that does
               not render tools)
supports_tools what `/props` says in `chat_template_caps.supports_tools` (None: unsaid)
n_ctx          the context of a slot: a prompt that does not fit is llama-server's 400
               `exceed_context_size_error`, with `n_prompt_tokens` and `n_ctx`
context_via    where the server tells its n_ctx: `props` (llama-server's `GET /props`
               `default_generation_settings.n_ctx`), `models` (vLLM's `GET /v1/models`
               `max_model_len`), or None (llama-cpp-python, Ollama: nowhere)
stream_usage   False: `stream_options` is ignored and no usage chunk is sent
refuse         fields answered with a 400 naming them (`{"stream_options"}`: a server
               whose request model forbids extra fields)
hang           calls are never answered: the handler waits, bounded, until the client
               closes the connection, and counts that in `disconnects`
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from ._faults import Problem

HANG_SLICE_S = 0.02
HANG_SLICES = 3000
"""A hung call waits at most HANG_SLICES x HANG_SLICE_S (60 s) for its client to leave."""
UNBOUNDED = 1_000_000
"""What a server that did not read the output cap lets the model write."""


@dataclass
class LocalServer:
    null_content: bool = True
    honours: str = "max_tokens"
    drop_tools: bool = False
    supports_tools: bool | None = None
    n_ctx: int | None = None
    context_via: str | None = "props"
    stream_usage: bool = True
    refuse: set[str] = field(default_factory=set)
    hang: bool = False
    disconnects: int = 0
    """Hung calls whose client closed the connection (what stops llama.cpp generating)."""
    hung: int = 0
    """Calls that hung."""

    def __post_init__(self) -> None:
        if self.honours not in ("max_tokens", "max_completion_tokens", "both"):
            raise ValueError(f"LocalServer.honours={self.honours!r}")
        if self.context_via not in (None, "props", "models"):
            raise ValueError(f"LocalServer.context_via={self.context_via!r}")

    # -- before the model runs ------------------------------------------------------------

    def check(self, body: Any) -> None:
        """The refusals these servers give before any model runs."""
        if not isinstance(body, dict):
            return
        for name in sorted(self.refuse):
            if name in body:
                raise Problem(
                    400,
                    "invalid_request_error",
                    f"[{{'type': 'extra_forbidden', 'loc': ('body', '{name}'), "
                    "'msg': 'Extra inputs are not permitted'}]",
                )
        if not self.null_content:
            return
        for i, message in enumerate(body.get("messages") or []):
            assistant = isinstance(message, dict) and message.get("role") == "assistant"
            if assistant and "content" in message and message["content"] is None:
                raise Problem(500, "internal_server_error", _null_content_dump(i))

    def seen(self, body: dict[str, Any]) -> dict[str, Any]:
        """The request as the model gets it: fields this server ignores are gone."""
        body = dict(body)
        if self.honours == "max_tokens":
            body.pop("max_completion_tokens", None)
            body.setdefault("max_tokens", UNBOUNDED)
        elif self.honours == "max_completion_tokens":
            body.pop("max_tokens", None)
            body.setdefault("max_completion_tokens", UNBOUNDED)
        elif "max_tokens" not in body and "max_completion_tokens" not in body:
            body["max_tokens"] = UNBOUNDED
        if self.drop_tools:
            body.pop("tools", None)
            body.pop("tool_choice", None)
        if not self.stream_usage:
            body.pop("stream_options", None)
        return body

    def overflow(self, prompt_tokens: int) -> Problem | None:
        """llama-server's answer to a prompt that does not fit its slot's context."""
        if self.n_ctx is None or prompt_tokens < self.n_ctx:
            return None
        message = (
            f"request ({prompt_tokens} tokens) exceeds the available context size "
            f"({self.n_ctx} tokens), try increasing it"
        )
        problem = Problem(400, "exceed_context_size_error", message)
        problem.body = {
            "error": {
                "code": 400,
                "message": message,
                "type": "exceed_context_size_error",
                "n_prompt_tokens": prompt_tokens,
                "n_ctx": self.n_ctx,
            }
        }
        return problem

    async def wait_for_client_to_leave(self, request: Any) -> None:
        """A hung call: nothing is sent; returns when the client closed the connection."""
        self.hung += 1
        for _ in range(HANG_SLICES):
            transport = request.transport
            if transport is None or transport.is_closing():
                self.disconnects += 1
                return
            await asyncio.sleep(HANG_SLICE_S)

    # -- what the server says about itself --------------------------------------------------

    def props(self) -> dict[str, Any] | None:
        if self.context_via != "props":
            return None
        props: dict[str, Any] = {
            "default_generation_settings": {"n_ctx": self.n_ctx or 4096, "params": {}},
            "total_slots": 4,
            "model_alias": "fake-local",
            "chat_template": "{{ messages }}",
        }
        if self.supports_tools is not None:
            props["chat_template_caps"] = {
                "supports_tools": self.supports_tools,
                "supports_tool_calls": self.supports_tools,
            }
        return props

    def models(self, model: str = "fake-local") -> dict[str, Any]:
        entry: dict[str, Any] = {"id": model, "object": "model", "owned_by": "fakeapi"}
        if self.context_via == "models" and self.n_ctx is not None:
            entry["max_model_len"] = self.n_ctx
        return {"object": "list", "data": [entry]}


def _null_content_dump(i: int) -> str:
    """llama-cpp-python's 500 for `content: null`: pydantic lists every message type of
    the union it tried, the role mismatches first, the useful line among them."""
    members = ("System", "User", "Assistant", "Tool", "Function")
    lines = [f"{len(members)} validation errors for CreateChatCompletionRequest"]
    for member in members:
        where = f"messages.{i}.ChatCompletionRequest{member}Message"
        if member == "Assistant":
            lines += [
                f"{where}.content",
                "  Input should be a valid string [type=string_type, input_value=None, "
                "input_type=NoneType]",
            ]
        else:
            lines += [
                f"{where}.role",
                f"  Input should be '{member.lower()}' [type=literal_error, "
                "input_value='assistant', input_type=str]",
            ]
        lines.append("    For further information visit https://errors.pydantic.dev/2.11/v/")
    return "\n".join(lines)
