"""The fake provider server, driven only through the official SDKs.

Most tests give the server `reader`, a tiny brain whose answers are easy to
predict; one checks that the default brain is fanflow's `TestModel`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time

import anthropic
import openai
import pytest

from fakeapi import FakeAPI, Faults, RecordedRequest
from fakeapi._anthropic import takes_mid_system
from fakeapi._faults import duration
from fanflow import Message, ModelRequest, ModelResponse, ToolCall
from fanflow._agents import BUILTIN_AGENTS
from fanflow._models import TestModel

KEY = "test-key"
CLAUDE = "claude-sonnet-4-6"
GPT = "gpt-5.5"
GENERAL = BUILTIN_AGENTS["general"].system_prompt
PROMPT = "Check src/a.ts for the bug and report."
READ_SCHEMA = {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}
READ_TOOL = {"name": "read", "description": "Read a workspace file.", "input_schema": READ_SCHEMA}
OPENAI_FUNCTION = {"name": "read", "description": "Read a file.", "parameters": READ_SCHEMA}
OPENAI_READ = {"type": "function", "function": OPENAI_FUNCTION}
READ_NOTHING = {"read": [], "prompt_chars": len(PROMPT)}
READ_A = {"read": ["1: export const a = 1;"], "prompt_chars": len(PROMPT)}


def claude(api: FakeAPI, key: str = KEY, **options) -> anthropic.AsyncAnthropic:
    options.setdefault("max_retries", 0)
    return anthropic.AsyncAnthropic(api_key=key, base_url=api.url, **options)


def gpt(api: FakeAPI, key: str = KEY, **options) -> openai.AsyncOpenAI:
    options.setdefault("max_retries", 0)
    return openai.AsyncOpenAI(api_key=key, base_url=api.url + "/v1", **options)


def user(text: str) -> dict:
    return {"role": "user", "content": text}


class Recorder:
    """A brain that remembers what it was asked and answers with fixed text."""

    def __init__(self, text: str = "ok") -> None:
        self.seen: list[ModelRequest] = []
        self.text = text

    async def __call__(self, req: ModelRequest) -> ModelResponse:
        self.seen.append(req)
        return ModelResponse(text=self.text)


async def reader(req: ModelRequest) -> ModelResponse:
    """Granted `read`, it first reads the `.ts` paths the prompt names; then it answers
    with what the reads returned and the prompt's length."""
    prompt = next((m.text for m in req.messages if m.role == "user" and m.text), "")
    results = [r.content for m in req.messages for r in m.tool_results]
    paths = re.findall(r"[\w/]+\.ts\b", prompt)
    if any(t.name == "read" for t in req.tools) and paths and not results:
        return ModelResponse(
            tool_calls=[ToolCall(f"r{i}", "read", {"path": p}) for i, p in enumerate(paths)]
        )
    return ModelResponse(text=json.dumps({"read": results, "prompt_chars": len(prompt)}))


@pytest.fixture
async def api():
    async with FakeAPI(api_key=KEY, brain=reader) as server:
        yield server


# -- answers ------------------------------------------------------------------------------


async def test_anthropic_plain_and_streamed_calls_return_the_brain_answer(api):
    client = claude(api)
    message = await client.messages.create(model=CLAUDE, max_tokens=512, messages=[user(PROMPT)])
    assert message.id.startswith("msg_") and message.type == "message"
    assert message.role == "assistant" and message.model == CLAUDE
    assert message.stop_reason == "end_turn" and message.stop_sequence is None
    assert json.loads(message.content[0].text) == READ_NOTHING
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0
    assert message.usage.cache_creation_input_tokens == 0
    assert message.usage.cache_read_input_tokens == 0

    async with client.messages.stream(
        model=CLAUDE, max_tokens=512, messages=[user(PROMPT)]
    ) as stream:
        texts = [text async for text in stream.text_stream]
        final = await stream.get_final_message()
    assert len(texts) > 1, "the text arrives in several deltas"
    assert json.loads("".join(texts)) == READ_NOTHING
    assert final.content[0].text == "".join(texts) and final.stop_reason == "end_turn"
    assert final.usage.output_tokens == message.usage.output_tokens
    assert final.usage.input_tokens == message.usage.input_tokens
    assert [r.streamed for r in api.requests] == [False, True]
    assert api.count(status=200, path="/v1/messages") == 2


