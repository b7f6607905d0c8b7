"""Resume cost: re-executing a 1,000-agent run whose agents all but one finished.

Times `prepare_resume` (journal reads, workspace check) and the re-execution,
in which 999 spawns are answered from the journal and one is run again;
compares with the original run's wall time measured in the same process.
Usage: python bench/resume.py [N]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from _report import finish, publish

from fanflow import FunctionModel, RunOptions, run_script
from fanflow._journal import Journal
from fanflow._resume import prepare_resume
from fanflow._script import Sandbox


async def measure(n: int) -> dict:
    failing = {"on": True}

    async def model(req):
        if req.messages[0].text == f"unit {n - 1}" and failing["on"]:
            raise RuntimeError("provider down")
        return '{"ok": true}'

    models = {"fake": FunctionModel(model, name="fake")}
    script = f"await gather([spawn('general', f'unit {{i}}', tools=[]) for i in range({n})])"
    with tempfile.TemporaryDirectory() as tmp:
        journal = Journal(Path(tmp) / "r.db")
        options = RunOptions(model="fake", max_agents=max(n, 1000), workspace=tmp)
        start = time.perf_counter()
        first = await run_script(script, options, journal=journal, models=models)
        original = time.perf_counter() - start
        failing["on"] = False
        start = time.perf_counter()
        resumed = prepare_resume(journal, first["run_id"], models)
        prepared = time.perf_counter() - start
        async with Sandbox() as sandbox:
            report = await resumed.execute(sandbox)
        total = time.perf_counter() - start
    assert first["status"] == "partial" and report["status"] == "succeeded", report["errors"]
    return {
        "agents": n,
        "original_run_s": round(original, 3),
        "resume_prepare_s": round(prepared, 3),
        "resume_total_s": round(total, 3),
        "resume_over_original": round(total / original, 3),
        "replayed_agents": resumed.replay.reused_results,
    }


if __name__ == "__main__":
    publish(asyncio.run(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)), "resume")
    finish()
