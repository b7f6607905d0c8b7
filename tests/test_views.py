"""Rendering is data in, text out: tested on a fixed-width captured console."""

from __future__ import annotations

from rich.console import Console

from fanflow._views import RunSnapshot, print_result, render_snapshot, summary_line
from fanflow._views._snapshot import PhaseRow


def capture(renderable_or_fn, width=100) -> str:
    console = Console(width=width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    if callable(renderable_or_fn):
        renderable_or_fn(console)
    else:
        console.print(renderable_or_fn)
    return console.export_text()


def running(**fields) -> RunSnapshot:
    """A running run's snapshot, 16 slots; `fields` set the rest."""
    return RunSnapshot(run_id="r1", status="running", concurrency_cap=16, **fields)


def test_progress_table_shows_phases_counts_tokens_and_concurrency():
    snap = running(
        elapsed_s=3.25,
        running=12,
        phases=[
            PhaseRow("audit", 42, 30, 1, 11, 12000, 3400, 9000),
            PhaseRow("review", 5, 0, 0, 1, 0, 0, 0),
        ],
        usage={"input_tokens": 12000, "output_tokens": 3400},
        recent_events=["log: hi"],
    )
    text = capture(render_snapshot(snap))
    assert "run r1 running" in text and "in flight 12/16" in text and "tokens 15,400" in text
    assert "audit" in text and "42" in text and "12,000" in text and "review" in text
    assert "log: hi" in text


def test_progress_says_when_the_provider_lowered_or_paced_the_run():
    snap = running(elapsed_s=1.0, running=8, adaptive_limit=11, paced_per_minute=2400)
    text = capture(render_snapshot(snap), width=160)
    assert "in flight 8/16 (adaptive limit 11)" in text
    assert "(paced to 2,400/min by the provider's headers)" in text


def test_rows_result_is_a_table_and_text_is_text():
    rows = [{"file": "a.ts", "passed": True}, {"file": "b.ts", "passed": False}]
    table = capture(lambda c: print_result(rows, c))
    assert "file" in table and "a.ts" in table and "yes" in table and "no" in table
    assert capture(lambda c: print_result("plain words", c)).strip() == "plain words"
    assert '"k": 1' in capture(lambda c: print_result({"k": 1}, c))


def test_summary_line():
    report = {
        "run_id": "r",
        "status": "partial",
        "agents": {"spawned": 3, "succeeded": 2, "failed": 1},
        "usage": {
            "input_tokens": 10,
            "output_tokens": 5,
            "cache_read_input_tokens": 0,
            "cache_creation_input_tokens": 0,
            "cost_usd": None,
        },
        "wall_s": 1.234,
    }
    assert summary_line(report) == "run r partial: 3 agents (2 ok, 1 failed), 15 tokens, 1.2s"