async def test_anthropic_raw_stream_has_the_real_event_sequence(api):
    stream = await claude(api).messages.create(
        model=CLAUDE, max_tokens=512, messages=[user(PROMPT)], stream=True
    )
    kinds = [event.type async for event in stream]
    assert kinds[0] == "message_start" and kinds[1] == "content_block_start"
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(kinds[2:-3]) == {"content_block_delta"}


async def test_openai_plain_and_streamed_calls_return_the_brain_answer(api):
    client = gpt(api)
    completion = await client.chat.completions.create(model=GPT, messages=[user(PROMPT)])
    assert completion.object == "chat.completion" and completion.id.startswith("chatcmpl-")
    assert completion.model == GPT and completion.created > 0
    choice = completion.choices[0]
    assert choice.finish_reason == "stop" and choice.message.tool_calls is None
    assert json.loads(choice.message.content) == READ_NOTHING
    usage = completion.usage
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.prompt_tokens_details.cached_tokens == 0

    stream = await client.chat.completions.create(
        model=GPT, messages=[user(PROMPT)], stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk async for chunk in stream]
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert json.loads(text) == READ_NOTHING
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert (
        chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == usage.completion_tokens
    )
    assert all(c.usage is None for c in chunks[:-1])


async def test_openai_stream_without_include_usage_sends_no_usage_chunk(api):
    stream = await gpt(api).chat.completions.create(model=GPT, messages=[user("hi")], stream=True)
    chunks = [chunk async for chunk in stream]
    assert chunks and all(c.choices for c in chunks) and all(c.usage is None for c in chunks)


async def test_the_default_brain_is_the_domain_free_test_model():
    async with FakeAPI(api_key=KEY) as server:
        message = await claude(server).messages.create(
            model=CLAUDE, max_tokens=512, messages=[user(PROMPT)]
        )
        completion = await gpt(server).chat.completions.create(model=GPT, messages=[user(PROMPT)])
    expected = await TestModel().request(
        ModelRequest(system="", messages=[Message("user", PROMPT)], tools=[], max_tokens=512)
    )
    assert expected.text and message.content[0].text == expected.text
    assert completion.choices[0].message.content == expected.text


# -- tool use ----------------------------------------------------------------------------


@pytest.mark.parametrize("streamed", [False, True])
async def test_anthropic_tool_round_trip(api, streamed):
    client = claude(api)
    params = {
        "model": CLAUDE,
        "max_tokens": 1024,
        "system": GENERAL,
        "tools": [READ_TOOL],
        "messages": [user(PROMPT)],
    }
    if streamed:
        async with client.messages.stream(**params) as stream:
            first = await stream.get_final_message()
    else:
        first = await client.messages.create(**params)
    assert first.stop_reason == "tool_use"
    [call] = first.content
    assert call.type == "tool_use" and call.name == "read" and call.input == {"path": "src/a.ts"}
    assert call.id.startswith("toolu_")

    result = {"type": "tool_result", "tool_use_id": call.id, "content": "1: export const a = 1;"}
    params["messages"] = [
        user(PROMPT),
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {"role": "user", "content": [result]},
    ]
    second = await client.messages.create(**params)
    assert second.stop_reason == "end_turn"
    assert json.loads(second.content[0].text) == READ_A


