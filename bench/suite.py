"""fanflow against the plain asyncio recipe, on the loopback fake API.

Every figure is a ratio against a baseline measured in the same run:
  A      the recipe users write by hand: AsyncAnthropic + asyncio.Semaphore(16) +
         asyncio.gather, one call per unit (the SDK's default 2 retries), then
         one synthesis call;
  ideal  ceil(N / C) x latency.
Each side of scenario (a) runs in its own subprocess (its own fake server),
so CPU time and peak RSS are its own.

    python bench/suite.py            # a (100, 1000), b, c, d, e
    python bench/suite.py --full     # also a at N = 10,000 (several minutes)
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import finish, publish

from fanflow import Journal, RunOptions, run_script
from fanflow._fakeapi import FakeAPI, Faults

KEY = "bench-key-0123456789abcdef"
MODEL = "claude-sonnet-4-6"
LATENCY = 0.2
REPO = Path(__file__).resolve().parent.parent


async def baseline_a(api: FakeAPI, n: int, c: int = 16) -> dict:
    import anthropic

    client = anthropic.AsyncAnthropic(api_key=KEY, base_url=api.url)  # SDK default retries
    slots = asyncio.Semaphore(c)

    async def one(i: int) -> str | None:
        async with slots:
            try:
                reply = await client.messages.create(
                    model=MODEL,
                    max_tokens=1000,
                    system="You are a focused subagent.",
                    messages=[{"role": "user", "content": f"unit {i}"}],
                )
            except anthropic.APIError:
                return None
            return reply.content[0].text

    start = time.perf_counter()
    answers = await asyncio.gather(*(one(i) for i in range(n)))
    await client.messages.create(
        model=MODEL,
        max_tokens=1000,
        messages=[
            {"role": "user", "content": "Synthesize:\n" + json.dumps([a for a in answers if a])}
        ],
    )
    wall = time.perf_counter() - start
    await client.close()
    return {"wall_s": wall, "completed": sum(a is not None for a in answers)}


async def fanflow_fan_out(api: FakeAPI, n: int, c: int = 16) -> dict:
    os.environ.update(ANTHROPIC_API_KEY=KEY, ANTHROPIC_BASE_URL=api.url)
    script = (
        f"r = await gather([spawn('general', f'unit {{i}}', tools=[]) for i in range({n})])"
        "\nawait synthesize([x for x in r if x])"
    )
    with tempfile.TemporaryDirectory() as tmp:
        options = RunOptions(
            model=f"anthropic:{MODEL}", concurrency=c, max_agents=max(n + 10, 1000), workspace=tmp
        )
        start = time.perf_counter()
        report = await run_script(script, options, journal=Journal(Path(tmp) / "b.db"))
        wall = time.perf_counter() - start
    return {
        "wall_s": wall,
        "completed": report["agents"]["succeeded"] - 1,
        "usage": report["usage"],
    }


async def one_side(side: str, n: int) -> dict:
    async with FakeAPI(api_key=KEY, faults=Faults(latency=LATENCY)) as api:
        cpu = time.process_time()
        result = await (baseline_a(api, n) if side == "A" else fanflow_fan_out(api, n))
        result["cpu_s"] = time.process_time() - cpu
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def scenario_a(n: int) -> dict:
    sides = {}
    for side in ("A", "fanflow"):
        out = subprocess.run(
            [sys.executable, __file__, "--one", side, str(n)],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        )
        sides[side] = json.loads(out.stdout.strip().splitlines()[-1])
    a, f = sides["A"], sides["fanflow"]
    ideal = math.ceil(n / 16) * LATENCY + LATENCY
    return {
        f"a{n}_wall_over_A": round(f["wall_s"] / a["wall_s"], 3),
        f"a{n}_wall_over_ideal": round(f["wall_s"] / ideal, 3),
        f"a{n}_cpu_s_per_1000_fanflow": round(f["cpu_s"] * 1000 / n, 3),
        f"a{n}_cpu_over_A": round(f["cpu_s"] / a["cpu_s"], 3),
        f"a{n}_peak_rss_over_A": round(f["peak_rss_mb"] / a["peak_rss_mb"], 3),
        f"a{n}_fanflow_wall_s": round(f["wall_s"], 2),
        f"a{n}_A_wall_s": round(a["wall_s"], 2),
    }


def forty_two_file_tree(root: Path) -> None:
    sample = REPO / "examples" / "race_audit" / "sample" / "src"
    files = sorted(sample.rglob("*.ts"))
    for copy in range(3):
        for f in files:
            target = root / "src" / f"copy{copy}" / f.relative_to(sample)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(f, target)
    for extra in sorted((root / "src").rglob("*.ts"))[42:]:
        extra.unlink()


async def scenario_b() -> dict:
    script = (REPO / "examples" / "race_audit" / "audit.py").read_text()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        forty_two_file_tree(Path(tmp))
        async with FakeAPI(api_key=KEY, faults=Faults(latency=LATENCY)) as api:
            os.environ.update(ANTHROPIC_API_KEY=KEY, ANTHROPIC_BASE_URL=api.url)
            for label, c in (("parallel", 16), ("serial", 1)):
                options = RunOptions(
                    model=f"anthropic:{MODEL}", concurrency=c, workspace=tmp, args={"root": "."}
                )
                start = time.perf_counter()
                report = await run_script(script, options, journal=Journal(Path(tmp) / f"{c}.db"))
                results[label] = time.perf_counter() - start
                assert report["status"] == "succeeded", report["errors"][:2]
    return {
        "b_files": 42,
        "b_agents": report["agents"]["spawned"],
        "b_speedup_over_serial": round(results["serial"] / results["parallel"], 2),
        "b_parallel_s": round(results["parallel"], 2),
        "b_serial_s": round(results["serial"], 2),
    }


async def scenario_c(n: int = 200) -> dict:
    allowed = 8  # the API refuses (429, retry-after) any call past 8 in flight
    bound = math.ceil(n / allowed) * LATENCY + LATENCY
    out = {}
    for side in ("A", "fanflow"):
        async with FakeAPI(
            api_key=KEY, faults=Faults(latency=LATENCY, max_in_flight=allowed, retry_after=0.2)
        ) as api:
            run = baseline_a(api, n) if side == "A" else fanflow_fan_out(api, n)
            result = await run
            requests = len(api.requests)
            refused = api.count(status=429)
        out[f"c_{side}_wall_over_bound"] = round(result["wall_s"] / bound, 3)
        out[f"c_{side}_429_share"] = round(refused / requests, 3)
        out[f"c_{side}_failed_units"] = n - result["completed"]
    return out


async def scenario_d(n: int = 200) -> dict:
    out = {}
    for side in ("A", "fanflow"):
        faults = Faults(
            latency=0.02, p_529=0.05, p_500=0.05, p_drop=0.02, seed=11, retry_after=0.05
        )
        async with FakeAPI(api_key=KEY, faults=faults) as api:
            result = await (baseline_a(api, n) if side == "A" else fanflow_fan_out(api, n))
        out[f"d_{side}_completed_share"] = round(result["completed"] / n, 3)
    return out


async def scenario_e(n: int = 100) -> dict:
    """Share of the cacheable prefix (system prompt + tools) read from cache, agents 2..N."""
    os.environ.update(ANTHROPIC_API_KEY=KEY)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "notes.md").write_text("x")
        async with FakeAPI(api_key=KEY, faults=Faults(latency=0.01)) as api:
            os.environ["ANTHROPIC_BASE_URL"] = api.url
            journal = Journal(Path(tmp) / "e.db")
            script = f"await gather([spawn('auditor', f'unit {{i}}') for i in range({n})])"
            report = await run_script(
                script, RunOptions(model=f"anthropic:{MODEL}", workspace=tmp), journal=journal
            )
        rows = journal.usage_rows(report["run_id"])
    first, rest = rows[0], rows[1:]
    prefix = first["cache_creation_input_tokens"]
    read = sum(r["cache_read_input_tokens"] for r in rest)
    return {
        "e_cacheable_prefix_tokens": prefix,
        "e_prefix_read_from_cache_agents_2_to_n": round(read / (prefix * len(rest)), 3),
    }


def main() -> None:
    if sys.argv[1:2] == ["--one"]:
        print(json.dumps(asyncio.run(one_side(sys.argv[2], int(sys.argv[3])))))
        return
    figures: dict = {"latency_s": LATENCY, "concurrency": 16}
    for n in (100, 1000, *((10_000,) if "--full" in sys.argv else ())):
        figures.update(scenario_a(n))
    figures.update(asyncio.run(scenario_b()))
    figures.update(asyncio.run(scenario_c()))
    figures.update(asyncio.run(scenario_d()))
    figures.update(asyncio.run(scenario_e()))
    publish(figures, "suite")


if __name__ == "__main__":
    main()
    finish()
