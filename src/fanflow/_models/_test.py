"""`test`: a deterministic offline model that knows no domain.

It checks a workflow's plumbing and cost, never its judgement: granted `read`,
it first reads the workspace paths its prompt names; then, with a schema, it
answers with a value that validates against it (derived from the schema and a
hash of the prompt), and without one a short text naming the files it read.
"""

from __future__ import annotations

import hashlib
import json

from ._base import Model, ModelRequest, ModelResponse, ToolCall, Usage, estimate_tokens
from ._conversation import conversation_text, files_read, mentioned_paths


class TestModel(Model):
    """The model behind `--model test` (and `fanflow.testing.TestModel`)."""

    __test__ = False  # not a pytest test class
    supports_mid_system = True
    scripted = "offline answers derived from each schema and a hash of the prompt"

    def __init__(self, *, name: str = "test", context_tokens: int = 128_000) -> None:
        self.name = name
        self.context_tokens = context_tokens

    def price(self, usage: Usage) -> float | None:
        return 0.0

    async def request(self, req: ModelRequest) -> ModelResponse:
        prompt = next((m.text for m in req.messages if m.role == "user" and m.text), "")
        read = files_read(req.messages)
        if any(t.name == "read" for t in req.tools) and not read:
            paths = mentioned_paths(prompt)
            if paths and not any(m.tool_results for m in req.messages):
                calls = [ToolCall(f"test_{i}", "read", {"path": p}) for i, p in enumerate(paths)]
                return self._reply(req, "", calls)
        seed = hashlib.sha256(prompt.encode()).hexdigest()
        if req.schema is not None:
            from ._schema_values import value_for

            text = json.dumps(value_for(req.schema, seed))
        else:
            named = ", ".join(read) if read else "no files"
            text = f"test model answer {seed[:8]}: read {named}."
        return self._reply(req, text, [])

    def _reply(self, req: ModelRequest, text: str, calls: list[ToolCall]) -> ModelResponse:
        body = req.system + conversation_text(req.messages)
        usage = Usage(
            input_tokens=estimate_tokens(body),
            output_tokens=estimate_tokens(text + json.dumps([c.input for c in calls])),
        )
        stop = "tool_use" if calls else "end_turn"
        return ModelResponse(text=text, tool_calls=calls, usage=usage, stop_reason=stop)