@pytest.mark.parametrize("streamed", [False, True])
async def test_openai_tool_round_trip(api, streamed):
    client = gpt(api)
    messages = [{"role": "system", "content": GENERAL}, user(PROMPT)]
    if streamed:
        stream = await client.chat.completions.create(
            model=GPT, messages=messages, tools=[OPENAI_READ], stream=True
        )
        chunks = [chunk async for chunk in stream]
        deltas = [d for c in chunks for d in c.choices[0].delta.tool_calls or []]
        call_id, name = deltas[0].id, deltas[0].function.name
        arguments = "".join(d.function.arguments or "" for d in deltas)
        assert chunks[-1].choices[0].finish_reason == "tool_calls"
    else:
        first = await client.chat.completions.create(
            model=GPT, messages=messages, tools=[OPENAI_READ]
        )
        assert first.choices[0].finish_reason == "tool_calls"
        assert first.choices[0].message.content is None
        [call] = first.choices[0].message.tool_calls
        call_id, name, arguments = call.id, call.function.name, call.function.arguments
    assert call_id.startswith("call_") and name == "read"
    assert json.loads(arguments) == {"path": "src/a.ts"}

    function = {"name": name, "arguments": arguments}
    messages += [
        {
            "role": "assistant",
            "tool_calls": [{"id": call_id, "type": "function", "function": function}],
        },
        {"role": "tool", "tool_call_id": call_id, "content": "1: export const a = 1;"},
    ]
    second = await client.chat.completions.create(model=GPT, messages=messages, tools=[OPENAI_READ])
    assert second.choices[0].finish_reason == "stop"
    assert json.loads(second.choices[0].message.content) == READ_A


async def test_wire_requests_become_neutral_requests():
    brain = Recorder()
    async with FakeAPI(api_key=KEY, brain=brain) as api:
        await claude(api).messages.create(
            model="claude-opus-4-8",
            max_tokens=300,
            system=[{"type": "text", "text": BUILTIN_AGENTS["auditor"].system_prompt}],
            tools=[READ_TOOL],
            output_config={"effort": "high"},
            messages=[
                user("audit src/a.ts"),
                {
                    "role": "assistant",
                    "content": [
                        {
                            "type": "tool_use",
                            "id": "toolu_1",
                            "name": "read",
                            "input": {"path": "a"},
                        },
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": "toolu_1",
                            "is_error": True,
                            "content": [{"type": "text", "text": "no such file"}],
                        },
                    ],
                },
                {"role": "system", "content": "<data>[]</data>"},
                user("answer now"),
            ],
        )
        await gpt(api).chat.completions.create(
            model=GPT,
            reasoning_effort="low",
            max_completion_tokens=200,
            messages=[
                {"role": "system", "content": "be brief"},
                user("go"),
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "read", "arguments": '{"path": "x"}'},
                        },
                        {
                            "id": "c2",
                            "type": "function",
                            "function": {"name": "read", "arguments": "{}"},
                        },
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "X"},
                {"role": "tool", "tool_call_id": "c2", "content": [{"type": "text", "text": "Y"}]},
            ],
        )
    first, second = brain.seen
    assert first.system == BUILTIN_AGENTS["auditor"].system_prompt
    assert first.effort == "high" and first.max_tokens == 300
    assert [t.name for t in first.tools] == ["read"] and first.tools[0].input_schema == READ_SCHEMA
    assert [m.role for m in first.messages] == ["user", "assistant", "user", "system", "user"]
    assert first.messages[1].tool_calls[0].input == {"path": "a"}
    result = first.messages[2].tool_results[0]
    assert (result.call_id, result.content, result.is_error) == ("toolu_1", "no such file", True)
    assert first.messages[3].text == "<data>[]</data>"

    assert second.system == "be brief"
    assert second.effort == "low" and second.max_tokens == 200
    assert [m.role for m in second.messages] == ["user", "assistant", "user"]
    assert second.messages[1].tool_calls[0].input == {"path": "x"}
    assert [(r.call_id, r.content) for r in second.messages[2].tool_results] == [
        ("c1", "X"),
        ("c2", "Y"),
    ]


