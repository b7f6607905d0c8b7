"""The sandbox side of the script API, fed into the interpreter before the script.

Everything here runs inside the sandbox; the only way out is the `_ff_*`
host functions, and the host validates every call to them. Names the script
itself uses are declared in `api.pyi`; `_ff_*` are not, so a script that
calls them directly fails its type check. The `tools` object is written from
the tool registry (`fanflow._tools`), the same source as its stubs.
"""

from .._tools import tools_prelude

PRELUDE = """
import asyncio
import json


# spawn() awaitables not yet awaited, by id(): gather hands a list made only of them to
# the host in one call, so finished agents are replaced host-side without a round trip
# through the sandbox. The entry holds the awaitable itself, so its id cannot be reused.
_ff_spawned = {}


async def _ff_agent_result(agent_id, key):
    _ff_spawned.pop(key[0], None)
    outcome = await _ff_await(agent_id)
    if outcome["ok"]:
        return outcome["value"]
    raise RuntimeError(outcome["error"])


def _ff_spawn_ids(items):
    ids = []
    for item in items:
        entry = _ff_spawned.get(id(item))
        if entry is None or entry[1] is not item:
            return None
        ids.append(entry[0])
    for item in items:
        _ff_spawned.pop(id(item), None)
    return ids


def spawn(agent, prompt, *, tools=None, max_tokens=None, model=None, effort=None, schema=None,
          label=None):
    if not isinstance(agent, str):
        raise TypeError("agent must be a non-empty string (got " + type(agent).__name__ + ")")
    if not isinstance(prompt, str):
        raise TypeError("prompt must be a non-empty string (got " + type(prompt).__name__ + ")")
    agent_id = _ff_spawn(agent, prompt, tools, max_tokens, model, effort, schema, label)
    key = [None]
    awaitable = _ff_agent_result(agent_id, key)
    key[0] = id(awaitable)
    _ff_spawned[key[0]] = (agent_id, awaitable)
    return awaitable


def agent(prompt, *, schema=None, label=None, agent="general", tools=None, max_tokens=None,
          model=None, effort=None):
    return spawn(agent, prompt, tools=tools, max_tokens=max_tokens, model=model, effort=effort,
                 schema=schema, label=label)


async def _ff_settle(awaitable, strict, index):
    if strict:
        return await awaitable
    try:
        return await awaitable
    except Exception as error:
        # cut here too, so a huge message never crosses to the host (which cuts again)
        _ff_unit_failed(index, type(error).__name__, str(error)[:10000])
        return None


async def gather(awaitables, *, concurrency=None, strict=False):
    items = list(awaitables)
    if not items:
        return []
    ids = _ff_spawn_ids(items)
    if ids is not None:
        return await _ff_gather(ids, concurrency, strict)
    limit = _ff_gather_limit(concurrency, len(items))
    results = [None] * len(items)
    cursor = {"next": 0}

    async def worker():
        while cursor["next"] < len(items):
            index = cursor["next"]
            cursor["next"] = index + 1
            results[index] = await _ff_settle(items[index], strict, index)

    await asyncio.gather(*[worker() for _ in range(limit)])
    return results


async def pipeline(items, fn, *, concurrency=None):
    return await gather([fn(item) for item in items], concurrency=concurrency)


def phase(name):
    _ff_phase(name)


async def synthesize(data, *, instructions=None, model=None, schema=None):
    outcome = await _ff_synthesize(data, instructions, model, schema)
    if outcome["ok"]:
        return outcome["value"]
    raise RuntimeError(outcome["error"])


def log(*values):
    _ff_log(" ".join(str(value) for value in values)[:2000])


class _Budget:
    def __init__(self):
        self.total = _ff_budget()["total"]

    def spent(self):
        return _ff_budget()["spent"]

    def remaining(self):
        left = _ff_budget()["remaining"]
        return float("inf") if left is None else left


budget = _Budget()
""" + tools_prelude()
