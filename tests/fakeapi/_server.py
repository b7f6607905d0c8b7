"""`FakeAPI`: a local stand-in for the Anthropic and OpenAI HTTP APIs.

An aiohttp server on 127.0.0.1 (a free port) that the official SDKs talk to
unmodified. Each request goes through the same steps as at the real
providers, each of which can end it:

    record -> draw -> fail_status -> auth -> validation (4xx, no brain) -> account
           -> capacity (max_in_flight, rpm: 429) -> latency -> random fault
           -> brain -> JSON or SSE reply with usage and rate-limit headers

With `local=LocalServer(...)` the OpenAI endpoint is strict as the local
OpenAI-compatible servers are (`_local`): their refusals come before validation,
the model sees the request as they read it, a prompt past `n_ctx` is llama.cpp's
400, and `GET /props` and `GET /v1/models` say what llama-server and vLLM say.

The brain answers in provider-neutral terms (`ModelRequest` -> `ModelResponse`)
from what the wire request carries, as a real model would; by default it is
fanflow's domain-free `TestModel`, and a test that needs particular answers
passes its own (a `fanflow.Model` or an async function).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from fanflow import Model, ModelRequest, ModelResponse, Usage
from fanflow._models import TestModel, estimate_tokens

from ._anthropic import AnthropicDialect
from ._faults import (
    FaultEngine,
    Faults,
    Problem,
    canned,
    error_body,
    id_headers,
    new_request_id,
    retry_headers,
    window_headers,
)
from ._local import LocalServer
from ._openai import OpenAIDialect

Brain = Callable[[ModelRequest], Awaitable[ModelResponse]]
Dialect = AnthropicDialect | OpenAIDialect

HOST = "127.0.0.1"
SHUTDOWN_TIMEOUT_S = 1.0
STOP_REASONS = ("end_turn", "max_tokens", "stop_sequence", "refusal", "pause_turn")

log = logging.getLogger(__name__)


@dataclass
class RecordedRequest:
    """One request as the server received it, and how it was answered.

    `status` is None for a dropped connection; `fault` names the `Faults` field
    that decided the answer (`p_429`, `p_529`, `p_500`, `p_drop`, `max_in_flight`,
    `rpm`, `fail_status`, `account`), or is None.
    """

    path: str
    headers: dict[str, str]
    body: Any
    status: int | None = None
    fault: str | None = None
    model: str | None = None
    streamed: bool = False


class PrefixCache:
    """The prompt-cache ledger of one server: the request prefixes written, and since when
    each can be read.

    As at the real APIs, an entry becomes readable only from the start of the response
    that wrote it: requests that arrived before then miss it and write it again (which
    is why fanflow staggers agents that share a prefix).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._readable_from: dict[str, float] = {}
        self.clock = clock

    def account(
        self,
        model: str,
        parts: list[tuple[str, int]],
        writes: list[int],
        arrived: float | None = None,
    ) -> tuple[int, int]:
        """(read, written) tokens of a request made of `parts` (canonical text, tokens).

        Called as its response begins. The request writes the prefixes ending at the
        `writes` indices, readable from now on; it reads the longest prefix, ending at or
        before the last write, that was readable when it `arrived` (None: now).
        """
        if not writes:
            return 0, 0
        now = self.clock()
        seen = now if arrived is None else arrived
        chain, digest = [], hashlib.sha256(model.encode())  # caches are per model
        for canon, _ in parts:
            digest = hashlib.sha256(digest.digest() + canon.encode())
            chain.append(digest.hexdigest())
        last = writes[-1]
        readable = self._readable_from
        hit = max(
            (i for i in range(last + 1) if readable.get(chain[i], math.inf) <= seen), default=-1
        )
        for i in writes:
            readable[chain[i]] = min(readable.get(chain[i], math.inf), now)
        read = sum(tokens for _, tokens in parts[: hit + 1])
        return read, sum(tokens for _, tokens in parts[hit + 1 : last + 1])


def bounded(reply: ModelResponse, max_tokens: int) -> ModelResponse:
    """The brain's reply as the API sends it: output counted, cut at `max_tokens`."""
    text, calls = reply.text, list(reply.tool_calls)
    output = estimate_tokens(text + "".join(json.dumps(c.input) for c in calls))
    if output > max_tokens:
        text, calls, stop, output = text[: max_tokens * 4], [], "max_tokens", max_tokens
    elif calls:
        stop = "tool_use"
    else:
        stop = reply.stop_reason if reply.stop_reason in STOP_REASONS else "end_turn"
    return ModelResponse(text, calls, Usage(output_tokens=output), stop)