async def test_replies_longer_than_max_tokens_are_cut():
    async with FakeAPI(api_key=KEY, brain=Recorder("word " * 400)) as api:
        message = await claude(api).messages.create(
            model=CLAUDE, max_tokens=20, messages=[user("hi")]
        )
        assert message.stop_reason == "max_tokens" and message.usage.output_tokens == 20
        assert len(message.content[0].text) == 80
        completion = await gpt(api).chat.completions.create(
            model=GPT, max_completion_tokens=20, messages=[user("hi")]
        )
        assert completion.choices[0].finish_reason == "length"


async def test_a_failing_brain_is_a_500():
    async def broken(req: ModelRequest) -> ModelResponse:
        raise RuntimeError("boom")

    async with FakeAPI(api_key=KEY, brain=broken) as api:
        with pytest.raises(anthropic.InternalServerError) as caught:
            await claude(api).messages.create(model=CLAUDE, max_tokens=10, messages=[user("hi")])
    assert caught.value.status_code == 500 and api.requests[0].status == 500


# -- prompt caching -----------------------------------------------------------------------


async def test_anthropic_cache_is_written_then_read(api):
    client = claude(api)
    params = {
        "model": CLAUDE,
        "max_tokens": 512,
        "system": [{"type": "text", "text": GENERAL * 4, "cache_control": {"type": "ephemeral"}}],
        "tools": [READ_TOOL],
    }
    first = await client.messages.create(**params, messages=[user("first task")])
    second = await client.messages.create(**params, messages=[user("another task")])
    assert first.usage.cache_creation_input_tokens > 0 and first.usage.cache_read_input_tokens == 0
    assert (
        first.usage.cache_creation.ephemeral_5m_input_tokens
        == first.usage.cache_creation_input_tokens
    )
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert second.usage.cache_creation_input_tokens == 0
    assert 0 < second.usage.input_tokens < second.usage.cache_read_input_tokens

    other = await client.messages.create(
        **{**params, "model": "claude-haiku-4-5"}, messages=[user("first task")]
    )
    assert other.usage.cache_read_input_tokens == 0, "caches are per model"
    plain = await client.messages.create(model=CLAUDE, max_tokens=512, messages=[user("x")])
    assert plain.usage.cache_creation_input_tokens == plain.usage.cache_read_input_tokens == 0


async def test_anthropic_top_level_cache_control_caches_the_conversation(api):
    client = claude(api)
    turn = [user(PROMPT)]
    first = await client.messages.create(
        model=CLAUDE, max_tokens=512, cache_control={"type": "ephemeral"}, messages=turn
    )
    longer = [*turn, {"role": "assistant", "content": "ok"}, user("more")]
    second = await client.messages.create(
        model=CLAUDE, max_tokens=512, cache_control={"type": "ephemeral"}, messages=longer
    )
    assert first.usage.cache_creation_input_tokens > 0
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert second.usage.cache_creation_input_tokens > 0


async def test_openai_prefix_cache_reports_cached_tokens(api):
    client = gpt(api)
    system = {"role": "system", "content": GENERAL * 4}
    first = await client.chat.completions.create(
        model=GPT, messages=[system, user("first task")], tools=[OPENAI_READ]
    )
    second = await client.chat.completions.create(
        model=GPT, messages=[system, user("another task")], tools=[OPENAI_READ]
    )
    assert first.usage.prompt_tokens_details.cached_tokens == 0
    cached = second.usage.prompt_tokens_details.cached_tokens
    assert 0 < cached < second.usage.prompt_tokens


# -- auth and validation ------------------------------------------------------------------


async def test_wrong_keys_are_authentication_errors(api):
    with pytest.raises(anthropic.AuthenticationError) as caught:
        await claude(api, key="wrong").messages.create(
            model=CLAUDE, max_tokens=10, messages=[user("hi")]
        )
    assert caught.value.status_code == 401 and caught.value.type == "authentication_error"
    assert caught.value.request_id and caught.value.request_id.startswith("req_")
    with pytest.raises(openai.AuthenticationError) as caught_openai:
        await gpt(api, key="wrong").chat.completions.create(model=GPT, messages=[user("hi")])
    assert caught_openai.value.code == "invalid_api_key"
    assert api.count(status=401) == 2


