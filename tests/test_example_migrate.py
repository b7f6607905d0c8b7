"""The express_to_hono example on its scripted plugin: migrate 50 routes, keep what passes,
roll back the rest. The rewriter is examples/express_to_hono/scripted (`--model hono-scripted`)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO, run

from fanflow._journal import Journal

EXAMPLE = REPO / "examples" / "express_to_hono"
SCRIPT = EXAMPLE / "migrate.py"
SAMPLE = EXAMPLE / "sample"
PLANTED = "server/routes/webhooks.js"  # sends an object through res.send(variable)
SCRIPTED = "hono-scripted"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("git") is None, reason="needs node and git"
)


def git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def node_test(cwd: Path, *tests: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", "--test", *tests], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def spec_of(route: str) -> str:
    return f"__tests__/{Path(route).stem}.test.js"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A committed copy of the sample, so rollbacks have something to go back to."""
    ws = tmp_path / "sample"
    shutil.copytree(SAMPLE, ws)
    for args in (
        ("init", "-q"),
        ("config", "user.email", "tests@example.com"),
        ("config", "user.name", "fanflow tests"),
        ("add", "-A"),
        ("commit", "-q", "-m", "express sample"),
    ):
        assert git(ws, *args).returncode == 0
    return ws


def routes_in(ws: Path) -> list[str]:
    return sorted(p.relative_to(ws).as_posix() for p in (ws / "server" / "routes").glob("*.js"))


def test_sample_passes_before_migration():
    proc = node_test(SAMPLE)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert len(routes_in(SAMPLE)) == 50
    assert len(list((SAMPLE / "__tests__").glob("*.test.js"))) == 50


async def test_migration_keeps_passing_files_and_rolls_back_the_planted_one(workspace: Path):
    journal = Journal()
    report = await run(
        SCRIPT.read_text(),
        model_name=SCRIPTED,
        journal=journal,
        workspace=str(workspace),
        script_path=str(SCRIPT),
    )
    assert report["status"] == "succeeded", report["errors"]
    rows = report["result"]
    routes = routes_in(workspace)
    assert [r["file"] for r in rows] == routes  # one row per route file
    assert {p["name"]: p["agents"] for p in report["phases"]} == {"migrate": 50, "test": 0}
    migrators = journal.agents(report["run_id"])
    assert all(a["turns"] == 3 for a in migrators)  # read, write, answer

    by_file = {r["file"]: r for r in rows}
    planted = by_file.pop(PLANTED)
    assert planted["committed"] is False
    passed, total = map(int, planted["tests"].split("/"))
    assert 0 < passed < total  # it really ran, and really failed
    planted_files = [PLANTED, spec_of(PLANTED)]
    assert git(workspace, "diff", "--quiet", "--", *planted_files).returncode == 0
    for rel in planted_files:
        assert (workspace / rel).read_bytes() == (SAMPLE / rel).read_bytes()

    assert all(r["committed"] is True for r in by_file.values()), by_file
    for route, row in by_file.items():
        passed, total = row["tests"].split("/")
        assert passed == total and int(total) > 0, row
        text = (workspace / route).read_text()
        assert "require('../../lib/hono')" in text and "lib/express" not in text, route
    changed = git(workspace, "diff", "--name-only").stdout.split()
    assert sorted(changed) == sorted([*by_file, *map(spec_of, by_file)])

    proc = node_test(workspace, *map(spec_of, by_file))  # the kept tests pass under node
    assert proc.returncode == 0, proc.stdout[-3000:]
    counts = dict(re.findall(r"(?m)^# (tests|pass) (\d+)$", proc.stdout))
    assert counts["pass"] == counts["tests"] and int(counts["tests"]) >= 49


async def test_migrator_without_write_changes_nothing(workspace: Path):
    script = (
        'await spawn("migrator", prompt="Migrate server/routes/ping.js from Express to Hono '
        'and update its test __tests__/ping.test.js.", tools=["read"])'
    )
    report = await run(script, model_name=SCRIPTED, workspace=str(workspace))
    assert report["result"] == {
        "file": "server/routes/ping.js",
        "test": "__tests__/ping.test.js",
        "changed": False,
        "reason": "the write tool was not granted",
    }
    assert git(workspace, "status", "--porcelain").stdout == ""


async def test_without_git_the_run_stops_before_spending(tmp_path: Path):
    ws = tmp_path / "no-git"
    shutil.copytree(SAMPLE, ws)
    report = await run(
        SCRIPT.read_text(), model_name=SCRIPTED, workspace=str(ws), script_path=str(SCRIPT)
    )
    assert report["status"] == "failed"
    assert report["agents"]["spawned"] == 0
    assert "commit the route files to git first" in report["errors"][0]["error"]


def test_cli_run_prints_the_table(workspace: Path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "fanflow",
            "run",
            "examples/express_to_hono/migrate.py",
            "--model",
            SCRIPTED,
            "--workspace",
            str(workspace),
            "--yes",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    assert "committed" in proc.stdout
    assert "is scripted, not an LLM" in proc.stderr + proc.stdout
    assert "server/routes/webhooks.js" in proc.stdout
    assert git(workspace, "diff", "--quiet", "--", PLANTED).returncode == 0
