"""fanflow against the plain asyncio recipe, on the loopback fake API.

Every figure is a ratio against a baseline measured in the same run:
  A      the recipe users write by hand: AsyncAnthropic + asyncio.Semaphore(16) +
         asyncio.gather, one call per unit (the SDK's default 2 retries), then
         one synthesis call;
  ideal  ceil(N / C) x latency.
The fake API runs in a process of its own, as a real API would: its CPU is
not the client's. Each side of scenario (a) runs in its own subprocess too,
so CPU time (its own plus its sandbox worker's) and peak RSS are its own.

    python bench/suite.py            # a (100, 1000), b, c, d, e, f, g
    python bench/suite.py --full     # also a at N = 10,000 (several minutes)
    python bench/suite.py c e        # only these scenarios
    python bench/suite.py h i        # issue 15's quota stop and closed port (bench/breaker.py)
"""

from __future__ import annotations

import asyncio
import gc
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _fake import Faults
from _report import finish, publish
from _served import KEY, served

from fanflow import RunOptions, run_script
from fanflow._agents import BUILTIN_AGENTS
from fanflow._journal import Journal
from fanflow._models._base import TOKEN_FIELDS

MODEL = "claude-sonnet-4-6"
LATENCY = 0.2
REPO = Path(__file__).resolve().parent.parent
GENERAL_PROMPT = BUILTIN_AGENTS["general"].system_prompt


async def baseline_a(url: str, n: int, c: int = 16) -> dict:
    import anthropic

    client = anthropic.AsyncAnthropic(api_key=KEY, base_url=url)  # SDK default retries
    slots = asyncio.Semaphore(c)
    # the same request fanflow's `general` agent sends, so both sides move the same bytes
    system = [{"type": "text", "text": GENERAL_PROMPT, "cache_control": {"type": "ephemeral"}}]

    async def one(i: int) -> str | None:
        async with slots:
            try:
                reply = await client.messages.create(
                    model=MODEL,
                    max_tokens=8000,
                    system=system,
                    messages=[{"role": "user", "content": [{"type": "text", "text": f"unit {i}"}]}],
                    extra_body={"output_config": {"effort": "high"}},
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


async def fanflow_fan_out(url: str, n: int, c: int = 16) -> dict:
    import anthropic  # noqa: F401 - imported before the clock starts, as baseline A does

    gc.freeze()  # what the fanflow command does for its process once the SDK is loaded
    os.environ.update(ANTHROPIC_API_KEY=KEY, ANTHROPIC_BASE_URL=url)
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
    }


def run_side(side: str, url: str, n: int):
    """The awaitable of one side's fan-out: baseline A, or fanflow."""
    return baseline_a(url, n) if side == "A" else fanflow_fan_out(url, n)


def _children_cpu_s() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the sandbox worker, once reaped
    return children.ru_utime + children.ru_stime


async def one_side(side: str, url: str, n: int) -> dict:
    own, children = time.process_time(), _children_cpu_s()
    result = await run_side(side, url, n)
    result["sandbox_cpu_s"] = _children_cpu_s() - children
    result["cpu_s"] = time.process_time() - own + result["sandbox_cpu_s"]
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def scenario_a(n: int, repeats: int) -> dict:
    """Each side `repeats` times, alternating; the median of each figure."""
    runs: dict[str, list[dict]] = {"A": [], "fanflow": []}
    for _ in range(repeats):
        for side in runs:
            with served(Faults(latency=LATENCY)) as server:
                out = subprocess.run(
                    [sys.executable, __file__, "--one", side, server.url, str(n)],
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=REPO,
                )
            runs[side].append(json.loads(out.stdout.strip().splitlines()[-1]))
    a, f = ({k: statistics.median(r[k] for r in rs) for k in rs[0]} for rs in runs.values())
    ideal = math.ceil(n / 16) * LATENCY + LATENCY
    return {
        f"a{n}_wall_over_A": round(f["wall_s"] / a["wall_s"], 3),
        f"a{n}_wall_over_ideal": round(f["wall_s"] / ideal, 3),
        f"a{n}_cpu_s_per_1000_fanflow": round(f["cpu_s"] * 1000 / n, 3),
        f"a{n}_cpu_over_A": round(f["cpu_s"] / a["cpu_s"], 3),
        f"a{n}_peak_rss_over_A": round(f["peak_rss_mb"] / a["peak_rss_mb"], 3),
        f"a{n}_fanflow_wall_s": round(f["wall_s"], 2),
        f"a{n}_A_wall_s": round(a["wall_s"], 2),
        f"a{n}_sandbox_cpu_share": round(f["sandbox_cpu_s"] / f["cpu_s"], 3),
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
    import anthropic  # noqa: F401 - not inside the first run's clock only

    script = (REPO / "examples" / "race_audit" / "audit.py").read_text()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        forty_two_file_tree(Path(tmp))
        with served(Faults(latency=LATENCY)) as server:
            os.environ.update(ANTHROPIC_API_KEY=KEY, ANTHROPIC_BASE_URL=server.url)
            for label, c in (("parallel", 16), ("parallel_32", 32), ("serial", 1)):
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
        "b_speedup_over_serial_at_concurrency_32": round(
            results["serial"] / results["parallel_32"], 2
        ),
        "b_parallel_s": round(results["parallel"], 2),
        "b_serial_s": round(results["serial"], 2),
    }