async def test_the_anthropic_x_api_key_header_is_accepted_too(api):
    client = claude(api, key=None, default_headers={"x-api-key": KEY})
    message = await client.messages.create(model=CLAUDE, max_tokens=100, messages=[user(PROMPT)])
    assert json.loads(message.content[0].text) == READ_NOTHING
    assert api.requests[-1].headers["x-api-key"] == KEY
    assert "authorization" not in api.requests[-1].headers


async def test_missing_anthropic_version_is_a_bad_request(api):
    with pytest.raises(anthropic.BadRequestError) as caught:
        await claude(api).messages.create(
            model=CLAUDE,
            max_tokens=10,
            messages=[user("hi")],
            extra_headers={"anthropic-version": anthropic.omit},
        )
    assert "anthropic-version" in caught.value.message
    assert "anthropic-version" not in api.requests[-1].headers


ASSISTANT_TOOL_USE = {
    "role": "assistant",
    "content": [{"type": "tool_use", "id": "toolu_9", "name": "read", "input": {"path": "a"}}],
}


@pytest.mark.parametrize(
    ("messages", "model", "words"),
    [
        ([user("a"), user("b")], CLAUDE, "alternate"),
        ([{"role": "assistant", "content": "hi"}], CLAUDE, "first message"),
        ([user("a"), ASSISTANT_TOOL_USE, user("b")], CLAUDE, "toolu_9"),
        (
            [user("a"), {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "x"}]}],
            CLAUDE,
            "alternate",
        ),
        (
            [
                user("a"),
                {"role": "assistant", "content": "b"},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_x"}]},
            ],
            CLAUDE,
            "toolu_x",
        ),
        ([user("a"), {"role": "system", "content": "<data>1</data>"}], CLAUDE, "system"),
        ([user("a"), {"role": "system", "content": "d"}], "claude-opus-4-7", "system"),
        ([user("")], CLAUDE, "non-empty"),
        ([], CLAUDE, "at least one"),
    ],
)
async def test_anthropic_rejects_malformed_conversations(messages, model, words):
    brain = Recorder()
    async with FakeAPI(api_key=KEY, brain=brain) as api:
        with pytest.raises(anthropic.BadRequestError) as caught:
            await claude(api).messages.create(model=model, max_tokens=10, messages=messages)
    assert words in caught.value.message
    assert caught.value.type == "invalid_request_error"
    assert brain.seen == [], "a rejected request never reaches the model"


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"max_tokens": 0}, "max_tokens"),
        ({"tools": [{**READ_TOOL, "name": "read file"}]}, "tools.0.custom.name"),
        ({"tools": [{**READ_TOOL, "input_schema": {"type": "array"}}]}, "input_schema.type"),
        ({"tools": [READ_TOOL, READ_TOOL]}, "unique"),
        ({"output_config": {"effort": "extreme"}}, "output_config.effort"),
        (
            {"system": [{"type": "text", "text": "s", "cache_control": {"type": "forever"}}]},
            "ephemeral",
        ),
    ],
)
async def test_anthropic_rejects_bad_parameters(api, params, words):
    base = {"model": CLAUDE, "max_tokens": 10, "messages": [user("hi")]}
    with pytest.raises(anthropic.BadRequestError) as caught:
        await claude(api).messages.create(**{**base, **params})
    assert words in caught.value.message


