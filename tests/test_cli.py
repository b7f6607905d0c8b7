"""The CLI through its real entry point, in subprocesses, as a user runs it."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import EXAMPLE, REPO

DESIGN_KEYS = [
    "run_id",
    "status",
    "model",
    "scripted",
    "result",
    "agents",
    "phases",
    "usage",
    "wall_s",
    "errors",
    "warning",  # issue 20 D6: null, or that most work agents failed
]
ORACLE = ("--model", "race-oracle")  # the race-audit example's scripted model plugin
TEST = ("--model", "test")  # the domain-free model, for runs that only check plumbing


def fanflow(*args: str, env: dict | None = None, cwd: Path = REPO, timeout: float = 120):
    return subprocess.run(
        [sys.executable, "-m", "fanflow", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def test_run_json_returns_the_design_object():
    proc = fanflow("run", "examples/race_audit/audit.py", *ORACLE, "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert list(report) == DESIGN_KEYS
    assert report["status"] == "succeeded"
    assert report["model"] == "race-oracle" and "planted" in report["scripted"]
    assert report["agents"] == {"spawned": 21, "succeeded": 21, "failed": 0, "retried": 0}
    assert [p["name"] for p in report["phases"]] == ["audit", "review", "report"]
    assert list(report["phases"][0]) == ["name", "agents", "input_tokens", "output_tokens"]
    assert list(report["usage"]) == [
        "input_tokens",
        "output_tokens",
        "cache_read_input_tokens",
        "cache_creation_input_tokens",
        "cost_usd",
    ]
    assert isinstance(report["wall_s"], float) and report["errors"] == []


def test_show_last_script_json_agents_and_ls():
    run = fanflow("run", str(EXAMPLE), *ORACLE, "--json")
    run_id = json.loads(run.stdout)["run_id"]
    script = fanflow("show", "last", "--script")
    assert script.returncode == 0
    assert script.stdout == EXAMPLE.read_text()
    shown = json.loads(fanflow("show", run_id, "--json").stdout)
    assert shown == json.loads(run.stdout)
    agents = fanflow("show", "last", "--agents")
    assert agents.stdout.count("succeeded") == 21
    listing = fanflow("ls")
    assert run_id[:15] in listing.stdout and "race-audit" in listing.stdout
    summary = fanflow("show", "last")
    assert "audit" in summary.stdout and "5 confirmed finding(s)" in summary.stdout


def test_plain_progress_and_result_when_not_a_terminal():
    proc = fanflow("run", str(EXAMPLE), *ORACLE)
    assert proc.returncode == 0
    assert proc.stdout.startswith("# Report: 5 confirmed finding(s), 3 refuted")
    for phase in ("phase audit", "phase review", "phase report"):
        assert phase in proc.stderr
    assert "succeeded: 21 agents (21 ok, 0 failed)" in proc.stderr
    assert "note: model race-oracle is scripted, not an LLM" in proc.stderr


def test_script_error_exits_2_with_line_and_records_nothing(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("files = await tools.glob('*')\nr = await spawn('general', 42)\n")
    proc = fanflow("run", str(bad), *TEST, "--json")
    assert proc.returncode == 2
    assert "bad.py:2:" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert "no runs yet" in fanflow("ls").stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["run", "nope.py"], "no script at 'nope.py'"),
        (["run", "no-such-workflow"], "no script file or saved workflow named"),
        (["run", str(EXAMPLE), "--concurrency", "0"], "--concurrency must be at least 1"),
        (["run", str(EXAMPLE), "--max-agents", "-1"], "--max-agents must be at least 1"),
        (["run", str(EXAMPLE), "--model", "gpt-9"], "unknown model provider 'gpt-9'"),
        (["run", str(EXAMPLE), "--model", "anthropic:claude-opus-4-8"], "use --model test"),
        (["run", str(EXAMPLE), "--workspace", "/no/such/dir"], "does not exist"),
        (["run", str(EXAMPLE), "--arg", "novalue"], "must look like KEY=VALUE"),
        (["run", str(EXAMPLE), "--agent-effort", "huge"], "--agent-effort must be one of"),
        (["run", str(EXAMPLE), "--bogus"], "No such option"),
        (["run", str(EXAMPLE), "--concurrency", "abc"], "Invalid value for '--concurrency'"),
        (["show", "nope"], "is not a run id"),
        (["show", "last"], "no runs yet"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(args, needle):
    proc = fanflow(*args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr


def test_binary_and_directory_scripts_are_refused(tmp_path):
    binary = tmp_path / "x.py"
    binary.write_bytes(b"\x00\x01\x02")
    assert "binary file" in fanflow("run", str(binary)).stderr
    assert "is a directory" in fanflow("run", str(tmp_path) + "/").stderr


def test_failed_run_exits_1(tmp_path):
    script = tmp_path / "boom.py"
    script.write_text("x = {}\nx['missing']\n")
    proc = fanflow("run", str(script), *TEST, "--json")
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert report["status"] == "failed"
    assert "boom.py:2: KeyError" in report["errors"][-1]["error"]


def test_saved_workflow_by_name(tmp_path):
    folder = tmp_path / ".fanflow" / "workflows"
    folder.mkdir(parents=True)
    (folder / "hello.py").write_text("phase('greet')\nawait spawn('general', 'say hi')\n")
    proc = fanflow("run", "hello", "--workspace", str(tmp_path), *TEST, "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["phases"][0]["name"] == "greet"


def test_save_makes_a_run_a_workflow_run_by_name(tmp_path):
    script = tmp_path / "draft.py"
    script.write_text("phase('greet')\nawait spawn('general', 'say hi')\n")
    assert (
        fanflow("run", str(script), "--workspace", str(tmp_path), *TEST, "--json").returncode == 0
    )
    saved = fanflow("save", "last", "greet")
    assert saved.returncode == 0, saved.stderr
    assert "fanflow run greet" in saved.stderr
    path = tmp_path / ".fanflow" / "workflows" / "greet.py"
    assert path.read_text() == script.read_text()
    again = fanflow("run", "greet", "--workspace", str(tmp_path), *TEST, "--json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["phases"][0]["name"] == "greet"
    clash = fanflow("save", "last", "greet")
    assert clash.returncode == 2 and "pass --force" in clash.stderr
    assert fanflow("save", "last", "greet", "--force").returncode == 0
    mine = fanflow("save", "last", "mine", "--user")
    assert mine.returncode == 0, mine.stderr
    assert (Path(os.environ["FANFLOW_HOME"]) / "workflows" / "mine.py").is_file()
    bad = fanflow("save", "last", "../evil")
    assert bad.returncode == 2 and "cannot name a workflow" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    gone = tmp_path / "gone"
    gone.mkdir()
    assert fanflow("run", str(script), "--workspace", str(gone), *TEST, "--json").returncode == 0
    gone.rmdir()
    lost = fanflow("save", "last", "greet2")
    assert lost.returncode == 2 and "is gone; save it with --user" in lost.stderr
    assert not gone.exists()


def test_ctrl_c_cancels_the_run_and_exits_130(tmp_path):
    script = tmp_path / "slow.py"
    script.write_text("await gather([spawn('general', f'unit {i}') for i in range(64)])\n")
    home = tmp_path / "home"
    proc = subprocess.Popen(
        [sys.executable, "-m", "fanflow", "run", str(script), *ORACLE, "--json"],
        cwd=REPO,
        env={**os.environ, "FANFLOW_HOME": str(home), "RACE_ORACLE_LATENCY": "5"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    db = home / "fanflow.db"
    deadline = time.time() + 30
    while time.time() < deadline:
        if db.exists():
            try:
                with sqlite3.connect(db) as conn:
                    running = conn.execute(
                        "SELECT COUNT(*) FROM agents WHERE status='running'"
                    ).fetchone()[0]
            except sqlite3.OperationalError:  # the run is still creating the journal
                running = 0
            if running == 16:
                break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("the run never had 16 agents in flight")
    sent = time.time()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert time.time() - sent < 3
    assert proc.returncode == 130, err
    assert json.loads(out)["status"] == "cancelled"
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT status FROM runs").fetchone()[0] == "cancelled"
        statuses = {r[0] for r in conn.execute("SELECT DISTINCT status FROM agents")}
    assert statuses == {"cancelled"}