def limited(faults: Faults, n: int, bound: float, prefix: str) -> dict:
    """Both sides against an API that refuses past a limit: wall / bound, 429s, failures."""
    out = {}
    for side in ("A", "fanflow"):
        with served(faults) as server:
            result = asyncio.run(run_side(side, server.url, n))
        refused = server.stats["by_status"].get("429", 0)
        out[f"{prefix}_{side}_wall_over_bound"] = round(result["wall_s"] / bound, 3)
        out[f"{prefix}_{side}_429s"] = refused
        out[f"{prefix}_{side}_requests"] = server.stats["requests"]
        out[f"{prefix}_{side}_429_share"] = round(refused / server.stats["requests"], 3)
        out[f"{prefix}_{side}_wall_s"] = round(result["wall_s"], 2)
        out[f"{prefix}_{side}_failed_units"] = n - result["completed"]
    return out


def scenario_c(n: int = 500) -> dict:
    """A request-rate limit (token bucket: 8-request bursts, refilled so ~8 calls fit in
    flight), announced in the rate-limit headers as the real APIs do."""
    burst, rate = 8, 8 / LATENCY
    faults = Faults(latency=LATENCY, rpm=round(rate * 60), burst=burst, retry_after=0)
    bound = (n - burst) / rate + 2 * LATENCY  # the last unit's call, then the synthesis
    return {"c_units": n, **limited(faults, n, bound, "c")}


def scenario_c_in_flight(n: int = 200) -> dict:
    """A limit no header announces: any call past 8 in flight is refused (429, retry-after)."""
    faults = Faults(latency=LATENCY, max_in_flight=8, retry_after=0.2)
    bound = math.ceil(n / 8) * LATENCY + LATENCY
    return limited(faults, n, bound, "c_in_flight")


async def scenario_d(n: int = 200) -> dict:
    out = {}
    for side in ("A", "fanflow"):
        faults = Faults(
            latency=0.02, p_529=0.05, p_500=0.05, p_drop=0.02, seed=11, retry_after=0.05
        )
        with served(faults) as server:
            result = await run_side(side, server.url, n)
        out[f"d_{side}_completed_share"] = round(result["completed"] / n, 3)
    return out


def _cacheable_auditor(root: Path) -> None:
    """The built-in auditor with its rules spelled out to ~1.2k tokens: a prefix the
    providers cache (1,024 tokens or more; below that nothing is cached or staggered)."""
    auditor = BUILTIN_AGENTS["auditor"]
    rules = "Name the shared state, the two paths that race on it, and the line. " * 60
    agents = root / ".fanflow" / "agents"
    agents.mkdir(parents=True, exist_ok=True)
    tools = ", ".join(auditor.tools)
    text = f"---\nname: auditor\ntools: [{tools}]\n---\n{auditor.system_prompt}\n\n{rules}\n"
    (agents / "auditor.md").write_text(text)


async def scenario_e(n: int = 100) -> dict:
    """Share of the cacheable prefix (system prompt + tools) read from cache, agents 2..N."""
    os.environ.update(ANTHROPIC_API_KEY=KEY)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "notes.md").write_text("x")
        with served(Faults(latency=0.01)) as server:
            os.environ["ANTHROPIC_BASE_URL"] = server.url
            journal = Journal(Path(tmp) / "e.db")
            _cacheable_auditor(Path(tmp))
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


