"""`POST /v1/chat/completions` as the OpenAI Chat Completions API answers it.

Checks a request the way the real API does (4xx with its error body, before
any model runs), turns it into a provider-neutral `ModelRequest`, and turns
the brain's reply back into a `chat.completion` or its `data:` chunk stream.
Prompt caching is automatic, as at OpenAI: the longest prefix (tools and the
leading system messages, then whole messages) of an earlier request whose
response had begun when this one arrived is reported as
`prompt_tokens_details.cached_tokens`, and included in `prompt_tokens`.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import TYPE_CHECKING, Any

from fanflow import Message, ModelRequest, ModelResponse, ToolCall, ToolResult, ToolSpec
from fanflow._models import estimate_tokens

from ._faults import Problem

if TYPE_CHECKING:
    from ._server import PrefixCache

TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
"""As the SDK's `ReasoningEffort` type lists them."""
ROLES = ("system", "developer", "user", "assistant", "tool", "function")
FINISH = {"end_turn": "stop", "tool_use": "tool_calls", "max_tokens": "length"}
DEFAULT_MAX_TOKENS = 4096


def _bad(message: str, param: str | None = None, code: str | None = None) -> Problem:
    return Problem(400, "invalid_request_error", message, param=param, code=code)


class OpenAIDialect:
    """Everything provider-specific about Chat Completions."""

    name = "openai"

    def __init__(self, api_key: str, cache: PrefixCache) -> None:
        self.api_key = api_key
        self.cache = cache

    # -- requests ---------------------------------------------------------------------

    def auth(self, headers: dict[str, str]) -> None:
        value = headers.get("authorization", "")
        if not value.startswith("Bearer ") or not value[7:].strip():
            raise Problem(
                401,
                "invalid_request_error",
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            )
        if value[7:] != self.api_key:
            shown = value[7:][:3] + "*" * 4 + value[7:][-4:]
            raise Problem(
                401,
                "invalid_request_error",
                f"Incorrect API key provided: {shown}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )

    def validate(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise _bad("We could not parse the JSON body of your request. Expected an object.")
        if not isinstance(body.get("model"), str) or not body["model"]:
            raise _bad("you must provide a model parameter")
        messages = body.get("messages")
        if messages is None:
            raise _bad(
                "Missing required parameter: 'messages'.", "messages", "missing_required_parameter"
            )
        if not isinstance(messages, list):
            raise _bad(
                "Invalid type for 'messages': expected an array.", "messages", "invalid_type"
            )
        if not messages:
            raise _bad(
                "Invalid 'messages': empty array. Expected an array with minimum length 1, "
                "but got an empty array instead.",
                "messages",
                "empty_array",
            )
        for i, message in enumerate(messages):
            _check_message(message, i)
        _check_tool_pairs(messages)
        _check_tools(body.get("tools"))
        for name in ("max_tokens", "max_completion_tokens"):
            value = body.get(name)
            if value is not None and (type(value) is not int or value < 1):
                raise _bad(
                    f"Invalid '{name}': integer below minimum value. Expected a value >= 1, "
                    f"but got {value!r} instead.",
                    name,
                    "integer_below_min_value",
                )
        effort = body.get("reasoning_effort")
        if effort is not None and effort not in REASONING_EFFORTS:
            allowed = ", ".join(f"'{e}'" for e in REASONING_EFFORTS[:-1])
            raise _bad(
                f"Invalid value: '{effort}'. Supported values are: {allowed}, "
                f"and '{REASONING_EFFORTS[-1]}'.",
                "reasoning_effort",
                "invalid_value",
            )
        if "stream" in body and body["stream"] is not None and not isinstance(body["stream"], bool):
            raise _bad("Invalid type for 'stream': expected a boolean.", "stream", "invalid_type")
        if body.get("stream_options") is not None and body.get("stream") is not True:
            raise _bad(
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                "stream_options",
            )

    def neutral(self, body: dict[str, Any]) -> ModelRequest:
        wire = body["messages"]
        lead = _leading_system(wire)
        messages: list[Message] = []
        for message in wire[lead:]:
            role = message["role"]
            if role == "tool":
                result = ToolResult(message["tool_call_id"], _text(message.get("content")))
                if messages and messages[-1].role == "user" and messages[-1].tool_results:
                    messages[-1].tool_results.append(result)
                else:
                    messages.append(Message("user", tool_results=[result]))
            elif role == "assistant":
                calls = [_call(c) for c in message.get("tool_calls") or []]
                messages.append(Message("assistant", _text(message.get("content")), calls))
            elif role in ("system", "developer"):
                messages.append(Message("system", _text(message.get("content"))))
            else:
                messages.append(Message("user", _text(message.get("content"))))
        tools = [
            ToolSpec(
                t["function"]["name"],
                t["function"].get("description") or "",
                t["function"].get("parameters") or {"type": "object", "properties": {}},
            )
            for t in body.get("tools") or []
            if t.get("type") == "function"
        ]
        limit = body.get("max_completion_tokens") or body.get("max_tokens") or DEFAULT_MAX_TOKENS
        return ModelRequest(
            system="\n".join(_text(m.get("content")) for m in wire[:lead]),
            messages=messages,
            tools=tools,
            max_tokens=limit,
            effort=body.get("reasoning_effort"),
        )

    # -- replies ----------------------------------------------------------------------

    def prompt_tokens(self, body: dict[str, Any]) -> int:
        """The prompt's tokens as `usage` counts them, with no cache bookkeeping."""
        lead = _leading_system(body["messages"])
        head = _tokens(_prompt_text(body.get("tools") or [], body["messages"][:lead]))
        return head + sum(_tokens(_prompt_text(None, [m])) for m in body["messages"][lead:])

    def usage(
        self, body: dict[str, Any], output_tokens: int, arrived: float | None = None
    ) -> dict[str, Any]:
        """Token usage of `body`; the longest prefix seen before counts as cached."""
        lead = _leading_system(body["messages"])
        head = [body.get("tools") or [], body["messages"][:lead]]
        parts = [(json.dumps(head, sort_keys=True), _tokens(_prompt_text(*head)))]
        parts += [
            (json.dumps(m, sort_keys=True), _tokens(_prompt_text(None, [m])))
            for m in body["messages"][lead:]
        ]
        cached, _ = self.cache.account(body["model"], parts, list(range(len(parts))), arrived)
        prompt = sum(tokens for _, tokens in parts)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": output_tokens,
            "total_tokens": prompt + output_tokens,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }

    def answer(self, body: dict[str, Any], reply: ModelResponse, usage: dict[str, Any]) -> Any:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": reply.text if reply.text or not reply.tool_calls else None,
            "refusal": None,
            "annotations": [],
        }
        if reply.tool_calls:
            message["tool_calls"] = [
                {
                    "id": _id("call_"),
                    "type": "function",
                    "function": {"name": c.name, "arguments": json.dumps(c.input)},
                }
                for c in reply.tool_calls
            ]
        choice = {
            "index": 0,
            "message": message,
            "logprobs": None,
            "finish_reason": FINISH.get(reply.stop_reason, "stop"),
        }
        return {
            "id": _id("chatcmpl-"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [choice],
            "usage": usage,
            "service_tier": "default",
            "system_fingerprint": "fp_fakeapi",
        }

    def events(self, body: dict[str, Any], reply: ModelResponse, usage: dict[str, Any]):
        """The `data:` byte chunks of a streamed reply, ending with `data: [DONE]`."""
        full = self.answer(body, reply, usage)
        message, finish = full["choices"][0]["message"], full["choices"][0]["finish_reason"]
        with_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        base = {
            k: full[k] for k in ("id", "created", "model", "service_tier", "system_fingerprint")
        }
        base["object"] = "chat.completion.chunk"

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            data = {**base, "choices": [choice]}
            if with_usage:
                data["usage"] = None
            return _data(data)

        yield chunk({"role": "assistant", "content": "", "refusal": None})
        for piece in _pieces(message["content"] or ""):
            yield chunk({"content": piece})
        for index, call in enumerate(message.get("tool_calls") or []):
            opening = {**call, "index": index, "function": {**call["function"], "arguments": ""}}
            yield chunk({"tool_calls": [opening]})
            for piece in _pieces(call["function"]["arguments"]):
                yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
        yield chunk({}, finish)
        if with_usage:
            yield _data({**base, "choices": [], "usage": usage})
        yield b"data: [DONE]\n\n"


# -- validation helpers -------------------------------------------------------------------


def _check_message(message: Any, i: int) -> None:
    if not isinstance(message, dict):
        raise _bad(f"Invalid type for 'messages[{i}]': expected an object.", f"messages[{i}]")
    role = message.get("role")
    if role not in ROLES:
        raise _bad(
            f"Invalid value: {role!r}. Supported values are: 'system', 'assistant', 'user', "
            "'function', 'tool', and 'developer'.",
            f"messages[{i}].role",
            "invalid_value",
        )
    content = message.get("content")
    if role != "assistant" and content is None:
        raise _bad(
            f"Missing required parameter: 'messages[{i}].content'.",
            f"messages[{i}].content",
            "missing_required_parameter",
        )
    if content is not None and not isinstance(content, str | list):
        raise _bad(
            f"Invalid type for 'messages[{i}].content': expected one of a string or array of "
            "objects.",
            f"messages[{i}].content",
            "invalid_type",
        )
    if role == "tool" and not isinstance(message.get("tool_call_id"), str):
        raise _bad(
            f"Missing required parameter: 'messages[{i}].tool_call_id'.",
            f"messages[{i}].tool_call_id",
            "missing_required_parameter",
        )
    if role == "assistant":
        calls = message.get("tool_calls")
        if content is None and not calls:
            raise _bad(
                "Invalid value for 'content': expected a string, got null.",
                f"messages.[{i}].content",
            )
        for j, call in enumerate(calls or []):
            function = call.get("function") if isinstance(call, dict) else None
            if (
                not isinstance(function, dict)
                or not isinstance(call.get("id"), str)
                or call.get("type") != "function"
                or not isinstance(function.get("name"), str)
                or not isinstance(function.get("arguments"), str)
            ):
                raise _bad(
                    f"Invalid 'messages[{i}].tool_calls[{j}]': expected an object with a string "
                    "'id', type 'function' and 'function' with string 'name' and 'arguments'.",
                    f"messages[{i}].tool_calls[{j}]",
                    "invalid_value",
                )


def _check_tool_pairs(messages: list[dict[str, Any]]) -> None:
    offered: list[str] | None = None  # tool_call ids of the assistant message being answered
    answered: set[str] = set()
    opened_at = 0
    for i, message in enumerate([*messages, {"role": "__end__"}]):
        if message["role"] == "tool":
            if offered is None:
                raise _bad(
                    "Invalid parameter: messages with role 'tool' must be a response to a "
                    "preceeding message with 'tool_calls'.",
                    f"messages.[{i}].role",
                )
            if message["tool_call_id"] not in offered:
                raise _bad(
                    f"Invalid parameter: 'tool_call_id' of '{message['tool_call_id']}' not found "
                    "in 'tool_calls' of previous message.",
                    f"messages.[{i}].tool_call_id",
                )
            answered.add(message["tool_call_id"])
            continue
        if offered is not None:
            missing = [c for c in offered if c not in answered]
            if missing:
                raise _bad(
                    "An assistant message with 'tool_calls' must be followed by tool messages "
                    "responding to each 'tool_call_id'. The following tool_call_ids did not "
                    f"have response messages: {', '.join(missing)}",
                    f"messages.[{opened_at}].role",
                )
        offered, answered = None, set()
        if message["role"] == "assistant" and message.get("tool_calls"):
            offered, opened_at = [c["id"] for c in message["tool_calls"]], i


def _check_tools(tools: Any) -> None:
    if tools is None:
        return
    if not isinstance(tools, list):
        raise _bad("Invalid type for 'tools': expected an array.", "tools", "invalid_type")
    for i, tool in enumerate(tools):
        kind = tool.get("type") if isinstance(tool, dict) else None
        if kind == "custom":
            continue
        if kind != "function" or not isinstance(tool.get("function"), dict):
            raise _bad(
                f"Invalid value: {kind!r}. Supported values are: 'function' and 'custom'.",
                f"tools[{i}].type",
                "invalid_value",
            )
        name = tool["function"].get("name")
        if not isinstance(name, str) or not TOOL_NAME.match(name):
            raise _bad(
                f"Invalid 'tools[{i}].function.name': string does not match pattern. Expected a "
                f"string that matches the pattern '{TOOL_NAME.pattern}'.",
                f"tools[{i}].function.name",
                "invalid_value",
            )
        parameters = tool["function"].get("parameters")
        if parameters is not None and not isinstance(parameters, dict):
            raise _bad(
                f"Invalid type for 'tools[{i}].function.parameters': expected an object.",
                f"tools[{i}].function.parameters",
                "invalid_type",
            )


# -- conversion helpers -------------------------------------------------------------------


def _leading_system(messages: list[dict[str, Any]]) -> int:
    """How many messages at the start are system (or developer) messages."""
    lead = 0
    while lead < len(messages) and messages[lead]["role"] in ("system", "developer"):
        lead += 1
    return lead


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict))
    return content or ""


def _call(call: dict[str, Any]) -> ToolCall:
    try:
        arguments = json.loads(call["function"]["arguments"] or "{}")
    except ValueError:
        arguments = {"_unparsed": call["function"]["arguments"]}
    if not isinstance(arguments, dict):
        arguments = {"value": arguments}
    return ToolCall(call["id"], call["function"]["name"], arguments)


def _prompt_text(tools: Any, messages: list[dict[str, Any]]) -> str:
    text = json.dumps(tools) if tools else ""
    for m in messages:
        text += _text(m.get("content"))
        for call in m.get("tool_calls") or []:
            text += call["function"]["name"] + call["function"]["arguments"]
    return text


def _tokens(text: str) -> int:
    return estimate_tokens(text) if text else 0


def _pieces(text: str, size: int = 24) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def _data(payload: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()


def _id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:24]
