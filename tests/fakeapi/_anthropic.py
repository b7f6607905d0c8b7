"""`POST /v1/messages` as the Anthropic Messages API answers it.

Checks a request the way the real API does (4xx with its error body, before
any model runs), turns it into a provider-neutral `ModelRequest`, and turns
the brain's reply back into a `message` object or its SSE event sequence.
Usage comes from the wire request, prompt caching included: the prefix up to
each `cache_control` breakpoint (tools, then system, then messages) is written
the first time it is seen, and read by requests that arrive after the response
that wrote it has begun (as at the real API; `PrefixCache`).
"""

from __future__ import annotations

import json
import re
import uuid
from typing import TYPE_CHECKING, Any

from fanflow import Message, ModelRequest, ModelResponse, ToolCall, ToolResult, ToolSpec
from fanflow._models import estimate_tokens

from ._faults import Problem

if TYPE_CHECKING:
    from ._server import PrefixCache

TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
EFFORTS = ("low", "medium", "high", "xhigh", "max")
MAX_BREAKPOINTS = 4
_OPUS = re.compile(r"^claude-opus-(\d+)(?:-(\d{1,2}))?(?!\d)")
_TEXT_BLOCKS = ("text", "image", "document", "search_result", "container_upload")
_TOOL_BLOCKS = ("tool_use", "tool_result", "server_tool_use", "web_search_tool_result")
_BLOCK_TYPES = frozenset((*_TEXT_BLOCKS, *_TOOL_BLOCKS, "thinking", "redacted_thinking"))


def takes_mid_system(model: str) -> bool:
    """Whether `model` accepts a `system` message mid-conversation (claude-opus-4-8 and later)."""
    match = _OPUS.match(model)
    return bool(match) and (int(match[1]), int(match[2] or 0)) >= (4, 8)


def _bad(message: str) -> Problem:
    return Problem(400, "invalid_request_error", message)


