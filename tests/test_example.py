"""The bundled race-audit example on its oracle plugin: fan-out, adversarial review, fan-in.

The oracle (examples/race_audit/oracle, `--model race-oracle`) is installed by
`make` as a model plugin; these tests reach it through the plugin registry.
"""

from __future__ import annotations

import re

import pytest
from helpers import EXAMPLE, REPO, run

from fanflow._journal import Journal

REAL = {"R1", "R2", "R3", "R4", "R5"}
FALSE_POSITIVES = {"FP1", "FP2", "FP3"}
ORACLE = "race-oracle"


async def test_race_audit_reports_planted_bugs_and_drops_false_positives():
    journal = Journal()
    report = await run(
        EXAMPLE.read_text(), model_name=ORACLE, journal=journal, script_path=str(EXAMPLE)
    )
    assert report["status"] == "succeeded"
    confirmed, rest = report["result"].split("## Refuted by reviewers")
    refuted, across = rest.split("## Found across files by reviewers")
    assert set(re.findall(r"\[(\w+\d)\]", confirmed)) == REAL
    assert set(re.findall(r"\[(\w+\d)\]", refuted)) == FALSE_POSITIVES
    # a time-of-check/time-of-use bug visible only with invoice.ts and void.ts read together
    assert re.findall(r"\[(\w+\d)\]", across) == ["X1"]
    assert "invoice.ts + " in across and "void.ts" in across
    phases = {p["name"]: p["agents"] for p in report["phases"]}
    assert phases == {"audit": 15, "review": 5, "report": 1}
    reviewers = [a for a in journal.agents(report["run_id"]) if a["agent_type"] == "reviewer"]
    assert sorted(a["label"] for a in reviewers) == ["FP1", "FP2", "FP3", "R4", "R5"]


async def test_auditors_read_files_through_the_tool_loop():
    journal = Journal()
    report = await run(EXAMPLE.read_text(), model_name=ORACLE, journal=journal)
    auditors = [a for a in journal.agents(report["run_id"]) if a["agent_type"] == "auditor"]
    assert all(a["turns"] == 2 for a in auditors)  # read tool call, then the answer
    reviewers = {
        a["label"]: a["turns"]
        for a in journal.agents(report["run_id"])
        if a["agent_type"] == "reviewer"
    }
    assert reviewers["FP1"] == 3  # it followed invoice.ts to void.ts before answering
    usage = report["usage"]
    assert usage["cache_read_input_tokens"] > 0  # shared prefix read from cache after the first
    assert usage["cost_usd"] == 0.0


async def test_example_root_arg_points_at_another_tree(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "clean.ts").write_text("export const x = 1;\n")
    report = await run(
        EXAMPLE.read_text(), model_name=ORACLE, workspace=str(tmp_path), args={"root": "."}
    )
    assert report["status"] == "succeeded"
    assert report["result"].startswith("# Report: 0 confirmed finding(s)")
    assert str(REPO) not in report["result"]


async def test_the_report_says_a_scripted_model_played_the_agents():
    report = await run(EXAMPLE.read_text(), model_name=ORACLE)
    assert report["model"] == ORACLE
    assert "planted" in report["scripted"] and "no LLM" in report["scripted"]


def test_the_oracle_latency_option_is_checked(monkeypatch):
    import race_oracle

    from fanflow import ConfigError

    assert race_oracle.factory("", {"latency": "0.25"}).latency == 0.25
    monkeypatch.setenv("RACE_ORACLE_LATENCY", "0.5")
    assert race_oracle.factory("", {}).latency == 0.5
    for bad in ("fast", "-1", "nan"):
        with pytest.raises(ConfigError, match=r"latency .* \[models.race-oracle\]"):
            race_oracle.factory("", {"latency": bad})
