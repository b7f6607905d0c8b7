"""`test`: a deterministic offline model that knows no domain.

It checks a workflow's plumbing and cost, never its judgement: granted `read`,
it first reads the workspace paths its prompt names; then, with a schema, it
answers with a value that validates against it (derived from the schema and a
hash of the prompt), and without one a short text naming the files it read.
Asked by fanflow's planner for a workflow, it writes a trivial one that fans
out over the workspace's files.
"""

from __future__ import annotations

import hashlib
import json

from .._errors import ModelError
from ._base import Model, ModelRequest, ModelResponse, ToolCall, Usage, estimate_tokens
from ._conversation import billed_input, files_read, first_reads, opening

PLAN_FILES = 25
"""The test model's workflows fan out over at most this many files: enough to show
the fan-out, few enough that `fanflow do --model test` on a big tree stays quick."""

_PLAN = """meta = {{"name": "test-plan", "description": "A fan-out over the workspace's files."}}
TASK = {task}
files = (await tools.glob("**/*"))[:{limit}]
phase("units")
answers = await gather(
    [spawn("general", f"Read {{f}}. " + TASK, tools=["read"], label=f) for f in files]
)
phase("merge")
summary = await synthesize({{"files": files, "answers": answers}}, instructions=TASK)
{{"summary": summary, "answers": dict(zip(files, answers))}}
"""


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
        reads = first_reads(req, "test")
        if reads:
            return self._reply(req, "", reads)
        prompt = opening(req.messages)
        seed = hashlib.sha256(prompt.encode()).hexdigest()
        read = list(files_read(req.messages))
        if _asks_for_a_plan(req):
            text = (
                "```python\n"
                + _PLAN.format(task=json.dumps(_first_line(prompt)), limit=PLAN_FILES)
                + "```"
            )
        elif req.schema is not None:
            text = json.dumps(_value(req.schema, seed, read))
        else:
            text = f"test model answer {seed[:8]}: read {', '.join(read) or 'no files'}."
        return self._reply(req, text, [])

    def _reply(self, req: ModelRequest, text: str, calls: list[ToolCall]) -> ModelResponse:
        usage = Usage(
            input_tokens=billed_input(req),
            output_tokens=estimate_tokens(text + json.dumps([c.input for c in calls])),
        )
        stop = "tool_use" if calls else "end_turn"
        return ModelResponse(text=text, tool_calls=calls, usage=usage, stop_reason=stop)


def _value(schema: dict, seed: str, read: list[str]) -> object:
    from ._schema_values import Unsatisfiable, value_for

    try:
        return value_for(schema, seed, read)
    except Unsatisfiable as exc:
        raise ModelError(
            f"the test model cannot answer this schema: {exc}; "
            "simplify the schema there, or play this agent with a FunctionModel"
        ) from None


def _asks_for_a_plan(req: ModelRequest) -> bool:
    """fanflow's planner asks for its reply in a format it states (`_planner.SCRIPT_REPLY`)."""
    from .._planner import SCRIPT_REPLY

    return SCRIPT_REPLY in req.system


def _first_line(prompt: str) -> str:
    return next((line.strip() for line in prompt.splitlines() if line.strip()), "")
