"""Estimates: what a run will cost, found by running it without a model.

The script runs for real in the sandbox, with the real scheduler and tool
loop, against an `EstimatingModel` that makes no network call: reads are
measured from the real workspace through the agents' own `read` calls, every
request's input is counted as the model would see it, and answers are made
up from the agent's schema under stated `Assumptions`, so the script's
branches on results take a plausible path. Writes and commands do not happen
(commands are assumed to succeed). Prices come from the real model's table.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from ._errors import ModelError
from ._models import Model, ModelRequest, ModelResponse, ToolCall, Usage, estimate_tokens
from ._models._conversation import billed_input, files_read, first_reads
from ._models._schema_values import Unsatisfiable, value_for


@dataclass(frozen=True)
class Assumptions:
    """What the estimate assumes about answers it cannot know. Shown on the card."""

    list_items: float = 0.5
    """Mean number of items in each list of a schema'd answer (e.g. findings per file)."""

    string_tokens: int = 15
    """Tokens in each string field of a schema'd answer."""

    text_tokens: int = 300
    """Tokens in a free-text answer (no schema)."""

    def describe(self) -> list[str]:
        return [
            f"answers with a schema have {self.list_items:g} item(s) per list on average; "
            "numbers are spread evenly over their allowed range",
            f"{self.string_tokens} tokens per string field (a field named like a file cites "
            f"a file the agent read); free-text answers {self.text_tokens} tokens",
            "file reads are measured from the workspace; agents read the files their prompt "
            "names, agents that may write rewrite each file they read once, then answer",
            "writes and commands do not happen; commands are assumed to succeed",
            "no prompt-cache discount (cache reads would make a real run cheaper)",
        ]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class WorstCase:
    """What the estimated calls could cost if every one wrote its whole `max_tokens`:
    the reservation a budget makes before each call (DESIGN §9), added up."""

    tokens: int = 0
    cost_usd: float | None = 0.0

    def add(self, tokens: int, cost: float | None) -> None:
        self.tokens += tokens
        self.cost_usd = None if self.cost_usd is None or cost is None else self.cost_usd + cost


class EstimatingModel(Model):
    """Stands in for `like` during an estimate; never calls out."""

    def __init__(
        self, like: Model, assumptions: Assumptions, worst: WorstCase | None = None
    ) -> None:
        self.name = like.name
        self.context_tokens = like.context_tokens
        self.supports_mid_system = like.supports_mid_system
        self._like, self._assume = like, assumptions
        self._spread = Spread(assumptions.list_items)
        self.worst = worst if worst is not None else WorstCase()

    def price(self, usage: Usage) -> float | None:
        return self._like.price(usage)

    async def request(self, req: ModelRequest) -> ModelResponse:
        usage = Usage(input_tokens=billed_input(req))
        ceiling = Usage(input_tokens=usage.input_tokens, output_tokens=req.max_tokens)
        self.worst.add(usage.input_tokens + req.max_tokens, self._like.price(ceiling))
        calls = first_reads(req, "est") or (
            _rewrites(req) if any(t.name == "write" for t in req.tools) else []
        )
        if calls:
            usage.output_tokens = estimate_tokens(json.dumps([c.input for c in calls]))
            return ModelResponse(tool_calls=calls, usage=usage, stop_reason="tool_use")
        if req.schema is not None:
            read = list(files_read(req.messages))
            text = json.dumps(plausible(req.schema, self._spread, self._assume, read))
        else:
            text = " ".join(["estimate"] * self._assume.text_tokens)
        usage.output_tokens = min(estimate_tokens(text), req.max_tokens)
        return ModelResponse(text=text, usage=usage)


def _rewrites(req: ModelRequest) -> list[ToolCall]:
    """An agent that may write rewrites each file it read, once (edits, migrations)."""
    if any(c.name == "write" for m in req.messages for c in m.tool_calls):
        return []
    return [
        ToolCall(f"est_w{i}", "write", {"path": path, "text": text})
        for i, (path, text) in enumerate(files_read(req.messages).items())
    ]