F_AGENTS, F_BUDGET, F_PROMPT_CHARS = 60, 200_000, 40_000


async def scenario_f() -> dict:
    """Billed / budget: 60 agents of ~10k tokens each, concurrency 16, a 200k budget."""
    os.environ.update(ANTHROPIC_API_KEY=KEY)
    filler = ("lorem ipsum dolor sit amet " * (F_PROMPT_CHARS // 27 + 1))[:F_PROMPT_CHARS]
    script = (
        f"filler = {filler!r}\n"
        f"await gather([spawn('general', f'unit {{i}}: ' + filler, tools=[], max_tokens=1000)"
        f" for i in range({F_AGENTS})])"
    )
    with tempfile.TemporaryDirectory() as tmp, served(Faults(latency=LATENCY)) as server:
        os.environ["ANTHROPIC_BASE_URL"] = server.url
        options = RunOptions(
            model=f"anthropic:{MODEL}", concurrency=16, workspace=tmp, budget_tokens=F_BUDGET
        )
        report = await run_script(script, options, journal=Journal(Path(tmp) / "f.db"))
    billed = sum(report["usage"][k] for k in TOKEN_FIELDS)
    return {
        "f_peak_in_flight": server.stats["peak_in_flight"],
        "f_status": report["status"],
        "f_agents_succeeded": report["agents"]["succeeded"],
        "f_billed_tokens": billed,
        "f_billed_over_budget": round(billed / F_BUDGET, 3),
    }


G_AGENTS, G_PREFIX_CHARS = 100, 14_000
G_LATENCY = 1.0  # a time to first token long enough to stand out of the CPU noise


def _long_agent(root: Path) -> None:
    """An agent whose system prompt is a >= 3k-token prefix every agent of the wave shares."""
    rule = "Check every claim against the code before you report it; cite file and line. "
    body = (rule * (G_PREFIX_CHARS // len(rule) + 1))[:G_PREFIX_CHARS]
    agents = root / ".fanflow" / "agents"
    agents.mkdir(parents=True)
    (agents / "checker.md").write_text(f"---\nname: checker\ntools: []\n---\n{body}\n")


async def _wave(url: str, tmp: str, stagger_ms: int, n: int = G_AGENTS) -> tuple[float, list[dict]]:
    os.environ.update(ANTHROPIC_API_KEY=KEY, ANTHROPIC_BASE_URL=url)
    script = f"await gather([spawn('checker', f'unit {{i}}') for i in range({n})])"
    options = RunOptions(
        model=f"anthropic:{MODEL}", concurrency=16, workspace=tmp, stagger_ms=stagger_ms
    )
    journal = Journal(Path(tmp) / f"g{stagger_ms}.db")
    start = time.perf_counter()
    report = await run_script(script, options, journal=journal)
    wall = time.perf_counter() - start
    assert report["status"] == "succeeded", report["errors"][:2]
    return wall, journal.usage_rows(report["run_id"])


async def scenario_g(repeats: int = 3) -> dict:
    """Cache writes in one 100-agent wave sharing a >= 3k-token prefix, stagger on and off.

    Each wave gets a fresh fake server (a cold cache); the server makes an entry
    readable only once the response that writes it has begun, as the real APIs do.
    The sides alternate, after an untimed warm-up; the median wall of each.
    """
    import anthropic  # noqa: F401 - imported before either side's clock starts

    sides = {"no_stagger": 0, "stagger": 5000}
    walls: dict[str, list[float]] = {label: [] for label in sides}
    writes: dict[str, list[int]] = {label: [] for label in sides}
    prefix = 0
    with tempfile.TemporaryDirectory() as tmp, served(Faults(latency=LATENCY)) as server:
        _long_agent(Path(tmp))
        await _wave(server.url, tmp, 5000, n=16)  # warm-up: first-run costs off the clock
    for _ in range(repeats):
        for label, stagger in sides.items():
            with (
                tempfile.TemporaryDirectory() as tmp,
                served(Faults(latency=G_LATENCY)) as server,
            ):
                _long_agent(Path(tmp))
                wall, rows = await _wave(server.url, tmp, stagger)
            walls[label].append(wall)
            writes[label].append(sum(1 for r in rows if r["cache_creation_input_tokens"] > 0))
            prefix = max(prefix, *(r["cache_creation_input_tokens"] for r in rows))
    out: dict = {"g_prefix_tokens": prefix}
    wall = {label: statistics.median(w) for label, w in walls.items()}
    for label in sides:
        out[f"g_{label}_cache_writes"] = max(writes[label])
        out[f"g_{label}_wall_s"] = round(wall[label], 2)
    out["g_stagger_wall_over_no_stagger"] = round(wall["stagger"] / wall["no_stagger"], 3)
    # the fake's time to first token is its latency: the stagger should cost about one
    out["g_stagger_cost_in_ttft"] = round((wall["stagger"] - wall["no_stagger"]) / G_LATENCY, 2)
    out["g_ttft_s"] = G_LATENCY
    return out


TARGETS = [
    # (figure, comparison, bound, what the issue asks)
    ("a1000_wall_over_A", "<=", 1.03, "(a) N=1,000 wall <= 1.03 x A"),
    ("a1000_wall_over_ideal", "<=", 1.05, "(a) N=1,000 wall <= 1.05 x ideal"),
    ("a1000_cpu_over_A", "<=", 1.5, "(a) N=1,000 CPU <= 1.5 x A"),
    ("a10000_peak_rss_over_A", "<=", 2.0, "(a) N=10,000 peak RSS <= 2 x A"),
    ("b_speedup_over_serial", ">=", 12.0, "(b) race audit >= 12x serial"),
    ("c_fanflow_failed_units", "<=", 0, "(c) no failed units"),
    ("c_fanflow_429_share", "<=", 0.02, "(c) 429s <= 2% of requests"),
    ("c_fanflow_wall_over_bound", "<=", 1.1, "(c) wall <= 1.1 x the limit's bound"),
    ("d_fanflow_completed_share", ">=", 1.0, "(d) 100% of units complete"),
    ("e_prefix_read_from_cache_agents_2_to_n", ">=", 0.9, "(e) >= 90% of prefix from cache"),
    *(
        (f"h_{case}_requests_after_first_refusal", "<=", 16, f"(h) {case} <= 16 after")
        for case in ("anthropic_credit", "anthropic_spend_limit_429", "openai_insufficient_quota")
    ),
    ("i_closed_port_seconds_to_stop", "<=", 10, "(i) closed port stops in <= 10 s"),
    ("f_billed_over_budget", "<=", 1.0, "(f) billed <= budget at concurrency 16"),
    ("g_stagger_cache_writes", "<=", 1, "(g) 1 cache write per 100-agent wave"),
]


def print_targets(figures: dict) -> None:
    """Where each figure measured in this run stands against the issue's target."""
    print("\ntargets:")
    for key, op, bound, what in TARGETS:
        if key in figures:
            value = figures[key]
            met = value <= bound if op == "<=" else value >= bound
            print(f"  {'met    ' if met else 'NOT met'}  {what:<40} {value}")


def main() -> None:
    if sys.argv[1:2] == ["--one"]:
        print(json.dumps(asyncio.run(one_side(sys.argv[2], sys.argv[3], int(sys.argv[4])))))
        return
    chosen = {a for a in sys.argv[1:] if not a.startswith("-")} or set("abcdefghi")
    figures: dict = {"latency_s": LATENCY, "concurrency": 16}
    if "a" in chosen:
        for n, repeats in ((100, 3), (1000, 3), *(((10_000, 1),) if "--full" in sys.argv else ())):
            figures.update(scenario_a(n, repeats))
    if "b" in chosen:
        figures.update(asyncio.run(scenario_b()))
    if "c" in chosen:
        figures.update(scenario_c())
        figures.update(scenario_c_in_flight())
    if "d" in chosen:
        figures.update(asyncio.run(scenario_d()))
    if "e" in chosen:
        figures.update(asyncio.run(scenario_e()))
    if "f" in chosen:
        figures.update(asyncio.run(scenario_f()))
    if "g" in chosen:
        figures.update(asyncio.run(scenario_g()))
    if chosen & {"h", "i"}:  # issue 15's account stops live in bench/breaker.py
        import breaker

        if "h" in chosen:
            figures.update(asyncio.run(breaker.scenario_h()))
        if "i" in chosen:
            figures.update(asyncio.run(breaker.scenario_i()))
    publish(figures, "suite" if chosen == set("abcdefghi") else "suite-" + "".join(sorted(chosen)))
    print_targets(figures)


if __name__ == "__main__":
    main()
    finish()
