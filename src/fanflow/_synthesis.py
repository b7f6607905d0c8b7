"""Fan-in: `synthesize(data)` as one synthesizer agent, or a tree of them.

The data goes in as a mid-conversation system block on models that take one,
else as a user message. Data bigger than half the model's context is cut
into chunks, each chunk synthesized, then the syntheses synthesized, up to a
fixed depth.

A fan-in over nothing is not run: when the data holds no value at all (every
item None or empty) and agents of the run failed or were stopped, there is
nothing to synthesize, and a synthesizer would only be paid to say so.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from ._models import Message, estimate_tokens
from ._scheduler import Scheduler

MAX_DEPTH = 3
DEFAULT_INSTRUCTIONS = "Synthesize the data above into one answer."


async def synthesize(
    scheduler: Scheduler, data: Any, instructions: object, model: object, schema: object
) -> dict[str, Any]:
    """Run the fan-in; an envelope `{ok, value|error}` like any agent's."""
    scheduler.check_fatal()
    if instructions is not None and not isinstance(instructions, str):
        raise TypeError("instructions= takes a string")
    name = scheduler.settings.agent_model or scheduler.settings.model
    if model is not None:
        if not isinstance(model, str):
            raise TypeError("model= takes a model name string")
        name = model
    empty = _nothing_after_failures(scheduler, data)
    if empty is not None:
        return {"ok": False, "error": empty}
    budget = max(1000, scheduler.models.get(name).context_tokens // 2)
    outcome = await _reduce(
        scheduler, data, instructions or DEFAULT_INSTRUCTIONS, name, schema, budget, 0
    )
    if outcome["ok"]:
        scheduler.last_synthesis = outcome["value"]
    return outcome


async def _reduce(
    scheduler: Scheduler,
    data: Any,
    instructions: str,
    model: str,
    schema: object,
    budget: int,
    depth: int,
) -> dict[str, Any]:
    text = json.dumps(data, ensure_ascii=False, default=str)
    if estimate_tokens(text) <= budget or depth >= MAX_DEPTH:
        return await _one(scheduler, _cut(text, budget), instructions, model, schema)
    chunks = _chunks(data, budget)
    part = "Synthesize this part of a larger data set; keep every distinct item. " + instructions
    ids = [
        _register(
            scheduler,
            _cut(json.dumps(c, ensure_ascii=False, default=str), budget),
            part,
            model,
            None,
            f"synthesis part {i + 1}/{len(chunks)}",
        )
        for i, c in enumerate(chunks)
    ]
    outcomes = await asyncio.gather(*(scheduler.await_agent(i) for i in ids))
    partials = [o["value"] for o in outcomes if o["ok"]]
    if not partials:
        return outcomes[0]
    return await _reduce(
        scheduler, {"partial_syntheses": partials}, instructions, model, schema, budget, depth + 1
    )


async def _one(
    scheduler: Scheduler, text: str, instructions: str, model: str, schema: object
) -> dict[str, Any]:
    agent_id = _register(scheduler, text, instructions, model, schema, "synthesis")
    return await scheduler.await_agent(agent_id)


def _nothing_after_failures(scheduler: Scheduler, data: Any) -> str | None:
    """Why `synthesize(data)` must not run (empty data, every earlier agent failed), or None."""
    if not _empty(data):
        return None
    counts = scheduler.journal.agent_counts(scheduler.run_id)
    lost = sum(counts.get(s, 0) for s in ("failed", "not_run", "cancelled"))
    if not lost or counts.get("succeeded", 0):
        return None
    return (
        f"synthesize() not run: its data is empty because none of the {lost} agent(s) "
        "before it succeeded; see their errors"
    )


def _empty(data: Any, depth: int = 0) -> bool:
    """No value anywhere in `data`: None, "", or containers of only those (bounded depth)."""
    if data is None or data == "":
        return True
    if depth > 20 or not isinstance(data, (list, tuple, dict)):
        return False
    items = data.values() if isinstance(data, dict) else data
    return all(_empty(item, depth + 1) for item in items)


def _register(
    scheduler: Scheduler, text: str, instructions: str, model: str, schema: object, label: str
) -> int:
    role = "system" if scheduler.models.get(model).supports_mid_system else "user"
    block = Message(role, f"The collected results follow as JSON.\n<data>\n{text}\n</data>")
    return scheduler.register(
        "synthesizer", instructions, model=model, schema=schema, label=label, context=[block]
    )


def _chunks(data: Any, budget: int) -> list[Any]:
    if isinstance(data, dict):
        items: list[Any] = [{k: v} for k, v in data.items()]
    elif isinstance(data, list):
        items = list(data)
    else:
        text = str(data)
        step = budget * 4
        return [text[i : i + step] for i in range(0, len(text), step)]
    chunks: list[list[Any]] = [[]]
    used = 0
    for item in items:
        size = estimate_tokens(json.dumps(item, ensure_ascii=False, default=str))
        if chunks[-1] and used + size > budget:
            chunks.append([])
            used = 0
        chunks[-1].append(item)
        used += size
    return chunks


def _cut(text: str, budget: int) -> str:
    limit = budget * 4
    if len(text) <= limit:
        return text
    return text[:limit] + f" [... cut: {len(text) - limit} more characters ...]"
