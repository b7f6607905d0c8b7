"""A tool-using agent on a real model: granted `read`, it is offered the tool with a
`tool_choice`, and a tool call the model makes is executed by fanflow (its result goes
back to the server). A 135M model may not call it; then fanflow must say so (D2, D3)."""

from __future__ import annotations

import re

CODE = "PELICAN-7731"

READER = """
phase("look")
await spawn("general", "Call the read tool with path notes.txt, then reply with the code word "
            "written in that file.", tools=["read"], max_tokens=120)
"""


def _tool_names(body: dict) -> set[str]:
    return {t["function"]["name"] for t in body.get("tools") or []}


def test_a_read_tool_call_is_offered_and_executed(fanflow, recorder, workspace):
    (workspace / "notes.txt").write_text(f"Meeting notes.\nThe code word is {CODE}.\n")
    done, report = fanflow.run(READER)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    assert report["status"] in ("succeeded", "failed"), report

    chats = recorder.chats()
    assert chats, "no request reached the server"
    first = chats[0]
    # Offered: the granted tool, and a tool_choice, so a server that would drop tools
    # without one cannot do it silently (D3).
    assert _tool_names(first) == {"read"}
    assert "tool_choice" in first, sorted(first)

    # What the model did, as the wire shows it: assistant tool-call turns sent back,
    # each with the tool's result after it.
    calls, results = [], []
    for body in chats[1:]:
        for m in body["messages"]:
            if m["role"] == "assistant" and m.get("tool_calls"):
                calls += m["tool_calls"]
                # llama-cpp-python answers 500 to content null (D2): send a string
                assert isinstance(m.get("content"), str), m
            if m["role"] == "tool":
                results.append(m)
    if calls:
        # fanflow ran every call it passed back, and a read of notes.txt gave the file
        assert {r["tool_call_id"] for r in results} >= {c["id"] for c in calls}
        reads = [
            r for c, r in zip(calls, results, strict=False)
            if c["function"]["name"] == "read" and "notes.txt" in c["function"]["arguments"]
        ]  # fmt: skip
        for r in reads:
            assert CODE in r["content"], r
    else:
        # No call: a success that read nothing must not pass unflagged (D3).
        journal = fanflow.journal()
        said = [e["message"] for e in journal.events(report["run_id"], limit=1000)]
        said += [e["error"] for e in report["errors"]]
        flagged = [
            m for m in said
            if re.search(r"tool", m, re.I) and re.search(r"no |never|zero|ignor|0 ", m, re.I)
        ]  # fmt: skip
        assert flagged, f"an agent granted read made no tool call and nothing says so: {said}"
