"""Issue 14, classes 8 and 14: secrets through side doors, values JSON cannot hold.

Every field that reaches the journal is redacted at one chokepoint
(`fanflow._journal._encode.sql_param`), JSON is redacted value by value so it
stays valid, NaN and Infinity are stored as null, and the journal's files
(database, WAL, SHM) and run logs are 0600.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import journal_run, run

from fanflow._journal import Journal
from fanflow._journal._encode import safe_value, stored_json
from fanflow._report import build_report

# a secret whose JSON-escaped form differs from itself: text redaction of JSON missed it
TRICKY = 'r2-"quote\\back-9f3e77'
NUMBER = "73019482"  # a numeric-looking secret (BUILD_NUMBER_TOKEN=...)
SECRETS = {"ROUND2_TOKEN": TRICKY, "BUILD_NUMBER_TOKEN": NUMBER}


def halves(value: str) -> str:
    cut = len(value) // 2
    return f"({value[:cut]!r} + {value[cut:]!r})"


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


def _no_nan(name: str) -> Any:
    raise ValueError(f"non-JSON constant {name} in the journal")


def strict(text: str) -> Any:
    return json.loads(text, parse_constant=_no_nan)


def home() -> Path:
    return Path(os.environ["FANFLOW_HOME"])


def files_holding(value: str) -> list[str]:
    return sorted(
        p.name for p in home().rglob("*") if p.is_file() and value.encode() in p.read_bytes()
    )


SCRIPT = f"""
T = {halves(TRICKY)}
N = int({halves(NUMBER)})
phase("audit " + T)
log("log says " + T)
print("print says", T)
r = await spawn("general", "look at " + T, label="label " + T)
try:
    await spawn("general", "fail " + T)
except Exception:
    pass
return {{"n": N, "f": N + 0.5 - 0.5, "big": N * 10 + 1, "s": "x" + T, T: "key", "r": r,
        "nested": [[N, {{"deep": N}}]], "ok": 12345678}}