class FakeAPI:
    """The fake provider server; use as `async with FakeAPI(...) as api:`.

    `api.url` is the Anthropic SDK's `base_url` (the OpenAI SDK's is `api.url + "/v1"`),
    `api.requests` the requests received, in order, `api.faults` the live fault settings.
    """

    def __init__(
        self,
        api_key: str = "test-key",
        faults: Faults | None = None,
        brain: Brain | Model | None = None,
        local: LocalServer | None = None,
    ) -> None:
        self.api_key = api_key
        self.local = local
        self._faults = faults if faults is not None else Faults()
        if brain is None:
            brain = TestModel()
        self.brain: Brain = brain.request if isinstance(brain, Model) else brain
        self.requests: list[RecordedRequest] = []
        self.url = ""
        self._engine = FaultEngine(self._faults)
        self._anthropic = AnthropicDialect(api_key, PrefixCache())
        self._openai = OpenAIDialect(api_key, PrefixCache())
        self._runner: web.AppRunner | None = None

    @property
    def faults(self) -> Faults:
        return self._faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        value.check()
        self._faults = self._engine.faults = value

    @property
    def in_flight(self) -> int:
        """Requests being answered right now (admitted past the capacity checks)."""
        return self._engine.in_flight

    @property
    def peak_in_flight(self) -> int:
        """The most requests that were being answered at once."""
        return self._engine.peak_in_flight

    def count(self, status: int | None = None, path: str | None = None) -> int:
        """How many recorded requests have this status (None: any) and path (None: any)."""
        return sum(
            1
            for r in self.requests
            if (status is None or r.status == status) and (path is None or r.path == path)
        )

    async def __aenter__(self) -> FakeAPI:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1 and set `url`."""
        if self._runner is not None:
            raise RuntimeError("FakeAPI is already running")
        self._faults.check()
        self._engine = FaultEngine(self._faults)
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/messages", self._on_anthropic)
        app.router.add_post("/v1/chat/completions", self._on_openai)
        app.router.add_get("/props", self._on_props)
        app.router.add_get("/v1/models", self._on_models)
        app.router.add_route("*", "/{tail:.*}", self._on_unknown)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
        await runner.setup()
        try:
            await web.TCPSite(runner, HOST, 0).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        port = runner.addresses[0][1]
        self.url = f"http://{HOST}:{port}"

    async def close(self) -> None:
        """Stop listening and close every connection; safe to call twice."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    # -- request pipeline -------------------------------------------------------------

    async def _on_anthropic(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, self._anthropic)

    async def _on_openai(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, self._openai)

    async def _on_props(self, request: web.Request) -> web.StreamResponse:
        props = self.local.props() if self.local is not None else None
        if props is None:
            return await self._on_unknown(request)
        self.requests.append(RecordedRequest(request.path, _lower(request.headers), None, 200))
        return web.json_response(props)

    async def _on_models(self, request: web.Request) -> web.StreamResponse:
        if self.local is None:
            return await self._on_unknown(request)
        self.requests.append(RecordedRequest(request.path, _lower(request.headers), None, 200))
        return web.json_response(self.local.models())

    async def _on_unknown(self, request: web.Request) -> web.StreamResponse:
        anthropic = "anthropic-version" in request.headers or "x-api-key" in request.headers
        dialect = self._anthropic if anthropic else self._openai
        record = RecordedRequest(request.path, _lower(request.headers), await _body(request))
        self.requests.append(record)
        message = f"Invalid URL ({request.method} {request.path})"
        problem = Problem(404, "not_found_error" if anthropic else "invalid_request_error", message)
        return self._error(record, dialect, problem, new_request_id(dialect.name))

    async def _handle(self, request: web.Request, dialect: Dialect) -> web.StreamResponse:
        request_id = new_request_id(dialect.name)
        headers = _lower(request.headers)
        raw = await request.read()
        unreadable = None
        try:
            body = json.loads(raw) if raw else None
        except ValueError as exc:
            body = raw.decode("utf-8", "replace")
            unreadable = Problem(
                400, "invalid_request_error", f"There was an error parsing the body: {exc}"
            )
        is_dict = isinstance(body, dict)
        record = RecordedRequest(
            request.path,
            headers,
            body,
            model=body.get("model") if is_dict and isinstance(body.get("model"), str) else None,
            streamed=is_dict and body.get("stream") is True,
        )
        self.requests.append(record)
        draw = self._engine.draw()  # on arrival, whatever happens next: one draw a request
        try:
            if self._faults.fail_status is not None:
                record.fault = "fail_status"
                raise canned(dialect.name, self._faults.fail_status, record.model)
            dialect.auth(headers)
            if unreadable is not None:
                raise unreadable
            local = self.local if dialect is self._openai else None
            if local is not None:
                local.check(body)
            dialect.validate(body)
            account = self._engine.account_problem(dialect.name)
            if account is not None:
                record.fault = "account"
                raise account
        except Problem as problem:
            return self._error(record, dialect, problem, request_id)
        refused = self._engine.admit()
        if refused is not None:
            record.fault, wait = refused
            problem = canned(dialect.name, record.fault, record.model)
            problem.headers.update(retry_headers(wait))
            return self._error(record, dialect, problem, request_id, window=True)
        try:
            return await self._serve(request, record, dialect, body, draw, request_id)
        finally:
            self._engine.release()

    async def _serve(
        self,
        request: web.Request,
        record: RecordedRequest,
        dialect: Dialect,
        body: dict[str, Any],
        draw: float,
        request_id: str,
    ) -> web.StreamResponse:
        arrived = time.monotonic()  # what the prompt cache holds is looked up on arrival
        if self._faults.latency:
            await asyncio.sleep(self._faults.latency)
        kind = self._engine.pick(draw)
        if kind == "drop":
            record.fault = "p_drop"
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=500)  # never sent: the connection is gone
        if kind is not None:
            record.fault = f"p_{kind}"
            problem = canned(dialect.name, kind, record.model)
            return self._error(record, dialect, problem, request_id, window=True)
        local = self.local if dialect is self._openai else None
        if local is not None:
            if local.hang:
                await local.wait_for_client_to_leave(request)
                return web.Response(status=500)  # never read: the client has gone
            body = local.seen(body)
            problem = local.overflow(self._openai.prompt_tokens(body))
            if problem is not None:
                record.status = problem.status
                return self._error(record, dialect, problem, request_id)
        neutral = dialect.neutral(body)
        try:
            reply = bounded(await self.brain(neutral), neutral.max_tokens)
        except Exception:
            log.exception("fake API brain failed; answering 500")
            problem = canned(dialect.name, 500)
            return self._error(record, dialect, problem, request_id, window=True)
        # the response begins now: from here on, what it writes to the cache is readable
        usage = dialect.usage(body, reply.usage.output_tokens, arrived)
        headers = {**id_headers(dialect.name, request_id), **self._window(dialect)}
        record.status = 200
        if not record.streamed:
            return web.json_response(dialect.answer(body, reply, usage), headers=headers)
        headers.update({"content-type": "text/event-stream; charset=utf-8"})
        headers["cache-control"] = "no-cache"
        response = web.StreamResponse(status=200, headers=headers)
        await response.prepare(request)
        try:
            for chunk in dialect.events(body, reply, usage):
                await response.write(chunk)
            await response.write_eof()
        except ConnectionError:
            log.debug("client left mid-stream")
        return response

    def _window(self, dialect: Dialect) -> dict[str, str]:
        return window_headers(dialect.name, self._engine.window())

    def _error(
        self,
        record: RecordedRequest,
        dialect: Dialect,
        problem: Problem,
        request_id: str,
        *,
        window: bool = False,
    ) -> web.Response:
        record.status = problem.status
        headers = {**id_headers(dialect.name, request_id), **problem.headers}
        if problem.status == 429 and "retry-after" not in headers:  # every 429 says when
            headers.update(retry_headers(self._faults.retry_after))
        if window:
            headers.update(self._window(dialect))
        return web.json_response(
            error_body(dialect.name, problem, request_id), status=problem.status, headers=headers
        )


def _lower(headers: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


async def _body(request: web.Request) -> Any:
    raw = await request.read()
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode("utf-8", "replace")
