"""Orchestration overhead with the Anthropic provider, against the loopback fake API.

N one-turn agents at concurrency C with L seconds of server latency, through
fanflow (sandbox, scheduler, journal, SDK, retries), and through the plain
recipe users write by hand (`AsyncAnthropic` + `asyncio.Semaphore` + `gather`),
in the same process against the same server. Prints ratios against that
baseline and against the ideal ceil(N/C) * L, and the share of input tokens
served from the prompt cache. Usage: python bench/provider_overhead.py [N] [C] [L]
"""

from __future__ import annotations

import asyncio
import math
import os
import sys
import tempfile
import time
from pathlib import Path

from _fake import FakeAPI, Faults
from _report import finish, publish

from fanflow import RunOptions, run_script
from fanflow._journal import Journal

KEY = "bench-key-0123456789"
MODEL = "claude-opus-4-8"


async def baseline(api: FakeAPI, n: int, c: int) -> float:
    import anthropic

    client = anthropic.AsyncAnthropic(api_key=KEY, base_url=api.url)
    slots = asyncio.Semaphore(c)

    async def one(i: int) -> None:
        async with slots:
            await client.messages.create(
                model=MODEL, max_tokens=1000, messages=[{"role": "user", "content": f"unit {i}"}]
            )

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    elapsed = time.perf_counter() - start
    await client.close()
    return elapsed


async def measure(n: int, c: int, latency: float) -> dict:
    async with FakeAPI(api_key=KEY, faults=Faults(latency=latency)) as api:
        os.environ.update(ANTHROPIC_API_KEY=KEY, ANTHROPIC_BASE_URL=api.url)
        plain = await baseline(api, n, c)
        script = f"await gather([spawn('general', f'unit {{i}}') for i in range({n})])"
        with tempfile.TemporaryDirectory() as tmp:
            options = RunOptions(
                model=f"anthropic:{MODEL}", concurrency=c, max_agents=max(n, 1000), workspace=tmp
            )
            start = time.perf_counter()
            report = await run_script(script, options, journal=Journal(Path(tmp) / "b.db"))
            wall = time.perf_counter() - start
    assert report["agents"]["succeeded"] == n, report["errors"][:3]
    usage = report["usage"]
    prompt = (
        usage["input_tokens"]
        + usage["cache_read_input_tokens"]
        + usage["cache_creation_input_tokens"]
    )
    ideal = math.ceil(n / c) * latency
    return {
        "agents": n,
        "concurrency": c,
        "latency_s": latency,
        "ideal_s": round(ideal, 3),
        "plain_sdk_s": round(plain, 3),
        "fanflow_s": round(wall, 3),
        "fanflow_over_plain": round(wall / plain, 3),
        "fanflow_over_ideal": round(wall / ideal, 3),
        "cache_read_share_of_input": round(usage["cache_read_input_tokens"] / prompt, 3),
    }


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    c = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    latency = float(sys.argv[3]) if len(sys.argv) > 3 else 0.1
    figures = asyncio.run(measure(n, c, latency))
    publish(figures, "provider_overhead")


if __name__ == "__main__":
    main()
    finish()