"""


def reply(req: Any) -> str:
    prompt = req.messages[-1].text
    if "fail" in prompt:
        raise RuntimeError(f"provider said no to {prompt}")
    return json.dumps({"echo": prompt, "num": int(NUMBER)})


async def test_every_field_is_redacted_and_the_json_stays_valid(secrets: None, tmp_path: Path):
    journal = Journal()
    report = await run(SCRIPT, model=reply, journal=journal, workspace=str(tmp_path))
    journal.close()
    text = json.dumps(report, allow_nan=False)
    assert TRICKY not in text and NUMBER not in text
    result = report["result"]
    assert result["n"] == "[redacted]" and result["f"] == "[redacted]"
    assert result["big"] == "[redacted]"  # its digits hold the secret
    assert result["ok"] == 12345678  # a number that is not a secret stays a number
    assert result["s"] == "x[redacted]" and result["[redacted]"] == "key"
    assert result["nested"] == [["[redacted]", {"deep": "[redacted]"}]]
    assert result["r"]["num"] == "[redacted]"
    assert report["phases"][0]["name"] == "audit [redacted]"
    assert files_holding(TRICKY) == [] and files_holding(NUMBER) == []


async def test_every_stored_json_column_parses_strictly(secrets: None, tmp_path: Path):
    journal = Journal()
    await run(SCRIPT, model=reply, journal=journal, workspace=str(tmp_path))
    tables = [r[0] for r in journal.db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    checked = 0
    for table in tables:
        cursor = journal.db.execute(f"SELECT * FROM {table}")
        names = [d[0] for d in cursor.description]
        for row in cursor:
            for name, cell in zip(names, row, strict=True):
                if name.endswith("_json") and cell is not None:
                    strict(cell)
                    checked += 1
    assert checked >= 5


def test_the_journal_writer_redacts_fields_no_caller_redacts(secrets: None):
    journal = Journal()
    journal_run(
        journal,
        "r1",
        script="return 1",
        script_path=f"/tmp/{NUMBER}/s.py",
        workflow_name=f"wf {TRICKY}",
        workspace="/tmp/ws",
        args={"a": TRICKY},
        settings={"model": f"m-{NUMBER}"},
    )
    journal.event("r1", "log", f"event {TRICKY}", phase=f"phase {NUMBER}")
    journal.add_phase("r1", 0, f"phase {NUMBER}")
    journal.record_tool_call("r1", 0, "read", "k", {"text": TRICKY, "n": int(NUMBER)})
    journal.set_file_state("r1", f"dir/{TRICKY}", "sha")
    journal.update_settings("r1", note=f"set {NUMBER}")
    journal.finish_run("r1", "failed", result=[int(NUMBER)], error=f"boom {TRICKY}")
    journal.commit()
    for table in ("runs", "events", "phases", "tool_calls", "file_state"):
        for row in journal.db.execute(f"SELECT * FROM {table}"):
            cells = " ".join(str(c) for c in row)
            assert TRICKY not in cells and NUMBER not in cells, (table, cells)
    assert journal.get_run("r1")["id"] == "r1"


def test_a_secret_inside_a_run_id_does_not_break_the_run(monkeypatch: pytest.MonkeyPatch):
    # run ids start with the date: a numeric secret equal to it must not rewrite the key
    today = time.strftime("%Y%m%d")
    monkeypatch.setenv("BUILD_NUMBER_TOKEN", today)
    journal = Journal()
    run_id = f"{today}-120000-abcd"
    journal_run(journal, run_id, script="return 1", workspace="/tmp/ws")
    journal.start_run(run_id)
    journal.event(run_id, "log", f"built {today}")
    journal.finish_run(run_id, "succeeded", result={"n": int(today)})
    report = build_report(journal, run_id)
    assert report["run_id"] == run_id and report["status"] == "succeeded"
    assert report["result"] == {"n": "[redacted]"}


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (float("nan"), None),
        (float("inf"), None),
        (float("-inf"), None),
        ({"a": [1.5, float("nan"), {"b": float("inf")}]}, {"a": [1.5, None, {"b": None}]}),
        ({float("nan"): 1}, {"NaN": 1}),
        ((1, 2.0), [1, 2.0]),
        ({1: "one", None: "none", 2.5: "x"}, {"1": "one", "null": "none", "2.5": "x"}),
    ],
)
def test_non_json_values_are_stored_as_valid_json(value: Any, stored: Any):
    assert strict(stored_json(value)) == stored


def test_cycles_and_depth_do_not_break_the_writer():
    loop: list[Any] = [1]
    loop.append(loop)
    assert strict(stored_json(loop)) == [1, "[cycle]"]
    deep: Any = 0
    for _ in range(5000):
        deep = [deep]
    assert "[nested too deep]" in stored_json(deep)


async def test_nan_results_give_valid_json_through_the_run(tmp_path: Path):
    script = 'return {"mean": float("nan"), "top": float("inf"), "xs": [float("-inf"), 1.0]}'
    report = await run(script, model=reply, workspace=str(tmp_path))
    assert report["result"] == {"mean": None, "top": None, "xs": [None, 1.0]}
    json.dumps(report, allow_nan=False)


def test_a_journal_an_older_fanflow_broke_is_still_shown(tmp_path: Path):
    journal = Journal()
    journal_run(journal, "old", script="return 1", workspace="/tmp/ws")
    journal.commit()
    # what 0.1 wrote: a text-redacted number (invalid JSON), and a bare NaN
    journal.db.execute("UPDATE runs SET result_json=?, status='succeeded'", ('{"n": [redacted]}',))
    assert build_report(journal, "old")["result"] == '{"n": [redacted]}'
    journal.db.execute("UPDATE runs SET result_json=?", ('{"m": NaN}',))
    report = build_report(journal, "old")
    assert report["result"] == {"m": None}
    json.dumps(report, allow_nan=False)


def _fanflow(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fanflow", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )


@pytest.mark.slow
async def test_cli_views_print_valid_json_and_no_secret(secrets: None, tmp_path: Path):
    journal = Journal()
    nan_script = SCRIPT.replace('"ok": 12345678', '"ok": 12345678, "nan": float("nan")')
    report = await run(nan_script, model=reply, journal=journal, workspace=str(tmp_path))
    journal.close()
    run_id = report["run_id"]
    shown = _fanflow("show", run_id, "--json")
    assert shown.returncode == 0, shown.stderr
    assert strict(shown.stdout)["result"]["nan"] is None
    outputs = [shown]
    for args in (("show", run_id), ("show", run_id, "--agents"), ("ls",), ("ls", "--json")):
        done = _fanflow(*args)
        assert done.returncode == 0, (args, done.stderr)
        outputs.append(done)
    for done in outputs:
        assert TRICKY not in done.stdout + done.stderr
        assert NUMBER not in done.stdout + done.stderr


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_journal_files_are_private_whatever_the_umask(tmp_path: Path):
    old = os.umask(0o022)
    try:
        path = tmp_path / "home" / "fanflow.db"
        journal = Journal(path)
        journal_run(journal, "r", script="x", workspace="/w")
        for suffix in ("", "-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            assert side.exists(), suffix
            assert _mode(side) == 0o600, (suffix, oct(_mode(side)))
        assert _mode(path.parent) == 0o700
    finally:
        os.umask(old)


def test_a_journal_left_readable_is_closed_up_on_open(tmp_path: Path):
    path = tmp_path / "fanflow.db"
    Journal(path).close()
    for suffix in ("", "-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        side.touch()
        side.chmod(0o644)
    Journal(path).close()
    assert _mode(path) == 0o600
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        assert not side.exists() or _mode(side) == 0o600


def test_a_background_run_log_is_private(tmp_path: Path):
    from fanflow._cli._worker import start_worker

    old = os.umask(0o022)
    try:
        log = start_worker("20990101-000000-beef")  # no such run: the worker exits at once
    finally:
        os.umask(old)
    assert _mode(log) == 0o600 and _mode(log.parent) == 0o700


def test_safe_value_leaves_text_without_secrets_alone(secrets: None):
    value = {"a": "plain", "b": [1, 2.5, None, True], "c": {"d": "e"}}
    assert safe_value(value) == value