class AnthropicDialect:
    """Everything provider-specific about the Messages API."""

    name = "anthropic"

    def __init__(self, api_key: str, cache: PrefixCache) -> None:
        self.api_key = api_key
        self.cache = cache

    # -- requests ---------------------------------------------------------------------

    def auth(self, headers: dict[str, str]) -> None:
        key, bearer = headers.get("x-api-key"), headers.get("authorization")
        if key is None and bearer is None:
            raise Problem(401, "authentication_error", "x-api-key header is required")
        if key != self.api_key and bearer != f"Bearer {self.api_key}":
            raise Problem(401, "authentication_error", "invalid x-api-key")
        if not headers.get("anthropic-version"):
            raise _bad("anthropic-version: header is required")

    def validate(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise _bad("Request body must be a JSON object")
        for name in ("model", "max_tokens", "messages"):
            if name not in body:
                raise _bad(f"{name}: Field required")
        model, max_tokens = body["model"], body["max_tokens"]
        if not isinstance(model, str) or not model:
            raise _bad("model: Input should be a valid, non-empty string")
        if type(max_tokens) is not int:
            raise _bad("max_tokens: Input should be a valid integer")
        if max_tokens < 1:
            raise _bad("max_tokens: Input should be greater than or equal to 1")
        if "stream" in body and not isinstance(body["stream"], bool):
            raise _bad("stream: Input should be a valid boolean")
        breakpoints = _check_cache_control(body.get("cache_control"), "cache_control")
        breakpoints += _check_system(body.get("system"))
        breakpoints += _check_tools(body.get("tools"))
        breakpoints += _check_messages(body["messages"], model)
        if breakpoints > MAX_BREAKPOINTS:
            raise _bad(
                f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. "
                f"Found {breakpoints}."
            )
        config = body.get("output_config")
        if config is not None:
            if not isinstance(config, dict):
                raise _bad("output_config: Input should be a valid dictionary")
            effort = config.get("effort")
            if effort is not None and effort not in EFFORTS:
                raise _bad("output_config.effort: Input should be " + _choices(EFFORTS))

    def neutral(self, body: dict[str, Any]) -> ModelRequest:
        tools = [
            ToolSpec(t["name"], t.get("description") or "", t["input_schema"])
            for t in body.get("tools") or []
            if t.get("type") in (None, "custom")
        ]
        return ModelRequest(
            system=_system_text(body.get("system")),
            messages=[_neutral_message(m) for m in body["messages"]],
            tools=tools,
            max_tokens=body["max_tokens"],
            effort=(body.get("output_config") or {}).get("effort"),
        )

    # -- replies ----------------------------------------------------------------------

    def usage(
        self, body: dict[str, Any], output_tokens: int, arrived: float | None = None
    ) -> dict[str, Any]:
        """Token usage of `body`, with prompt-cache reads and writes; records the writes."""
        parts = _cache_parts(body)
        marks = [i for i, (_, _, mark) in enumerate(parts) if mark is not None]
        read, creation = self.cache.account(body["model"], [p[:2] for p in parts], marks, arrived)
        long = bool(marks) and parts[marks[-1]][2].get("ttl") == "1h"
        return {
            "input_tokens": sum(p[1] for p in parts) - read - creation,
            "cache_creation_input_tokens": creation,
            "cache_read_input_tokens": read,
            "cache_creation": {
                "ephemeral_5m_input_tokens": 0 if long else creation,
                "ephemeral_1h_input_tokens": creation if long else 0,
            },
            "output_tokens": output_tokens,
            "service_tier": "standard",
        }

    def answer(self, body: dict[str, Any], reply: ModelResponse, usage: dict[str, Any]) -> Any:
        content: list[dict[str, Any]] = []
        if reply.text or not reply.tool_calls:
            content.append({"type": "text", "text": reply.text})
        content += [
            {"type": "tool_use", "id": _id("toolu_"), "name": c.name, "input": c.input}
            for c in reply.tool_calls
        ]
        return {
            "id": _id("msg_"),
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": content,
            "stop_reason": reply.stop_reason,
            "stop_sequence": None,
            "usage": usage,
        }

    def events(self, body: dict[str, Any], reply: ModelResponse, usage: dict[str, Any]):
        """The SSE byte chunks of a streamed reply, in the real event order."""
        message = self.answer(body, reply, usage)
        start = {**message, "content": [], "stop_reason": None, "stop_sequence": None}
        start["usage"] = {**usage, "output_tokens": 1}
        yield _sse("message_start", {"type": "message_start", "message": start})
        for index, block in enumerate(message["content"]):
            if block["type"] == "text":
                opening, kind, key = {"type": "text", "text": ""}, "text_delta", "text"
                payload = block["text"]
            else:
                opening = {**block, "input": {}}
                kind, key, payload = "input_json_delta", "partial_json", json.dumps(block["input"])
            yield _sse(
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": opening},
            )
            if index == 0:
                yield _sse("ping", {"type": "ping"})
            for piece in _pieces(payload):
                delta = {"type": kind, key: piece}
                yield _sse(
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": delta},
                )
            yield _sse("content_block_stop", {"type": "content_block_stop", "index": index})
        final_usage = {k: v for k, v in usage.items() if k.endswith("tokens")}
        delta = {"stop_reason": message["stop_reason"], "stop_sequence": None}
        yield _sse("message_delta", {"type": "message_delta", "delta": delta, "usage": final_usage})
        yield _sse("message_stop", {"type": "message_stop"})


# -- validation helpers -------------------------------------------------------------------


def _choices(values: tuple[str, ...]) -> str:
    quoted = [f"'{v}'" for v in values]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _check_cache_control(value: Any, where: str) -> int:
    if value is None:
        return 0
    if not isinstance(value, dict) or value.get("type") != "ephemeral":
        raise _bad(f"{where}.type: Input should be 'ephemeral'")
    if value.get("ttl") not in (None, "5m", "1h"):
        raise _bad(f"{where}.ttl: Input should be '5m' or '1h'")
    return 1


def _check_system(system: Any) -> int:
    if system is None or isinstance(system, str):
        return 0
    if not isinstance(system, list):
        raise _bad("system: Input should be a valid string or a list of text blocks")
    marks = 0
    for j, block in enumerate(system):
        if not isinstance(block, dict) or block.get("type") != "text":
            raise _bad(f"system.{j}.type: Input should be 'text'")
        if not isinstance(block.get("text"), str):
            raise _bad(f"system.{j}.text: Field required")
        marks += _check_cache_control(block.get("cache_control"), f"system.{j}.cache_control")
    return marks


def _check_tools(tools: Any) -> int:
    if tools is None:
        return 0
    if not isinstance(tools, list):
        raise _bad("tools: Input should be a valid list")
    marks, names = 0, set()
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict):
            raise _bad(f"tools.{i}: Input should be a valid dictionary")
        name = tool.get("name")
        if tool.get("type") in (None, "custom"):
            if not isinstance(name, str) or not TOOL_NAME.match(name):
                raise _bad(
                    f"tools.{i}.custom.name: String should match pattern '{TOOL_NAME.pattern}'"
                )
            schema = tool.get("input_schema")
            if not isinstance(schema, dict):
                raise _bad(f"tools.{i}.custom.input_schema: Field required")
            if schema.get("type") != "object":
                raise _bad(f"tools.{i}.custom.input_schema.type: Input should be 'object'")
        if name in names:
            raise _bad("tools: Tool names must be unique.")
        names.add(name)
        marks += _check_cache_control(tool.get("cache_control"), f"tools.{i}.cache_control")
    return marks


