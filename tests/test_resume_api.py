"""The library's resume (`fanflow.resume`, i.e. `resume_run`) and the one options shape."""

from __future__ import annotations

import pytest
from helpers import REPO, Probe, run

from fanflow import ConfigError, FunctionModel, RunOptions, run_script
from fanflow._journal import Journal
from fanflow._resume import resume_run

SCRIPT = 'await gather([spawn("general", f"unit {i}") for i in range(4)])'


async def test_resume_run_finishes_a_partial_run_without_repaying():
    journal = Journal()
    first = await run(SCRIPT, model=Probe(fail_when="unit 2", reply={"n": 1}), journal=journal)
    assert first["status"] == "partial"
    again = Probe(reply={"n": 1})
    report = await resume_run(
        first["run_id"], models={"fake": FunctionModel(again, name="fake")}, journal=journal
    )
    assert report["status"] == "succeeded"
    assert report["result"] == [{"n": 1}] * 4
    assert again.prompts == ["unit 2"]  # the three that succeeded were replayed


async def test_resume_run_refuses_a_finished_run_and_says_why():
    journal = Journal()
    done = await run(SCRIPT, model=Probe(), journal=journal)
    with pytest.raises(ConfigError, match="ended succeeded; resume takes runs that are"):
        await resume_run(done["run_id"], journal=journal)


async def test_resume_run_takes_a_new_budget():
    journal = Journal()
    first = await run(SCRIPT, model=Probe(fail_when="unit 3"), journal=journal)
    await resume_run(
        first["run_id"],
        models={"fake": FunctionModel(Probe(), name="fake")},
        budget_tokens=5_000_000,
        journal=journal,
    )
    row = journal.get_run(first["run_id"])
    assert RunOptions.from_record(row).budget_tokens == 5_000_000


async def test_options_round_trip_through_the_journal_with_what_the_run_used():
    journal = Journal()
    asked = RunOptions(
        model="fake",
        agent_effort="low",
        workspace=str(REPO),
        args={"root": "src"},
        max_agents=50,
        budget_usd=2.5,
        permission_mode="read-only",
        script_path="audit.py",
        workflow_name="audit",
    )
    models = {"fake": FunctionModel(Probe(), name="fake")}
    report = await run_script(SCRIPT, asked, journal=journal, models=models)
    again = RunOptions.from_record(journal.get_run(report["run_id"]))
    assert again.concurrency == 16  # the default it ran with, not the None it was given
    for name in ("model", "agent_effort", "args", "max_agents", "budget_usd", "permission_mode"):
        assert getattr(again, name) == getattr(asked, name), name
    assert (again.script_path, again.workflow_name) == ("audit.py", "audit")
    assert str(again.workspace) == str(REPO)
