"""A fan-out on a real model: usage journaled and reported, `max_tokens` honoured (D1)."""

from __future__ import annotations

MAX_TOKENS = 24
TOPICS = ["rain", "bread", "rivers", "clocks"]

FANOUT = f"""
phase("fan")
replies = await gather([
    spawn("general", "Write a very long essay, at least a thousand words, about " + t + ".",
          tools=[], max_tokens={MAX_TOKENS}, label=t)
    for t in {TOPICS!r}
])
[r is not None for r in replies]
"""


def test_a_fan_out_records_usage_and_honours_max_tokens(fanflow, recorder):
    done, report = fanflow.run(FANOUT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert report["status"] == "succeeded"
    assert report["agents"]["spawned"] == len(TOPICS)
    assert report["agents"]["succeeded"] == len(TOPICS)
    assert report["result"] == [True] * len(TOPICS)
    assert report["model"] == "openai:SmolLM2-135M-Instruct"
    assert report["scripted"] is None  # a real LLM played the agents

    # Usage: in the report, per phase, and per call in the journal, from the server's counts.
    assert report["usage"]["input_tokens"] > 0
    assert report["usage"]["output_tokens"] > 0
    fan = next(p for p in report["phases"] if p["name"] == "fan")
    assert fan["agents"] == len(TOPICS)
    assert fan["input_tokens"] > 0 and fan["output_tokens"] > 0
    rows = fanflow.journal().usage_rows(report["run_id"])
    by_agent = {r["agent_id"] for r in rows}
    assert by_agent == set(range(1, len(TOPICS) + 1))
    # max_tokens honoured: asked for an essay, no reply is longer than the cap.
    for r in rows:
        assert 0 < r["output_tokens"] <= MAX_TOKENS, r

    # The wire: every request carried the cap in a field this server reads.
    chats = recorder.chats()
    assert len(chats) >= len(TOPICS)
    for body in chats:
        caps = {body.get("max_tokens"), body.get("max_completion_tokens")} - {None}
        assert caps == {MAX_TOKENS}, body
    totals = (sum(r["input_tokens"] for r in rows), sum(r["output_tokens"] for r in rows))
    assert totals == (report["usage"]["input_tokens"], report["usage"]["output_tokens"])