class Spread:
    """Expected values, not dice: list lengths average `list_items` exactly and
    numbers fill their range evenly (a golden-ratio sequence), so an estimate is
    the same every time and a branch like `confidence < 0.7` takes its share.

    The `Choices` of `_schema_values`: the schema walker is the test model's."""

    _STEP = 0.6180339887498949

    def __init__(self, list_items: float, string_tokens: int = 15) -> None:
        self.list_items, self._carry = list_items, 0.0
        self.string_tokens = string_tokens
        self._x: dict[str, float] = {}

    def fraction(self, key: str = "") -> float:
        """The next point of the field's own sequence (one per field, so draws do not mix;
        the items of a list share their field's)."""
        field = _INDEX.sub("", key)
        self._x[field] = (self._x.get(field, 0.5) + self._STEP) % 1.0
        return self._x[field]

    def count(self) -> int:
        self._carry += self.list_items
        whole = int(self._carry)
        self._carry -= whole
        return whole

    def items(self, key: str, low: int, high: int | None) -> int:
        count = max(self.count(), low)
        return count if high is None else min(count, high)

    def text(self, key: str) -> str:
        return " ".join(["word"] * self.string_tokens)


_INDEX = re.compile(r"\[\d+\]")


def plausible(schema: Any, rng: Spread, assume: Assumptions, files: list[str] | None = None) -> Any:
    """A value valid under `schema`, shaped by the assumptions (see `_schema_values`).

    A string field named like a file or path cites a file the agent read, so
    follow-up prompts built from it (a reviewer told to check that file) read
    as much as they would in a real run.
    """
    rng.string_tokens = assume.string_tokens
    try:
        return value_for(schema, rng, files or ())
    except Unsatisfiable as exc:
        raise ModelError(f"cannot make an answer for this schema: {exc}") from None


class EstimatingModels:
    """A model cache whose every model is the estimating stand-in for the real one."""

    def __init__(self, real: Any, assumptions: Assumptions) -> None:
        self._real, self._assume = real, assumptions
        self._models: dict[str, Model] = {}
        self.worst = WorstCase()
        """Every estimated call at its `max_tokens`, all models together."""

    def get(self, name: str) -> Model:
        if name not in self._models:
            self._models[name] = EstimatingModel(self._real.get(name), self._assume, self.worst)
        return self._models[name]

    async def aclose(self) -> None:
        return None


def summarize(
    journal: Any,
    run_id: str,
    report: dict[str, Any],
    assumptions: Assumptions,
    worst: WorstCase | None = None,
) -> dict[str, Any]:
    """The estimate as data: per phase and total agents, tokens and cost, and the worst
    case (every call writing its `max_tokens`)."""
    costs: dict[str, float | None] = {}
    for row in journal.usage_rows(run_id):
        known = costs.get(row["phase"], 0.0)
        costs[row["phase"]] = (
            None if known is None or row["cost_usd"] is None else known + row["cost_usd"]
        )
    phases = [
        {
            "name": p["name"],
            "agents": p["agents"],
            "input_tokens": p["input_tokens"]
            + p["cache_read_input_tokens"]
            + p["cache_creation_input_tokens"],
            "output_tokens": p["output_tokens"],
            "cost_usd": costs.get(p["name"], 0.0),
        }
        for p in journal.phases(run_id)
    ]
    total_cost: float | None = 0.0
    for p in phases:
        total_cost = (
            None if total_cost is None or p["cost_usd"] is None else total_cost + p["cost_usd"]
        )
    failed = report["status"] == "failed" and report["errors"]
    return {
        "phases": phases,
        "agents": sum(p["agents"] for p in phases),
        "input_tokens": sum(p["input_tokens"] for p in phases),
        "output_tokens": sum(p["output_tokens"] for p in phases),
        "cost_usd": total_cost,
        "worst_case": {
            "tokens": worst.tokens if worst else None,
            "cost_usd": worst.cost_usd if worst else None,
        },
        "complete": not failed,
        "note": (
            f"the script stopped under the estimating model: {report['errors'][-1]['error']}; "
            "phases after that are not counted"
        )
        if failed
        else None,
        "assumptions": assumptions.describe(),
    }
