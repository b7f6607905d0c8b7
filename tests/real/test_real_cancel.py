"""`fanflow cancel` during a call the real server never answers (it is SIGSTOPped
mid-generation): the run ends cancelled while the server is still frozen, and once the
server runs again it drops the abandoned generation instead of finishing it (D7)."""

from __future__ import annotations

import signal
import subprocess
import time

from .conftest import CALL_S, FANFLOW, MODEL, Fanflow, report_of

SCRIPT = """
phase("long")
await spawn("general", "Count from 1 to 5000, one number per line, and do not stop.",
            tools=[], max_tokens=1500)
"""


def _wait(what: str, test, bound_s: float = CALL_S) -> None:
    deadline = time.monotonic() + bound_s
    while time.monotonic() < deadline:
        if test():
            return
        time.sleep(0.2)
    raise AssertionError(f"never happened: {what}")


def test_cancel_ends_a_run_stuck_on_a_hung_server(own_server, tmp_path, workspace):
    own_server.start()
    ff = Fanflow(tmp_path / "home", workspace, own_server.url + "/v1")
    script = tmp_path / "long.py"
    script.write_text(SCRIPT)
    argv = [FANFLOW, "run", str(script), "--model", MODEL, "--workspace", str(workspace),
            "--yes", "--json"]  # fmt: skip
    proc = subprocess.Popen(
        argv, env=ff.env(), cwd=workspace, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        _wait("the server generating for the run", lambda: own_server.busy_slots() >= 1)
        own_server.signal(signal.SIGSTOP)  # the call now hangs: no byte will come back
        journal = ff.journal()
        run_id = journal.list_runs()[0]["id"]
        journal.close()
        cancelled = ff("cancel", run_id, timeout=120)
        assert cancelled.returncode == 0, cancelled.stderr
        # A bound on a hang: the run ends with the server still frozen, so no answer
        # could have ended it.
        out, err = proc.communicate(timeout=120)
        assert own_server.proc.poll() is None  # still there, still stopped
    finally:
        own_server.signal(signal.SIGCONT)
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=60)
    report = report_of(subprocess.CompletedProcess(argv, proc.returncode, out, err))
    assert report["status"] == "cancelled"
    assert proc.returncode == 130

    # The server, running again, finds the client gone and frees the slot (it does not
    # generate the other ~1,500 tokens for nobody).
    _wait("the slot freed", lambda: own_server.busy_slots() == 0)
    _wait("the server cancelling the task", lambda: "cancel task" in own_server.log_text(), 60)
