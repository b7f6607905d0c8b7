"""What a resumed run can take from its earlier attempts instead of redoing.

A resume re-executes the script from the start. Each spawn is matched to an
earlier agent by its identity (phase, agent type, prompt and context, tools,
model, effort, schema) and occurrence: the k-th spawn with an identity takes
the k-th earlier agent with it. A succeeded one returns its journaled result
with no model call; any other is run again under the same agent id. Script
tool calls are matched the same way by (tool, arguments); what each returns
on resume (a side effect's outcome, a read as it was first seen, never a
redacted copy) is decided by `_bridge._replayed_tool`. The replay is built
when the resume owns the run's lease, so it holds every earlier write.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict, deque
from typing import Any

from ._journal import Journal
from ._journal._encode import loads
from ._journal._unredact import restore
from ._models import ToolResult
from ._tools import agent_tool


def identity_of(
    phase: str,
    agent_type: str,
    prompt_hash: str,
    tools: tuple[str, ...],
    model: str,
    effort: str | None,
    schema: Any,
) -> str:
    payload = json.dumps(
        [phase, agent_type, prompt_hash, list(tools), model, effort, schema],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def tool_key(name: str, args: list[Any]) -> str:
    payload = json.dumps([name, args], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


class Replay:
    """Earlier attempts' agents and tool calls, handed out in order of identity."""

    def __init__(self, journal: Journal | None = None, run_id: str | None = None) -> None:
        self._agents: dict[str, deque[dict[str, Any]]] = defaultdict(deque)
        self._tools: dict[str, deque[dict[str, Any]]] = defaultdict(deque)
        self.next_agent_id = 1
        self.next_tool_seq = 1
        self.reused_results = 0
        if journal is None or run_id is None:
            return
        for row in journal.agents(run_id):
            self._agents[row["identity"]].append(row)
            self.next_agent_id = max(self.next_agent_id, row["id"] + 1)
        for call in journal.tool_calls(run_id):
            self._tools[call["args_hash"]].append(call)
            self.next_tool_seq = max(self.next_tool_seq, call["seq"] + 1)

    def take_agent(self, identity: str) -> dict[str, Any] | None:
        queue = self._agents.get(identity)
        return queue.popleft() if queue else None

    def take_tool_call(self, key: str) -> dict[str, Any] | None:
        queue = self._tools.get(key)
        return queue.popleft() if queue else None

    def unclaimed_agent_ids(self) -> list[int]:
        return sorted(row["id"] for queue in self._agents.values() for row in queue)


def admit(
    replay: Replay, journal: Journal, spawn: dict[str, Any], seq: int
) -> tuple[int, dict[str, Any] | None]:
    """The agent id for a checked spawn (`AgentSpec` fields): an earlier attempt's on
    resume, else a new one; and, for an earlier agent that succeeded, the envelope of its
    journaled result (it is not run again).
    """
    prompt_hash = hashlib.sha256(
        (spawn["prompt"] + "".join(m.text for m in spawn["context"])).encode()
    ).hexdigest()
    agent_type = spawn["definition"].name
    identity = identity_of(
        spawn["phase"],
        agent_type,
        prompt_hash,
        spawn["tools"],
        spawn["model"],
        spawn["effort"],
        spawn["schema"],
    )
    earlier = replay.take_agent(identity)
    if earlier is None:
        agent_id = replay.next_agent_id
        replay.next_agent_id += 1
        journal.add_agent(
            spawn["run_id"],
            agent_id,
            phase=spawn["phase"],
            seq_in_phase=seq,
            agent_type=agent_type,
            label=spawn["label"],
            model=spawn["model"],
            tools=list(spawn["tools"]),
            prompt=spawn["prompt"],
            prompt_hash=prompt_hash,
            identity=identity,
        )
        return agent_id, None
    if earlier["status"] != "succeeded":
        journal.reopen_agent(spawn["run_id"], earlier["id"])
        return earlier["id"], None
    replay.reused_results += 1
    return earlier["id"], {"ok": True, "value": json.loads(earlier["result_json"])}


class AgentEffects:
    """One agent's granted tools, where a side effect its earlier attempt finished is
    not done again when the agent is re-run (after a crash, on resume).

    The agent's side-effect calls (`write`, `run`, `git_restore`, write/run plugins)
    are journaled in order, intent before, outcome after. A re-run agent whose
    k-th such call has the tool and arguments of the earlier attempt's k-th, and
    every one before it did too, gets the journaled outcome back. The first call
    that differs (another write, another command) ends the replay for that agent:
    from there everything runs, and the earlier attempt's rest is forgotten, so
    a test is never answered for code the agent did not write this time.
    """

    def __init__(self, tools: Any, journal: Journal, run_id: str, agent_id: int) -> None:
        self._tools, self._journal = tools, journal
        self._run_id, self._agent_id = run_id, agent_id
        self._earlier = journal.agent_effects(run_id, agent_id)
        self._next = 0
        self._replaying = bool(self._earlier)

    def specs(self) -> list[Any]:
        return self._tools.specs()

    async def execute(self, call: Any) -> Any:
        if call.name not in self._tools.granted or agent_tool(call.name).access == "read":
            return await self._tools.execute(call)  # reads are done again; refusals too
        seq = self._next
        self._next += 1  # taken before any await: concurrent calls keep the reply's order
        key = tool_key(call.name, [call.input])
        replayed = self._replayed(seq, key)
        if replayed is not None:
            return ToolResult(call.id, replayed[0], is_error=replayed[1])
        drop, self._replaying = self._replaying or seq < len(self._earlier), False
        self._journal.agent_effect_started(
            self._run_id, self._agent_id, seq, call.name, key, drop=drop
        )
        result = await self._tools.execute(call)
        self._journal.agent_effect_done(
            self._run_id, self._agent_id, seq, result.content, result.is_error
        )
        return result

    def _replayed(self, seq: int, key: str) -> tuple[str, bool] | None:
        if not self._replaying or seq >= len(self._earlier):
            return None
        row = self._earlier[seq]
        if row["args_hash"] != key or row["state"] != "done":
            return None
        stored = loads(row["result"])
        content = stored if row["exact"] else restore(stored, row["result_sha"])
        if not isinstance(content, str):
            content = stored  # a secret no longer in the environment: redacted, as said
        return content, bool(row["is_error"])
