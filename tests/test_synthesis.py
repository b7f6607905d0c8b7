"""Fan-in: the data block's role, and hierarchical reduction of big data."""

from __future__ import annotations

import json

from helpers import run

from fanflow import FunctionModel
from fanflow._journal import Journal


def recording_model(*, mid_system: bool, context_tokens: int = 200_000):
    seen = []

    def reply(req):
        seen.append(req)
        block = next(m for m in req.messages if "<data>" in m.text)
        data = json.loads(block.text.split("<data>")[1].split("</data>")[0])
        return json.dumps({"summary": f"{len(json.dumps(data))} chars"})

    model = FunctionModel(
        reply, name="fake", supports_mid_system=mid_system, context_tokens=context_tokens
    )
    return model, seen


async def test_data_goes_in_as_system_block_when_the_model_takes_one():
    model, seen = recording_model(mid_system=True)
    report = await run("await synthesize({'a': [1, 2]}, instructions='merge')", model=model)
    assert report["status"] == "succeeded"
    [req] = seen
    assert [m.role for m in req.messages] == ["user", "system", "user"]
    assert req.messages[0].text == "merge"
    from fanflow._agents import BUILTIN_AGENTS

    assert req.system == BUILTIN_AGENTS["synthesizer"].system_prompt


async def test_data_goes_in_as_user_message_otherwise():
    model, seen = recording_model(mid_system=False)
    await run("await synthesize([1, 2, 3])", model=model)
    assert [m.role for m in seen[0].messages] == ["user", "user", "user"]


async def test_big_data_is_reduced_hierarchically():
    model, seen = recording_model(mid_system=True, context_tokens=2_000)
    journal = Journal()
    items = "[{'id': i, 'text': 'x' * 200} for i in range(60)]"
    report = await run(f"phase('fan-in')\nawait synthesize({items})", model=model, journal=journal)
    assert report["status"] == "succeeded"
    labels = [a["label"] for a in journal.agents(report["run_id"])]
    parts = [label for label in labels if label.startswith("synthesis part")]
    assert len(parts) >= 4 and labels[-1] == "synthesis"
    assert report["result"]["summary"].endswith("chars")
    assert all(len(r.messages[0].text) < 2_000 * 4 + 200 for r in seen)


async def test_result_defaults_to_the_last_synthesis():
    model, _ = recording_model(mid_system=True)
    report = await run("x = await synthesize([1])\ny = 2", model=model)
    assert report["result"] == {"summary": "3 chars"}


async def test_one_big_keyed_list_is_split_inside_never_cut():
    """`{"notes": [...]}` is one item at the top: it must be split within, not cut to fit."""
    model, seen = recording_model(mid_system=True, context_tokens=2_000)
    journal = Journal()
    script = "await synthesize({'notes': [{'id': i, 'text': 'y' * 200} for i in range(60)]})"
    report = await run(script, model=model, journal=journal)
    assert report["status"] == "succeeded"
    parts = [a for a in journal.agents(report["run_id"]) if "synthesis part" in a["label"]]
    assert len(parts) >= 4
    sent = [m.text for r in seen for m in r.messages]
    assert not any("[... cut:" in text for text in sent)
    ids = {int(n) for text in sent for n in __import__("re").findall(r'"id": (\d+)', text)}
    assert ids == set(range(60))  # every item reached some synthesizer