def _check_messages(messages: Any, model: str) -> int:
    if not isinstance(messages, list):
        raise _bad("messages: Input should be a valid list")
    if not messages:
        raise _bad("messages: at least one message is required")
    marks, previous = 0, None
    for i, message in enumerate(messages):
        where = f"messages.{i}"
        if not isinstance(message, dict) or "content" not in message:
            raise _bad(f"{where}.content: Field required")
        role = message.get("role")
        if role not in ("user", "assistant", "system"):
            raise _bad(f"{where}.role: Input should be 'user', 'assistant' or 'system'")
        blocks = _content_blocks(message["content"], where)
        if i == 0 and role != "user":
            raise _bad(f'{where}.role: the first message must use the "user" role')
        if role == "system":
            if not takes_mid_system(model):
                raise _bad(
                    f"{where}.role: role 'system' is not supported on this model ({model}); "
                    "use the top-level `system` parameter instead"
                )
            if any(b["type"] != "text" for b in blocks):
                raise _bad(f"{where}.content: a system message may only hold text blocks")
            previous = None  # the turns on either side of a system message are not compared
        else:
            if role == previous:
                raise _bad(
                    'messages: roles must alternate between "user" and "assistant", '
                    f'but found multiple "{role}" roles in a row ({where})'
                )
            previous = role
        if not blocks and not (role == "assistant" and i == len(messages) - 1):
            raise _bad(
                f"{where}: all messages must have non-empty content "
                "except for the optional final assistant message"
            )
        for j, block in enumerate(blocks):
            marks += _check_block(block, role, f"{where}.content.{j}")
    _check_tool_pairs(messages)
    return marks