async def test_mid_conversation_system_message_needs_opus_4_8_or_later(api):
    messages = [user("task"), {"role": "system", "content": "<data>[]</data>"}, user("answer now")]
    with pytest.raises(anthropic.BadRequestError) as caught:
        await claude(api).messages.create(model=CLAUDE, max_tokens=50, messages=messages)
    assert "system" in caught.value.message and CLAUDE in caught.value.message
    for model in ("claude-opus-4-8", "claude-opus-5"):
        ok = await claude(api).messages.create(model=model, max_tokens=50, messages=messages)
        assert ok.stop_reason == "end_turn"
    assert takes_mid_system("claude-opus-4-9") and takes_mid_system("claude-opus-5-5")
    assert not takes_mid_system("claude-opus-4-7") and not takes_mid_system(
        "claude-opus-4-20250514"
    )
    assert not takes_mid_system("claude-sonnet-5")


TOOL_CALL = {"id": "call_1", "type": "function", "function": {"name": "read", "arguments": "{}"}}


@pytest.mark.parametrize(
    ("params", "words"),
    [
        (
            {"messages": [user("a"), {"role": "tool", "tool_call_id": "call_1", "content": "x"}]},
            "must be a response to a preceeding message",
        ),
        (
            {"messages": [user("a"), {"role": "assistant", "tool_calls": [TOOL_CALL]}, user("b")]},
            "call_1",
        ),
        (
            {
                "messages": [
                    user("a"),
                    {"role": "assistant", "tool_calls": [TOOL_CALL]},
                    {"role": "tool", "tool_call_id": "call_2", "content": "x"},
                ]
            },
            "call_2",
        ),
        ({"messages": []}, "empty array"),
        ({"messages": [user("a")], "reasoning_effort": "extreme"}, "Invalid value: 'extreme'"),
        (
            {"messages": [user("a")], "tools": [{"type": "function", "function": {"name": "a b"}}]},
            "pattern",
        ),
        ({"messages": [user("a")], "stream_options": {"include_usage": True}}, "stream_options"),
    ],
)
async def test_openai_rejects_malformed_requests(api, params, words):
    with pytest.raises(openai.BadRequestError) as caught:
        await gpt(api).chat.completions.create(model=GPT, **params)
    assert words in caught.value.message
    assert caught.value.type == "invalid_request_error"


# -- faults -------------------------------------------------------------------------------


async def test_p_429_is_a_rate_limit_error_with_retry_after():
    async with FakeAPI(api_key=KEY, faults=Faults(p_429=1.0, retry_after=2.5)) as api:
        with pytest.raises(anthropic.RateLimitError) as caught:
            await claude(api).messages.create(model=CLAUDE, max_tokens=10, messages=[user("hi")])
        headers = caught.value.response.headers
        assert headers["retry-after"] == "3" and headers["retry-after-ms"] == "2500"
        assert caught.value.type == "rate_limit_error"
        assert int(headers["anthropic-ratelimit-requests-remaining"]) >= 0
        assert headers["anthropic-ratelimit-requests-reset"].endswith("Z")

        with pytest.raises(anthropic.RateLimitError):
            async with claude(api).messages.stream(
                model=CLAUDE, max_tokens=10, messages=[user("hi")]
            ) as stream:
                await stream.get_final_message()

        with pytest.raises(openai.RateLimitError) as caught_openai:
            await gpt(api).chat.completions.create(model=GPT, messages=[user("hi")])
        assert caught_openai.value.response.headers["retry-after-ms"] == "2500"
        assert caught_openai.value.code == "rate_limit_exceeded"
        assert caught_openai.value.type == "requests"
        assert "x-ratelimit-reset-requests" in caught_openai.value.response.headers
    assert [r.fault for r in api.requests] == ["p_429"] * 3


async def test_p_529_is_overloaded_and_p_500_an_api_error():
    async with FakeAPI(api_key=KEY, faults=Faults(p_529=1.0)) as api:
        with pytest.raises(anthropic.InternalServerError) as caught:
            await claude(api).messages.create(model=CLAUDE, max_tokens=10, messages=[user("hi")])
        assert caught.value.status_code == 529 and caught.value.type == "overloaded_error"
        with pytest.raises(openai.InternalServerError) as caught_openai:
            await gpt(api).chat.completions.create(model=GPT, messages=[user("hi")])
        assert caught_openai.value.status_code == 503

        api.faults.p_529, api.faults.p_500 = 0.0, 1.0
        with pytest.raises(anthropic.InternalServerError) as caught:
            await claude(api).messages.create(model=CLAUDE, max_tokens=10, messages=[user("hi")])
        assert caught.value.status_code == 500 and caught.value.type == "api_error"


