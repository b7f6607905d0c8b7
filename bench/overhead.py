"""Orchestration overhead on an offline model that only waits.

Runs N one-turn agents at concurrency C with L seconds of simulated latency (a
`FunctionModel` that sleeps L and answers a fixed JSON text)
through fanflow (sandboxed script, scheduler, journal), and the same model
calls through a plain `asyncio.Semaphore` + `gather` loop measured in the
same process. Prints wall times as ratios against the plain loop and against
the ideal ceil(N/C) * L. Usage: python bench/overhead.py [N] [C] [L]
"""

from __future__ import annotations

import asyncio
import math
import resource
import sys
import tempfile
import time
from pathlib import Path

from _report import finish, publish

from fanflow import FunctionModel, Limits, Message, ModelRequest, RunOptions, run_script
from fanflow._journal import Journal


def waiting_model(latency: float) -> FunctionModel:
    async def answer(req: ModelRequest) -> str:
        await asyncio.sleep(latency)
        return '{"ok": true}'

    return FunctionModel(answer, name="bench-wait")


async def plain_asyncio(n: int, c: int, latency: float) -> float:
    model = waiting_model(latency)
    slots = asyncio.Semaphore(c)

    async def one(i: int) -> None:
        async with slots:
            await model.request(
                ModelRequest(
                    system="s", messages=[Message("user", f"unit {i}")], tools=[], max_tokens=100
                )
            )

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return time.perf_counter() - start


async def fanflow_run(n: int, c: int, latency: float, home: Path) -> tuple[float, dict]:
    script = f"r = await gather([spawn('general', f'unit {{i}}', tools=[]) for i in range({n})])"
    options = RunOptions(
        model="bench-wait",
        concurrency=c,
        max_agents=max(n, 1000),
        limits=Limits(),
        workspace=str(home),
    )
    start = time.perf_counter()
    report = await run_script(
        script,
        options,
        journal=Journal(home / "bench.db"),
        models={"bench-wait": waiting_model(latency)},
    )
    return time.perf_counter() - start, report


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    c = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    latency = float(sys.argv[3]) if len(sys.argv) > 3 else 0.05
    ideal = math.ceil(n / c) * latency
    with tempfile.TemporaryDirectory() as tmp:
        cpu0 = time.process_time()
        plain = asyncio.run(plain_asyncio(n, c, latency))
        cpu1 = time.process_time()
        wall, report = asyncio.run(fanflow_run(n, c, latency, Path(tmp)))
        cpu2 = time.process_time()
    assert report["agents"]["succeeded"] == n, report["errors"][:3]
    figures = {
        "agents": n,
        "concurrency": c,
        "latency_s": latency,
        "ideal_s": round(ideal, 3),
        "plain_asyncio_s": round(plain, 3),
        "fanflow_s": round(wall, 3),
        "fanflow_over_plain": round(wall / plain, 3),
        "fanflow_over_ideal": round(wall / ideal, 3),
        "overhead_ms_per_agent": round((wall - plain) * 1000 / n, 3),
        "cpu_s_per_1000_agents_fanflow": round((cpu2 - cpu1) * 1000 / n, 3),
        "cpu_s_per_1000_agents_plain": round((cpu1 - cpu0) * 1000 / n, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    publish(figures, "overhead")


if __name__ == "__main__":
    main()
    finish()