def _content_blocks(content: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if not isinstance(content, list):
        raise _bad(f"{where}.content: Input should be a valid string or list of content blocks")
    for j, block in enumerate(content):
        kind = block.get("type") if isinstance(block, dict) else None
        if kind not in _BLOCK_TYPES:
            raise _bad(
                f"{where}.content.{j}: Input tag {kind!r} found using 'type' does not match "
                "any of the expected tags"
            )
    return content


def _check_block(block: dict[str, Any], role: str, where: str) -> int:
    kind = block["type"]
    if kind == "text":
        text = block.get("text")
        if not isinstance(text, str):
            raise _bad(f"{where}.text: Field required")
        if not text:
            raise _bad(f"{where}.text: text content blocks must be non-empty")
        if not text.strip():
            raise _bad(f"{where}.text: text content blocks must contain non-whitespace text")
    elif kind == "tool_use":
        if role != "assistant":
            raise _bad(f"{where}: `tool_use` blocks may only appear in assistant messages")
        if not isinstance(block.get("id"), str) or not isinstance(block.get("name"), str):
            raise _bad(f"{where}: `tool_use` blocks need a string `id` and `name`")
        if not isinstance(block.get("input"), dict):
            raise _bad(f"{where}.input: Input should be a valid dictionary")
    elif kind == "tool_result":
        if role != "user":
            raise _bad(f"{where}: `tool_result` blocks may only appear in user messages")
        if not isinstance(block.get("tool_use_id"), str):
            raise _bad(f"{where}.tool_use_id: Field required")
        if not isinstance(block.get("content", ""), str | list):
            raise _bad(f"{where}.content: Input should be a valid string or list")
        if not isinstance(block.get("is_error", False), bool):
            raise _bad(f"{where}.is_error: Input should be a valid boolean")
    return _check_cache_control(block.get("cache_control"), f"{where}.cache_control")


def _tool_uses(message: dict[str, Any] | None) -> list[str]:
    if not message or message.get("role") != "assistant" or isinstance(message["content"], str):
        return []
    return [b["id"] for b in message["content"] if b["type"] == "tool_use"]


def _check_tool_pairs(messages: list[dict[str, Any]]) -> None:
    for i, message in enumerate(messages):
        if message["role"] == "assistant":
            following = messages[i + 1] if i + 1 < len(messages) else None
            answered = set()
            if following and following["role"] == "user" and isinstance(following["content"], list):
                answered = {
                    b["tool_use_id"] for b in following["content"] if b["type"] == "tool_result"
                }
            missing = [u for u in _tool_uses(message) if u not in answered]
            if missing:
                raise _bad(
                    f"messages.{i}: `tool_use` ids were found without `tool_result` blocks "
                    f"immediately after: {', '.join(missing)}. Each `tool_use` block must have "
                    "a corresponding `tool_result` block in the next message."
                )
        elif message["role"] == "user" and isinstance(message["content"], list):
            offered = set(_tool_uses(messages[i - 1] if i else None))
            seen_other = False
            for j, block in enumerate(message["content"]):
                if block["type"] != "tool_result":
                    seen_other = True
                    continue
                if seen_other:
                    raise _bad(
                        f"messages.{i}.content.{j}: `tool_result` blocks must come first in the "
                        "user message content, before any other blocks"
                    )
                if block["tool_use_id"] not in offered:
                    raise _bad(
                        f"messages.{i}.content.{j}: unexpected `tool_use_id` found in "
                        f"`tool_result` blocks: {block['tool_use_id']}. Each `tool_result` block "
                        "must have a corresponding `tool_use` block in the previous message."
                    )


# -- conversion helpers -------------------------------------------------------------------


def _system_text(system: Any) -> str:
    if isinstance(system, list):
        return "\n".join(b["text"] for b in system)
    return system or ""


def _result_text(content: Any) -> str:
    if isinstance(content, list):
        return "\n".join(b.get("text", "") for b in content if isinstance(b, dict))
    return content or ""


def _neutral_message(message: dict[str, Any]) -> Message:
    blocks = _content_blocks(message["content"], "")
    text = "\n".join(b["text"] for b in blocks if b["type"] == "text")
    calls = [ToolCall(b["id"], b["name"], b["input"]) for b in blocks if b["type"] == "tool_use"]
    results = [
        ToolResult(b["tool_use_id"], _result_text(b.get("content")), bool(b.get("is_error")))
        for b in blocks
        if b["type"] == "tool_result"
    ]
    return Message(message["role"], text, tool_calls=calls, tool_results=results)


def _canon(value: Any) -> str:
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if k != "cache_control"}
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _block_tokens(block: dict[str, Any]) -> int:
    kind = block["type"]
    if kind == "text":
        return estimate_tokens(block["text"])
    if kind == "tool_use":
        return estimate_tokens(block["name"] + json.dumps(block["input"]))
    if kind == "tool_result":
        return estimate_tokens(_result_text(block.get("content")))
    return estimate_tokens(_canon(block))


def _cache_parts(body: dict[str, Any]) -> list[tuple[str, int, dict[str, Any] | None]]:
    """The request as (canonical text, tokens, cache_control) parts in cache order."""
    parts = [
        (_canon(t), estimate_tokens(_canon(t)), t.get("cache_control"))
        for t in body.get("tools") or []
    ]
    system = body.get("system")
    if isinstance(system, str) and system:
        parts.append((system, estimate_tokens(system), None))
    elif isinstance(system, list):
        parts += [(_canon(b), estimate_tokens(b["text"]), b.get("cache_control")) for b in system]
    for message in body["messages"]:
        for block in _content_blocks(message["content"], ""):
            canon = message["role"] + ":" + _canon(block)
            parts.append((canon, _block_tokens(block), block.get("cache_control")))
    if body.get("cache_control") and parts:
        canon, tokens, _ = parts[-1]
        parts[-1] = (canon, tokens, body["cache_control"])
    return parts


def _pieces(text: str, size: int = 24) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def _id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:24]
