"""Fan-in: `synthesize(data)` as one synthesizer agent, or a tree of them.

The data goes in as a mid-conversation system block on models that take one,
else as a user message. Data bigger than the chunk budget (half the model's
context, less the instructions) is cut into chunks, each chunk synthesized,
then the syntheses synthesized, up to a fixed depth.

Sizes are estimated conservatively: three bytes of UTF-8 a token, not four
characters (JSON and non-English text take more tokens than prose), so a chunk
that was estimated to fit does fit. When a server still answers that a request
did not fit its context (`ContextTooLong`; a local server with a small or
unannounced window), that agent's data is split again at half the budget and
sent in parts, at most `MAX_SPLITS` times along any branch. The agent that did
not fit is journaled `not_run` (superseded), not `failed`: the run's outcome is
the parts'.

A fan-in over nothing is not run: when the data holds no value at all (every
item None or empty) and agents of the run failed or were stopped, there is
nothing to synthesize, and a synthesizer would only be paid to say so.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from ._agents import BUILTIN_AGENTS
from ._models import Message
from ._scheduler import Scheduler

MAX_DEPTH = 3
MAX_SPLITS = 4
"""How many times, along one branch, data that did not fit is split again (halving)."""
BYTES_PER_TOKEN = 3
"""The size estimate: a token per three bytes of UTF-8 (tokenizers give 3-4 characters
a token on English prose, fewer on JSON, code and other scripts)."""
MIN_BUDGET = 200
DEFAULT_INSTRUCTIONS = "Synthesize the data above into one answer."


def data_tokens(text: str) -> int:
    """A conservative token count of `text` (more than a tokenizer is likely to give)."""
    return max(1, -(-len(text.encode("utf-8")) // BYTES_PER_TOKEN))


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
    asked = instructions or DEFAULT_INSTRUCTIONS
    await scheduler.models.get(name).context_size()  # a local server is asked its n_ctx once
    budget = _budget(scheduler, name, asked)
    outcome = await _reduce(scheduler, data, asked, name, schema, budget, 0, MAX_SPLITS, "")
    if outcome["ok"]:
        scheduler.last_synthesis = outcome["value"]
    return outcome


def _budget(scheduler: Scheduler, model: str, instructions: str) -> int:
    """Data tokens one synthesizer may get: half the model's context (as the model knows
    it now: a provider may have learned a smaller one), less the fixed prompt."""
    context = scheduler.models.get(model).context_tokens
    fixed = data_tokens(BUILTIN_AGENTS["synthesizer"].system_prompt + instructions)
    return max(MIN_BUDGET, context // 2 - fixed)


async def _reduce(
    scheduler: Scheduler,
    data: Any,
    instructions: str,
    model: str,
    schema: object,
    budget: int,
    depth: int,
    splits: int,
    label: str,
) -> dict[str, Any]:
    """Synthesize `data` within `budget` tokens an agent; `label` names a part's agents."""
    text = _json(data)
    if data_tokens(text) <= budget or depth >= MAX_DEPTH:
        name = label or "synthesis"
        return await _fit(
            scheduler, data, text, instructions, model, schema, budget, depth, splits, name
        )
    chunks = _chunks(data, budget)
    part = "Synthesize this part of a larger data set; keep every distinct item. "
    part = instructions if instructions.startswith(part) else part + instructions
    prefix = f"{label} " if label else ""
    outcomes = await asyncio.gather(
        *(
            _fit(
                scheduler,
                chunk,
                _json(chunk),
                part,
                model,
                None,
                budget,
                depth,
                splits,
                f"{prefix}synthesis part {i + 1}/{len(chunks)}",
            )
            for i, chunk in enumerate(chunks)
        )
    )
    partials = [o["value"] for o in outcomes if o["ok"]]
    if not partials:
        return outcomes[0]
    return await _reduce(
        scheduler,
        {"partial_syntheses": partials},
        instructions,
        model,
        schema,
        budget,
        depth + 1,
        splits,
        label,
    )


async def _fit(
    scheduler: Scheduler,
    data: Any,
    text: str,
    instructions: str,
    model: str,
    schema: object,
    budget: int,
    depth: int,
    splits: int,
    label: str,
) -> dict[str, Any]:
    """One synthesizer agent over `data`; if the server says it did not fit the model's
    context, the same data again at half the budget (split into parts), `splits` times."""
    agent_id = _register(scheduler, _cut(text, budget), instructions, model, schema, label)
    if splits > 0:  # the last try fails as any agent does
        scheduler.outcomes.splittable.add(agent_id)
    outcome = await scheduler.await_agent(agent_id)
    if outcome["ok"] or agent_id not in scheduler.outcomes.overflowed:
        return outcome
    smaller = max(MIN_BUDGET, min(budget // 2, _budget(scheduler, model, instructions)))
    return await _reduce(
        scheduler, data, instructions, model, schema, smaller, depth, splits - 1, label
    )


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)


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
        step = _chars_within(text, budget)
        return [text[i : i + step] for i in range(0, len(text), step)]
    chunks: list[list[Any]] = [[]]
    used = 0
    for item in (piece for whole in items for piece in _pieces(whole, budget)):
        size = data_tokens(_json(item)) + 1  # the separator between items
        if chunks[-1] and used + size > budget:
            chunks.append([])
            used = 0
        chunks[-1].append(item)
        used += size
    return chunks


def _pieces(item: Any, budget: int) -> list[Any]:
    """`item`, or the parts of it that each fit `budget`: an item bigger than a chunk
    (`{"notes": [...]}`, the usual shape) is split inside, never cut to fit."""
    if data_tokens(_json(item)) + 1 <= budget:
        return [item]
    if isinstance(item, dict) and len(item) == 1:
        ((key, value),) = item.items()
        inner = max(1, budget - data_tokens(_json(key)) - 4)
        return [{key: part} for part in _chunks(value, inner)]
    if isinstance(item, dict | list | str):
        return list(_chunks(item, budget))
    return [item]


def _chars_within(text: str, budget: int) -> int:
    """How many characters of `text`, at its own bytes per character, fit `budget` tokens."""
    per_char = len(text.encode("utf-8")) / max(1, len(text))
    return max(1, int(budget * BYTES_PER_TOKEN / max(1.0, per_char)))


def _cut(text: str, budget: int) -> str:
    if data_tokens(text) <= budget:
        return text
    limit = _chars_within(text, budget)
    return text[:limit] + f" [... cut: {len(text) - limit} more characters ...]"
