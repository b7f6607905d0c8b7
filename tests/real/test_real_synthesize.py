"""`synthesize` over data bigger than the server's 2k context per slot: it splits the
data to fit (from the server's context size, or on its context-length 400) and
succeeds, instead of failing on a 400 (D4)."""

from __future__ import annotations

from ._server import CTX_TOTAL, SLOTS

NOTE = "the river carries silt to the sea, and the farmers on its banks plant rice. "
SYNTH = f"""
phase("fanin")
notes = ["note " + str(i) + ": " + {NOTE!r} * 4 for i in range(40)]
await synthesize({{"notes": notes}}, instructions="One short sentence about the notes.")
"""


def test_synthesize_splits_data_bigger_than_the_context(fanflow, recorder, server):
    status, props = server.get("/props")
    assert status == 200
    per_slot = props["default_generation_settings"]["n_ctx"]
    assert per_slot == CTX_TOTAL // SLOTS  # the server really has a 2k context per slot
    data_chars = 40 * (len("note 00: ") + 4 * len(NOTE))
    assert data_chars // 4 > per_slot  # the data alone is bigger than the context

    done, report = fanflow.run(SYNTH)
    # fanflow's part: the data is split to fit and no request overflows the context. A
    # 135M model may still ramble a part's JSON past max_tokens (its wisdom, not ours),
    # so a part may fail and the run end partial, never on a context error.
    assert report["status"] in ("succeeded", "partial"), (done.stderr[-2000:], report)
    assert not [e for e in report["errors"] if "context" in e["error"].lower()], report
    assert [b.get("_status") for b in recorder.chats() if b.get("_status") != 200] == []
    assert not any(
        "[... cut:" in (m.get("content") or "") for b in recorder.chats() for m in b["messages"]
    )  # split, never cut to fit

    answered = [b for b in recorder.chats() if b.get("_status") == 200]
    # split: several chunk syntheses, then a synthesis of them
    assert len(answered) >= 3, [b.get("_status") for b in recorder.chats()]
    for body in answered:
        sent = sum(len(m.get("content") or "") for m in body["messages"])
        assert sent < data_chars  # no answered request carried all of the data
