"""Benches (h) and (i) of issue 15: how fast a run stops when the account cannot go on.

(h) Quota stop: 200 agents at concurrency 16 against the fake API, which
    answers the first 20 requests and then refuses every request the way the
    provider says the account is out (Anthropic's 400 "credit balance is too
    low", OpenAI's 429 `insufficient_quota`, a 429 spend limit with a
    retry-after of a day). The figure: requests the server received after the
    first refusal. Target <= 16 (those already in flight), then 0 new ones.
(i) Closed port: `ANTHROPIC_BASE_URL` on a port nothing listens on; seconds
    until the run ends. Target <= 10 s.

A run that has not ended after `CAP_S` is cancelled and counted as "did not
stop" (the code before the breaker retried for minutes).

    python bench/breaker.py          # h and i
    python bench/breaker.py h        # only (h)
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

from _fake import FakeAPI, Faults
from _report import finish, publish

from fanflow import RunOptions, run_script
from fanflow._journal import Journal

KEY = "bench-key-0123456789abcdef"
CAP_S = 60.0
AGENTS = 200
ANSWERED_FIRST = 20
SCRIPT = (
    f"r = await gather([spawn('general', f'unit {{i}}', tools=[]) for i in range({AGENTS})])"
    "\nawait synthesize([x for x in r if x])"
)
CASES = {
    "anthropic_credit": ("anthropic:claude-sonnet-4-6", "credit"),
    "anthropic_spend_limit_429": ("anthropic:claude-sonnet-4-6", "spend_limit"),
    "openai_insufficient_quota": ("openai:gpt-5-mini", "credit"),
}


def _environment(url: str) -> None:
    os.environ.update(
        ANTHROPIC_API_KEY=KEY,
        OPENAI_API_KEY=KEY,
        ANTHROPIC_BASE_URL=url,
        OPENAI_BASE_URL=url + "/v1",
    )


async def _run(model: str, tmp: str) -> tuple[dict | None, float, float | None]:
    """(report or None, wall seconds, seconds from the first account stop to the run's end)."""
    import anthropic  # noqa: F401 - the SDKs load before the clock starts, as in suite.py
    import openai  # noqa: F401

    options = RunOptions(model=model, concurrency=16, workspace=tmp)
    journal = Journal(Path(tmp) / "b.db")
    start = time.perf_counter()
    try:
        report = await asyncio.wait_for(run_script(SCRIPT, options, journal=journal), CAP_S)
    except TimeoutError:
        return None, time.perf_counter() - start, None
    wall = time.perf_counter() - start
    paused = journal.events_of_kind(report["run_id"], "paused")
    ended = journal.get_run(report["run_id"])["ended_at"]
    return report, wall, (ended - paused[0]["at"]) if paused and ended else None


async def scenario_h() -> dict:
    figures: dict = {}
    for name, (model, kind) in CASES.items():
        faults = Faults(latency=0.05, account=kind, account_after=ANSWERED_FIRST)
        async with FakeAPI(api_key=KEY, faults=faults) as api:
            _environment(api.url)
            with tempfile.TemporaryDirectory() as tmp:
                report, wall, tail = await _run(model, tmp)
            refused = [i for i, r in enumerate(api.requests) if r.fault == "account"]
            after = len(api.requests) - refused[0] - 1 if refused else 0
            figures[f"h_{name}_requests_after_first_refusal"] = after
            figures[f"h_{name}_status"] = report["status"] if report else f"running at {CAP_S}s"
            figures[f"h_{name}_wall_s"] = round(wall, 2)
            figures[f"h_{name}_s_from_stop_to_end"] = None if tail is None else round(tail, 2)
    return figures


def _closed_port() -> int:
    with socket.socket() as s:  # bound then closed: nothing listens there now
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def scenario_i() -> dict:
    _environment(f"http://127.0.0.1:{_closed_port()}")
    with tempfile.TemporaryDirectory() as tmp:
        report, wall, _ = await _run("anthropic:claude-sonnet-4-6", tmp)
    error = report["errors"][-1]["error"] if report and report["errors"] else None
    return {
        "i_closed_port_seconds_to_stop": round(wall, 2),
        "i_closed_port_status": report["status"] if report else f"running at {CAP_S}s",
        "i_closed_port_error": error,
    }


def main() -> None:
    chosen = {a for a in sys.argv[1:] if not a.startswith("-")} or {"h", "i"}
    figures: dict = {}
    if "h" in chosen:
        figures.update(asyncio.run(scenario_h()))
    if "i" in chosen:
        figures.update(asyncio.run(scenario_i()))
    publish(figures, "breaker" + ("" if chosen == {"h", "i"} else "-" + "".join(sorted(chosen))))


if __name__ == "__main__":
    main()
    finish()
