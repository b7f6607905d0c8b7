"""`FunctionModel`: a model whose replies a Python function writes.

Ship-in-the-package fake (after pydantic-ai's `FunctionModel`), so users can
test their own workflows offline, with failures and latency of their choosing.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from ._base import Model, ModelRequest, ModelResponse, Usage, estimate_tokens

Reply = ModelResponse | str
ReplyFunction = Callable[[ModelRequest], Reply | Awaitable[Reply]]


class FunctionModel(Model):
    """Calls `function(request)` for every model call; a `str` reply is final text.

    Raise from the function to make the call fail (the agent then fails).
    """

    def __init__(
        self,
        function: ReplyFunction,
        *,
        name: str = "function",
        context_tokens: int = 200_000,
        supports_mid_system: bool = True,
    ) -> None:
        self.function = function
        self.name = name
        self.context_tokens = context_tokens
        self.supports_mid_system = supports_mid_system

    async def request(self, req: ModelRequest) -> ModelResponse:
        reply = self.function(req)
        if inspect.isawaitable(reply):
            reply = await reply
        if isinstance(reply, str):
            prompt = "".join(m.text for m in req.messages)
            usage = Usage(
                input_tokens=estimate_tokens(req.system + prompt),
                output_tokens=estimate_tokens(reply),
            )
            return ModelResponse(text=reply, usage=usage)
        return reply