@pytest.mark.parametrize("streamed", [False, True])
async def test_p_drop_is_a_connection_error(streamed):
    async with FakeAPI(api_key=KEY, faults=Faults(p_drop=1.0)) as api:
        with pytest.raises(anthropic.APIConnectionError):
            await claude(api).messages.create(
                model=CLAUDE, max_tokens=10, messages=[user("hi")], stream=streamed
            )
        with pytest.raises(openai.APIConnectionError):
            await gpt(api).chat.completions.create(
                model=GPT, messages=[user("hi")], stream=streamed
            )
        assert [(r.status, r.fault) for r in api.requests] == [(None, "p_drop")] * 2
        api.faults.p_drop = 0.0
        ok = await claude(api).messages.create(model=CLAUDE, max_tokens=10, messages=[user("hi")])
        assert ok.content, "the server keeps serving after a drop"


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
async def test_the_sdk_retry_honours_retry_after(provider):
    async with FakeAPI(api_key=KEY, faults=Faults(p_429=1.0, retry_after=0.3)) as api:

        async def clear_after_first(response) -> None:
            api.faults.p_429 = 0.0

        hooks = {"event_hooks": {"response": [clear_after_first]}}
        started = time.monotonic()
        if provider == "anthropic":
            http = anthropic.DefaultAsyncHttpxClient(**hooks)
            client = claude(api, max_retries=2, http_client=http)
            await client.messages.create(model=CLAUDE, max_tokens=10, messages=[user("hi")])
        else:
            http = openai.DefaultAsyncHttpxClient(**hooks)
            client = gpt(api, max_retries=2, http_client=http)
            await client.chat.completions.create(model=GPT, messages=[user("hi")])
        elapsed = time.monotonic() - started
        await client.close()
    assert [r.status for r in api.requests] == [429, 200]
    assert [r.headers["x-stainless-retry-count"] for r in api.requests] == ["0", "1"]
    assert 0.3 <= elapsed < 0.3 + 2.0, "waited what retry-after-ms said, not the SDK back-off"


async def test_max_in_flight_turns_the_excess_away():
    faults = Faults(latency=0.3, max_in_flight=2, retry_after=0.01)
    async with FakeAPI(api_key=KEY, faults=faults) as api:
        client = claude(api)
        calls = [
            client.messages.create(model=CLAUDE, max_tokens=10, messages=[user(f"n{i}")])
            for i in range(5)
        ]
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
    limited = [o for o in outcomes if isinstance(o, anthropic.RateLimitError)]
    assert len(limited) == 3 and sum(not isinstance(o, Exception) for o in outcomes) == 2
    assert all(e.response.headers["retry-after-ms"] == "10" for e in limited)
    assert api.peak_in_flight == 2 and api.in_flight == 0
    assert api.count(status=429) == 3 and {r.fault for r in api.requests} == {None, "max_in_flight"}


async def test_rpm_limits_a_sliding_window_and_headers_count_down():
    async with FakeAPI(api_key=KEY, faults=Faults(rpm=2)) as api:
        raw = claude(api).messages.with_raw_response
        first = await raw.create(model=CLAUDE, max_tokens=10, messages=[user("a")])
        second = await gpt(api).chat.completions.with_raw_response.create(
            model=GPT, messages=[user("b")]
        )
        assert first.headers["anthropic-ratelimit-requests-limit"] == "2"
        assert first.headers["anthropic-ratelimit-requests-remaining"] == "1"
        assert second.headers["x-ratelimit-remaining-requests"] == "0"
        with pytest.raises(anthropic.RateLimitError) as caught:
            await raw.create(model=CLAUDE, max_tokens=10, messages=[user("c")])
        wait = float(caught.value.response.headers["retry-after-ms"]) / 1000
        assert 55 < wait <= 60, "until the oldest request leaves the 60 s window"
    assert api.requests[-1].fault == "rpm"


