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
from dataclasses import asdict, dataclass
from typing import Any

from ._models import Model, ModelRequest, ModelResponse, ToolCall, Usage, estimate_tokens
from ._models._conversation import conversation_text, files_read, mentioned_paths


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


class EstimatingModel(Model):
    """Stands in for `like` during an estimate; never calls out."""

    def __init__(self, like: Model, assumptions: Assumptions) -> None:
        self.name = like.name
        self.context_tokens = like.context_tokens
        self.supports_mid_system = like.supports_mid_system
        self._like, self._assume = like, assumptions
        self._spread = Spread(assumptions.list_items)

    def price(self, usage: Usage) -> float | None:
        return self._like.price(usage)

    async def request(self, req: ModelRequest) -> ModelResponse:
        seen = conversation_text(req.messages)
        usage = Usage(
            input_tokens=estimate_tokens(
                req.system + json.dumps([t.input_schema for t in req.tools]) + seen
            )
        )
        first_turn = not any(m.tool_results for m in req.messages)
        paths = mentioned_paths(req.messages[0].text) if req.messages else []
        if first_turn and paths and any(t.name == "read" for t in req.tools):
            calls = [ToolCall(f"est_{i}", "read", {"path": p}) for i, p in enumerate(paths)]
            usage.output_tokens = estimate_tokens(json.dumps([c.input for c in calls]))
            return ModelResponse(tool_calls=calls, usage=usage, stop_reason="tool_use")
        rewrite = _rewrites(req) if any(t.name == "write" for t in req.tools) else []
        if rewrite:
            usage.output_tokens = estimate_tokens(json.dumps([c.input for c in rewrite]))
            return ModelResponse(tool_calls=rewrite, usage=usage, stop_reason="tool_use")
        rng = self._spread
        if req.schema is not None:
            read = [
                c.input.get("path")
                for m in req.messages
                for c in m.tool_calls
                if c.name == "read" and c.input.get("path")
            ]
            text = json.dumps(plausible(req.schema, rng, self._assume, read))
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
    the same every time and a branch like `confidence < 0.7` takes its share."""

    _STEP = 0.6180339887498949

    def __init__(self, list_items: float) -> None:
        self.list_items, self._carry = list_items, 0.0
        self._x: dict[str, float] = {}

    def fraction(self, key: str = "") -> float:
        """The next point of `key`'s own sequence (one per field, so draws do not mix)."""
        self._x[key] = (self._x.get(key, 0.5) + self._STEP) % 1.0
        return self._x[key]

    def count(self) -> int:
        self._carry += self.list_items
        whole = int(self._carry)
        self._carry -= whole
        return whole

    def choice(self, options: list[Any], key: str = "") -> Any:
        return options[int(self.fraction(f"choice:{key}") * len(options)) % len(options)]


def plausible(
    schema: Any,
    rng: Spread,
    assume: Assumptions,
    files: list[str] | None = None,
    name: str = "",
) -> Any:
    """A value that satisfies common JSON Schemas, shaped by the assumptions.

    A string field named like a file or path cites a file the agent read, so
    follow-up prompts built from it (a reviewer told to check that file) read
    as much as they would in a real run.
    """
    if not isinstance(schema, dict):
        return "x"
    if schema.get("enum"):
        return rng.choice(schema["enum"], name)
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object":
        props = schema.get("properties", {})
        return {key: plausible(sub, rng, assume, files, key) for key, sub in props.items()}
    if kind == "array":
        count = max(rng.count(), int(schema.get("minItems", 0)))
        return [plausible(schema.get("items", {}), rng, assume, files) for _ in range(count)]
    if kind in ("number", "integer"):
        low, high = schema.get("minimum", 0), schema.get("maximum", 1 if kind == "number" else 10)
        value = low + (high - low) * rng.fraction(name)
        return round(value, 3) if kind == "number" else int(value)
    if kind == "boolean":
        return rng.fraction(name) < 0.5
    if kind == "null":
        return None
    if files and ("file" in name or "path" in name):
        return rng.choice(files, name)
    return " ".join(["word"] * assume.string_tokens)


class EstimatingModels:
    """A model cache whose every model is the estimating stand-in for the real one."""

    def __init__(self, real: Any, assumptions: Assumptions) -> None:
        self._real, self._assume = real, assumptions
        self._models: dict[str, Model] = {}

    def get(self, name: str) -> Model:
        if name not in self._models:
            self._models[name] = EstimatingModel(self._real.get(name), self._assume)
        return self._models[name]

    async def aclose(self) -> None:
        return None


def summarize(
    journal: Any, run_id: str, report: dict[str, Any], assumptions: Assumptions
) -> dict[str, Any]:
    """The estimate as data: per phase and total agents, tokens and cost."""
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
        "complete": not failed,
        "note": (
            f"the script stopped under the estimating model: {report['errors'][-1]['error']}; "
            "phases after that are not counted"
        )
        if failed
        else None,
        "assumptions": assumptions.describe(),
    }
