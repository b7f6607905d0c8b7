"""OpenAI-compatible local servers (issue 20): the real `openai` SDK and provider code
against the fake API in its strict local mode (`fakeapi.LocalServer`), which is strict
where llama-cpp-python, llama.cpp's llama-server and vLLM are.

D1 output cap, D2 null content and deterministic failures, D3 tool_choice and servers
that drop tools, D4 context size (configured, asked, refused), D7 timeouts and closed
connections, D9 error lines, and streaming.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest
from fakeapi import FakeAPI, LocalServer
from helpers import run

from fanflow import ConfigError, ModelError
from fanflow._errors import ContextTooLong
from fanflow._journal import Journal
from fanflow._models import (
    Message,
    ModelRequest,
    ModelResponse,
    ToolCall,
    ToolResult,
    ToolSpec,
    _resilience,
)
from fanflow._models._openai import OpenAIModel
from fanflow._models._registry import resolve_model
from fanflow._models._resilience import WATCH, classify, with_retries

KEY = "sk-local-0123456789abcdef"
LONG = "word " * 400  # ~500 tokens of reply, far past any cap the tests set
TOOL = ToolSpec("read", "Read a file of the workspace. " * 30, {"type": "object"})


@pytest.fixture
def serve(monkeypatch):
    """`async with serve(LocalServer(...)) as api:` a strict local server, the env at it."""

    def start(local: LocalServer, brain=None) -> FakeAPI:
        api = FakeAPI(api_key=KEY, local=local, brain=brain)
        original = api.start

        async def started() -> None:
            await original()
            monkeypatch.setenv("OPENAI_API_KEY", KEY)
            monkeypatch.setenv("OPENAI_BASE_URL", api.url + "/v1")

        api.start = started  # type: ignore[method-assign]
        return api

    return start


def brain_saying(text: str):
    async def brain(req: ModelRequest) -> ModelResponse:
        return ModelResponse(text=text)

    return brain


def ask(max_tokens: int = 32, tools=(), messages=None) -> ModelRequest:
    return ModelRequest(
        system="You are terse.",
        messages=messages or [Message("user", "hello")],
        tools=list(tools),
        max_tokens=max_tokens,
    )


def chats(api: FakeAPI) -> list:
    return [r for r in api.requests if r.path == "/v1/chat/completions"]


def workspace(tmp_path: Path, config: str = "") -> str:
    (tmp_path / ".fanflow").mkdir(exist_ok=True)
    (tmp_path / ".fanflow" / "config.toml").write_text(config)
    (tmp_path / "notes.md").write_text("the note\n")
    return str(tmp_path)


class Heard:
    """A CallWatch that keeps what the calls said (the journal's `note` events)."""

    def __init__(self) -> None:
        self.notes: list[tuple[str, str]] = []
        self.retries = 0

    def gate(self) -> None: ...
    def sending(self) -> None: ...
    def stopped(self, error) -> None: ...

    def retrying(self, error, wait_s, why) -> None:
        self.retries += 1

    def note(self, kind: str, message: str) -> None:
        self.notes.append((kind, message))

    def kinds(self) -> list[str]:
        return [k for k, _ in self.notes]


# -- D1: the output cap reaches every server ---------------------------------------------


@pytest.mark.parametrize("honours", ["max_tokens", "max_completion_tokens", "both"])
async def test_the_output_cap_is_honoured_whichever_field_the_server_reads(serve, honours):
    async with serve(LocalServer(honours=honours), brain=brain_saying(LONG)) as api:
        model = OpenAIModel("local")
        reply = await model.request(ask(max_tokens=32))
        await model.aclose()
    assert reply.usage.output_tokens <= 32 and reply.stop_reason == "max_tokens"
    [sent] = chats(api)
    assert sent.body["max_tokens"] == sent.body["max_completion_tokens"] == 32


@pytest.mark.parametrize(
    "url", [None, "https://api.openai.com/v1", "https://me.openai.azure.com/openai/v1"]
)
def test_openais_own_api_gets_max_completion_tokens_alone_and_null_content(monkeypatch, url):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    if url is None:
        monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    else:
        monkeypatch.setenv("OPENAI_BASE_URL", url)
    call = [ToolCall("c1", "read", {"path": "a"})]
    history = [Message("user", "go"), Message("assistant", "", tool_calls=call)]
    params = OpenAIModel("o3")._params(ask(max_tokens=9, tools=[TOOL], messages=history))
    assert params["max_completion_tokens"] == 9 and "max_tokens" not in params
    assert params["messages"][2]["content"] is None  # what OpenAI documents
    assert params["tool_choice"] == "auto"


@pytest.mark.parametrize("refused", ["max_completion_tokens", "max_tokens"])
async def test_a_server_refusing_one_cap_field_is_sent_the_other_from_then_on(serve, refused):
    async with serve(LocalServer(honours="both", refuse={refused})) as api:
        heard = Heard()
        WATCH.set(heard)
        model = OpenAIModel("local")
        for _ in range(3):
            await model.request(ask())
        await model.aclose()
    statuses = [r.status for r in chats(api)]
    assert statuses == [400, 200, 200, 200]  # learned once, for the run
    assert all(refused not in r.body for r in chats(api)[1:])
    assert heard.kinds().count(f"dropped_{refused}") == 1


def test_max_tokens_field_option_is_checked(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    options = {"openai": {"max_tokens_field": "max_tokens"}}
    model = resolve_model("openai:local", options=options)
    assert "max_completion_tokens" not in model._params(ask())
    with pytest.raises(ConfigError, match="max_tokens_field"):
        resolve_model("openai:local", options={"openai": {"max_tokens_field": "nope"}})


# -- D2: content of tool-call turns; deterministic failures are not retried ----------------


async def test_a_tool_using_agent_works_on_a_server_that_refuses_null_content(serve, tmp_path):
    async with serve(LocalServer(null_content=True)) as api:
        report = await run(
            "await spawn('general', 'Read notes.md and say what it says', tools=['read'])",
            model_name="openai:local",
            workspace=workspace(tmp_path),
        )
    assert report["status"] == "succeeded", report["errors"]
    turns = [m for r in chats(api) for m in r.body["messages"] if m.get("tool_calls")]
    assert turns and all(m["content"] == "" for m in turns)
    assert api.count(status=500) == 0


async def test_a_500_validation_dump_fails_once_with_the_useful_line(serve):
    call = [ToolCall("c1", "read", {"path": "notes.md"})]
    history = [
        Message("user", "go"),
        Message("assistant", "", tool_calls=call),
        Message("user", tool_results=[ToolResult("c1", "text")]),
    ]
    async with serve(LocalServer(null_content=True)) as api:
        heard = Heard()
        WATCH.set(heard)
        model = OpenAIModel("local")
        model.official = True  # as if it sent what OpenAI takes: content null
        with pytest.raises(ModelError) as failed:
            await model.request(ask(tools=[TOOL], messages=history))
        await model.aclose()
    assert len(chats(api)) == 1 and heard.retries == 0  # not retried like an overload
    message = str(failed.value)
    assert "rejected the request as invalid" in message
    assert "AssistantMessage.content: Input should be a valid string" in message  # D9
    assert "literal_error" not in message and len(message) < 400
    [(_, detail)] = [n for n in heard.notes if n[0] == "api_error"]
    assert "For further information" in detail and "ToolMessage" in detail  # all of it


class Refusal(Exception):
    """What the SDKs raise for an HTTP error: a status and the parsed body."""

    def __init__(self, status: int, body):
        super().__init__(f"Error code: {status}")
        self.status_code, self.body = status, body


@pytest.mark.parametrize(
    "status, body, tries",
    [
        (
            422,
            {"detail": [{"loc": ["body", "messages", 1, "content"], "msg": "field required"}]},
            1,
        ),
        (400, {"error": {"message": "Invalid value for 'content': expected a string"}}, 1),
        (
            500,
            {
                "error": {
                    "message": "1 validation error for X\nmessages.1.content\n  Input "
                    "should be a valid string [type=string_type]"
                }
            },
            1,
        ),
        (500, {"error": "json: cannot unmarshal null into Go struct field .content"}, 2),
    ],
)
async def test_deterministic_refusals_are_sent_once(status, body, tries):
    sent = []

    async def call():
        sent.append(1)
        raise classify(Refusal(status, body), provider="OpenAI", model="m", key_var="K")

    with pytest.raises(ModelError) as failed:
        await with_retries(call, _resilience.SharedBackoff())
    assert len(sent) == tries  # the Go one is an unknown 500: one retry, then the same again
    assert not isinstance(failed.value, _resilience.RetryableModelError)


async def test_the_same_500_twice_is_not_retried_again_but_an_overload_is(monkeypatch):
    monkeypatch.setattr(_resilience, "BASE_DELAY_S", 0.001)
    counts = {}
    for message in ("'NoneType' object is not subscriptable", "Internal server error"):
        sent = []

        async def call(message=message, sent=sent):
            sent.append(1)
            error = Refusal(500, {"error": {"message": message}})
            raise classify(error, provider="OpenAI", model="m", key_var="K")

        with pytest.raises(ModelError) as failed:
            await with_retries(call, _resilience.SharedBackoff())
        counts[message] = (len(sent), str(failed.value))
    sent, text = counts["'NoneType' object is not subscriptable"]
    assert sent == 2 and "same error twice" in text
    assert counts["Internal server error"][0] == _resilience.MAX_ATTEMPTS


# -- D3: tool_choice, and servers that drop the tools ---------------------------------------


async def test_tool_choice_auto_goes_with_tools_only(serve, tmp_path):
    async with serve(LocalServer()) as api:
        script = "await spawn('general', 'Read notes.md', tools=['read'])\n"
        script += "await spawn('general', 'just talk', tools=[])"
        report = await run(script, model_name="openai:local", workspace=workspace(tmp_path))
    assert report["status"] == "succeeded", report["errors"]
    with_tools = [r for r in chats(api) if r.body.get("tools")]
    assert with_tools and all(r.body["tool_choice"] == "auto" for r in with_tools)
    assert all("tool_choice" not in r.body for r in chats(api) if not r.body.get("tools"))


def _warned(journal: Journal, report: dict) -> list[dict]:
    return journal.events_of_kind(report["run_id"], "tools_ignored")


@pytest.mark.parametrize(
    "local, brain, signal",
    [
        (LocalServer(drop_tools=True), None, "too few to hold the tool definitions"),
        (LocalServer(drop_tools=True, supports_tools=False), None, "/props says"),
        (
            LocalServer(drop_tools=True),
            brain_saying('<tool_call>{"name": "read", "arguments": {"path": "notes.md"}}'),
            "wrote a tool call as text",
        ),
        (
            LocalServer(drop_tools=True),
            brain_saying('{"name": "read", "arguments": {"path": "notes.md"}}'),
            "wrote a tool call as text",
        ),
    ],
)
async def test_a_server_that_drops_tools_is_said_to(serve, tmp_path, local, brain, signal):
    tools = "['read', 'grep', 'glob']"
    async with serve(local, brain=brain):
        journal = Journal()
        report = await run(
            f"await spawn('general', 'Read notes.md and quote it', tools={tools})",
            model_name="openai:local",
            workspace=workspace(tmp_path),
            journal=journal,
        )
    [event] = _warned(journal, report)
    assert signal in event["message"] and "seems to ignore tools" in event["message"]
    assert event["agent_id"] is not None


async def test_an_agent_that_chooses_no_tool_on_a_server_with_tools_is_not_flagged(serve, tmp_path):
    async with serve(LocalServer(), brain=brain_saying("Nothing to read.")):
        journal = Journal()
        report = await run(
            "await spawn('general', 'Say hello', tools=['read', 'grep', 'glob'])",
            model_name="openai:local",
            workspace=workspace(tmp_path),
            journal=journal,
        )
    assert report["status"] == "succeeded"
    assert _warned(journal, report) == []


async def test_the_reply_of_a_dropped_tools_call_carries_the_note(serve):
    async with serve(LocalServer(drop_tools=True, supports_tools=False)):
        model = OpenAIModel("local")
        first = await model.request(ask(tools=[TOOL]))
        plain = await model.request(ask())
        await model.aclose()
    assert len(first.notes) == 1 and "ignore tools" in first.notes[0]
    assert plain.notes == []  # no tools asked for: nothing to say


# -- D4: the context size ------------------------------------------------------------------


def test_context_tokens_come_from_the_provider_table_then_the_model_table(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    options = {"openai": {"context_tokens": "4096"}, "openai:big": {"context_tokens": "32768"}}
    assert resolve_model("openai:small", options=options).context_tokens == 4096
    assert resolve_model("openai:big", options=options).context_tokens == 32768
    assert resolve_model("openai:other").context_tokens == 128_000
    for bad in ({"context_tokens": "lots"}, {"context_tokens": "0"}, {"contxt_tokens": "1"}):
        with pytest.raises(ConfigError, match=r"\[models"):
            resolve_model("openai:x", options={"openai": bad})


@pytest.mark.parametrize("via, expected", [("props", 2048), ("models", 8192), (None, 128_000)])
async def test_the_server_is_asked_its_context_once(serve, via, expected):
    async with serve(LocalServer(n_ctx=expected if via else None, context_via=via)) as api:
        model = OpenAIModel("fake-local")
        sizes = await asyncio.gather(*(model.context_size() for _ in range(5)))
        await model.request(ask())
        await model.request(ask())
        await model.aclose()
    assert sizes == [expected] * 5
    asked = [r.path for r in api.requests if r.path in ("/props", "/v1/models")]
    assert asked == (["/props"] if via == "props" else ["/props", "/v1/models"])


async def test_the_first_request_asks_so_the_attribute_is_right_after_it(serve):
    async with serve(LocalServer(n_ctx=3000)):
        model = OpenAIModel("local")
        await model.request(ask())
        await model.aclose()
    assert model.context_tokens == 3000


async def test_configured_context_wins_over_the_server(serve):
    async with serve(LocalServer(n_ctx=2048)):
        model = OpenAIModel("local", options={"context_tokens": "1000"})
        assert await model.context_size() == 1000
        await model.aclose()


async def test_a_prompt_past_n_ctx_is_context_too_long_and_not_retried(serve):
    big = [Message("user", "data " * 2000)]
    async with serve(LocalServer(n_ctx=512)) as api:
        model = OpenAIModel("local")
        with pytest.raises(ContextTooLong) as refused:
            await model.request(ask(messages=big))
        await model.aclose()
    assert refused.value.limit == 512 and refused.value.requested > 512
    assert len(chats(api)) == 1


@pytest.mark.parametrize(
    "status, body, limit, requested",
    [
        (
            400,
            {
                "error": {
                    "type": "invalid_request_error",
                    "message": "prompt is too long: 210000 tokens > 200000 maximum",
                }
            },
            200000,
            210000,
        ),  # Anthropic
        (
            400,
            {
                "error": {
                    "code": "context_length_exceeded",
                    "message": "This model's maximum "
                    "context length is 2048 tokens. However, you requested 5000 tokens "
                    "(4900 in the messages, 100 in the completion).",
                }
            },
            2048,
            5000,
        ),
        (
            400,
            {
                "object": "error",
                "message": "This model's maximum context length is 4096 "
                "tokens. However, you requested 9000 tokens.",
                "type": "BadRequestError",
            },
            4096,
            9000,
        ),  # vLLM
        (
            500,
            {"error": {"message": "Requested tokens (3000) exceed context window of 2048"}},
            2048,
            3000,
        ),
        (
            400,
            {
                "error": {
                    "code": 400,
                    "type": "exceed_context_size_error",
                    "message": "the request exceeds the available context size, try increasing it",
                }
            },
            None,
            None,
        ),
    ],
)
def test_context_refusals_of_each_server_are_context_too_long(status, body, limit, requested):
    error = classify(Refusal(status, body), provider="X", model="m", key_var="K")
    assert isinstance(error, ContextTooLong)
    assert (error.limit, error.requested) == (limit, requested)


# -- D7: timeouts close the connection; waits are journaled --------------------------------


async def test_a_hung_call_times_out_twice_closes_its_connections_and_says_so(serve, tmp_path):
    config = "[models.openai]\ntimeout_s = 0.5\nwarn_after_s = 0.05\n"
    local = LocalServer(hang=True)
    async with serve(local):
        journal = Journal()
        report = await run(
            "await spawn('general', 'answer')",
            model_name="openai:local",
            workspace=workspace(tmp_path, config),
            journal=journal,
        )
        for _ in range(500):  # bounded: the server notices the closed connections
            if local.disconnects == local.hung:
                break
            await asyncio.sleep(0.01)
    assert report["status"] == "failed"
    assert "timed out 2 times" in report["errors"][0]["error"]
    assert local.hung == 2 and local.disconnects == 2  # cancelled on the server too
    run_id = report["run_id"]
    assert len(journal.events_of_kind(run_id, "timeout")) == 2
    assert len(journal.events_of_kind(run_id, "waiting")) == 2


async def test_the_call_budget_bounds_the_attempts(serve):
    local = LocalServer(hang=True)
    async with serve(local):
        model = OpenAIModel("local", options={"timeout_s": "0.3", "budget_s": "0.2"})
        with pytest.raises(ModelError, match="budget is spent"):
            await model.request(ask())
        await model.aclose()
    assert local.hung == 1


async def test_a_cancelled_call_closes_its_connection(serve):
    local = LocalServer(hang=True)
    async with serve(local):
        model = OpenAIModel("local")
        task = asyncio.create_task(model.request(ask()))
        for _ in range(500):  # bounded
            if local.hung:
                break
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        for _ in range(500):  # bounded
            if local.disconnects:
                break
            await asyncio.sleep(0.01)
        await model.aclose()
    assert local.hung == 1 and local.disconnects == 1


def test_timeout_options_are_checked(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    model = resolve_model("openai:m", options={"openai:m": {"timeout_s": "45"}})
    assert model.policy.timeout_s == 45 and model.policy.budget == 135
    for bad in ("-1", "soon", "inf", "nan"):
        with pytest.raises(ConfigError, match="timeout_s"):
            resolve_model("openai:m", options={"openai": {"timeout_s": bad}})


# -- streaming -----------------------------------------------------------------------------


async def test_every_call_streams_with_usage(serve, tmp_path):
    async with serve(LocalServer()) as api:
        journal = Journal()
        report = await run(
            "await gather([spawn('general', f'unit {i}') for i in range(3)])",
            model_name="openai:local",
            workspace=workspace(tmp_path),
            journal=journal,
        )
    assert report["status"] == "succeeded"
    assert [r.streamed for r in chats(api)] == [True] * 3
    assert all(r.body["stream_options"] == {"include_usage": True} for r in chats(api))
    rows = journal.usage_rows(report["run_id"])
    assert len(rows) == 3 and all(r["input_tokens"] > 0 and r["output_tokens"] > 0 for r in rows)
    assert journal.events_of_kind(report["run_id"], "usage_estimated") == []


async def test_a_stream_without_usage_is_counted_by_estimate_and_said_once(serve):
    async with serve(LocalServer(stream_usage=False), brain=brain_saying("four " * 40)):
        heard = Heard()
        WATCH.set(heard)
        model = OpenAIModel("local")
        replies = [await model.request(ask(max_tokens=500)) for _ in range(2)]
        await model.aclose()
    assert all(r.usage.input_tokens > 0 and r.usage.output_tokens >= 40 for r in replies)
    assert heard.kinds().count("usage_estimated") == 1


async def test_a_server_refusing_stream_options_streams_without_them(serve):
    async with serve(LocalServer(refuse={"stream_options"})) as api:
        model = OpenAIModel("local")
        for _ in range(2):
            reply = await model.request(ask())
            assert reply.usage.output_tokens > 0
        await model.aclose()
    assert [r.status for r in chats(api)] == [400, 200, 200]
    assert all(r.streamed and "stream_options" not in r.body for r in chats(api)[1:])


async def test_streaming_can_be_turned_off(serve):
    async with serve(LocalServer()) as api:
        model = OpenAIModel("local", options={"stream": "false"})
        reply = await model.request(ask())
        await model.aclose()
    assert reply.usage.output_tokens > 0
    assert [r.streamed for r in chats(api)] == [False]


async def test_the_first_chunk_is_the_stagger_cue(serve):
    from fanflow._models._base import watching_begin

    began = []
    async with serve(LocalServer(), brain=brain_saying(LONG)):
        model = OpenAIModel("local")
        with watching_begin(lambda: began.append(1)):
            await model.request(ask(max_tokens=200))
        await model.aclose()
    assert began == [1]


async def test_synthesize_on_a_small_server_splits_before_any_request_overflows(serve):
    """The server's n_ctx is asked before synthesize decides how to split, so data that
    would overflow one 2,048-token window is split up front: no request is refused."""
    data = [{"file": f"f{i}.py", "note": "a finding about locking " * 12} for i in range(60)]
    script = f"result = await synthesize({data!r})"
    async with serve(LocalServer(n_ctx=2048)) as api:
        report = await run(script, model_name="openai:local")
    assert report["status"] == "succeeded", report["errors"]
    assert len(chats(api)) > 1  # split into parts, then the parts merged
    assert [r.status for r in chats(api) if r.status != 200] == []  # none overflowed
    assert report["agents"]["failed"] == 0


def schema_ask(tools=()) -> ModelRequest:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    return dataclasses.replace(ask(tools=tools), schema=schema)


async def test_a_schema_goes_as_response_format_json_schema_and_not_beside_local_tools(serve):
    async with serve(LocalServer()) as api:
        model = OpenAIModel("local")
        await model.request(schema_ask())
        await model.request(schema_ask(tools=[TOOL]))
        await model.aclose()
    plain, with_tools = (r.body for r in chats(api))
    assert plain["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": schema_ask().schema, "strict": False},
    }
    assert "response_format" not in with_tools  # a grammar would forbid the tool call


async def test_a_server_refusing_response_format_is_not_sent_it_again(serve):
    async with serve(LocalServer(refuse={"response_format"})) as api:
        model = OpenAIModel("local")
        for _ in range(3):
            await model.request(schema_ask())
        await model.aclose()
    assert [r.status for r in chats(api)] == [400, 200, 200, 200]
    assert all("response_format" not in r.body for r in chats(api)[1:])