@pytest.mark.parametrize(
    ("status", "anthropic_error", "openai_error"),
    [
        (401, anthropic.AuthenticationError, openai.AuthenticationError),
        (400, anthropic.BadRequestError, openai.BadRequestError),
        (403, anthropic.PermissionDeniedError, openai.PermissionDeniedError),
    ],
)
async def test_fail_status_answers_everything_with_that_error(
    status, anthropic_error, openai_error
):
    brain = Recorder()
    async with FakeAPI(api_key=KEY, faults=Faults(fail_status=status), brain=brain) as api:
        with pytest.raises(anthropic_error) as caught:
            await claude(api).messages.create(model=CLAUDE, max_tokens=10, messages=[user("hi")])
        assert caught.value.status_code == status and caught.value.api_message
        with pytest.raises(openai_error) as caught_openai:
            await gpt(api).chat.completions.create(model=GPT, messages=[user("hi")])
        assert caught_openai.value.status_code == status
    assert brain.seen == [] and api.count(status=status) == 2
    assert {r.fault for r in api.requests} == {"fail_status"}


async def test_the_same_seed_replays_the_same_faults():
    async def run(seed: int) -> list[str | None]:
        async with FakeAPI(api_key=KEY, faults=Faults(p_429=0.3, p_500=0.3, seed=seed)) as api:
            client = claude(api)
            for i in range(12):
                with contextlib.suppress(anthropic.APIStatusError):
                    await client.messages.create(
                        model=CLAUDE, max_tokens=10, messages=[user(f"{i}")]
                    )
            return [r.fault for r in api.requests]

    first, again, other = await run(7), await run(7), await run(8)
    assert first == again and first != other
    assert {"p_429", "p_500", None} <= set(first)


async def test_latency_delays_every_answer():
    async with FakeAPI(api_key=KEY, faults=Faults(latency=0.2)) as api:
        started = time.monotonic()
        await gpt(api).chat.completions.create(model=GPT, messages=[user("hi")])
    assert time.monotonic() - started >= 0.2


def test_faults_refuse_impossible_settings():
    with pytest.raises(ValueError, match="p_429"):
        Faults(p_429=1.5)
    with pytest.raises(ValueError, match="fail_status"):
        Faults(fail_status=200)
    assert duration(0.05) == "50ms" and duration(1.5) == "1.5s" and duration(360) == "6m0s"


# -- recording ----------------------------------------------------------------------------


async def test_recorded_requests_carry_what_was_sent(api):
    await claude(api).messages.create(
        model=CLAUDE, max_tokens=64, messages=[user("hi")], extra_headers={"x-trace": "t1"}
    )
    await gpt(api).chat.completions.create(model=GPT, messages=[user("yo")])
    first, second = api.requests
    assert isinstance(first, RecordedRequest)
    assert first.path == "/v1/messages" and first.status == 200 and first.fault is None
    assert first.model == CLAUDE and not first.streamed
    assert first.body == {"model": CLAUDE, "max_tokens": 64, "messages": [user("hi")]}
    assert first.headers["x-trace"] == "t1" and first.headers["anthropic-version"]
    assert first.headers["authorization"] == f"Bearer {KEY}", (
        "this SDK sends the key as a bearer token"
    )
    assert second.path == "/v1/chat/completions" and second.body["messages"] == [user("yo")]
    assert second.headers["authorization"] == f"Bearer {KEY}"
    assert api.count() == 2 and api.count(path="/v1/messages") == 1 and api.count(status=500) == 0


async def test_unknown_paths_are_404s(api):
    client = claude(api)
    with pytest.raises(anthropic.NotFoundError):
        await client.post("/v1/nothing", cast_to=object, body={})
    assert api.requests[-1].status == 404
