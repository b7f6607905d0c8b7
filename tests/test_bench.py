"""The benches still run (they are run on demand, so nothing else would notice them rot).

No timing is asserted here: figures are ratios measured by `make bench`.
"""

from __future__ import annotations

import json
import subprocess
import sys

from helpers import REPO


def test_suite_runs_a_scenario_against_the_fake_api_in_its_own_process():
    proc = subprocess.run(
        [sys.executable, "bench/suite.py", "e"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "e_prefix_read_from_cache_agents_2_to_n" in proc.stdout
    assert "met      (e) >= 90% of prefix from cache" in proc.stdout
    figures = json.loads((REPO / "bench" / "results" / "suite-e.json").read_text())
    assert figures["e_prefix_read_from_cache_agents_2_to_n"] >= 0.9
