"""Fixtures of the real-model suite: one llama-server for the session, fanflow as a CLI.

These tests always run (`make test` builds the server first; CI runs them). A
build or start failure is a test failure with the reason, never a silent skip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ._server import MODEL_NAME, LlamaServer, Recorder, provision

FANFLOW = str(Path(sys.executable).parent / "fanflow")
MODEL = f"openai:{MODEL_NAME}"
CALL_S = 900.0  # a bound on a hung CLI call, never a timing assertion


def pytest_collection_modifyitems(config, items) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.real)
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def provisioned() -> tuple[Path, Path]:
    try:
        return provision()
    except Exception as exc:
        pytest.fail(f"the real-model suite cannot start: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def server(provisioned, tmp_path_factory) -> Iterator[LlamaServer]:
    binary, model = provisioned
    srv = LlamaServer(binary, model, tmp_path_factory.mktemp("llama") / "server.log")
    try:
        srv.start()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield srv
    srv.stop()


@pytest.fixture
def own_server(provisioned, tmp_path) -> Iterator[LlamaServer]:
    """A server of the test's own, for tests that kill or stop it."""
    binary, model = provisioned
    srv = LlamaServer(binary, model, tmp_path / "own-server.log")
    yield srv
    srv.stop()


@pytest.fixture
def recorder(server) -> Iterator[Recorder]:
    with Recorder(server.url) as rec:
        yield rec


@pytest.fixture
def workspace(tmp_path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws


class Fanflow:
    """The `fanflow` command against one base URL, with its own FANFLOW_HOME."""

    def __init__(self, home: Path, workspace: Path, base_url: str) -> None:
        self.home, self.workspace, self.base_url = home, workspace, base_url

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("OPENAI_", "ANTHROPIC_", "FANFLOW_"))
            and not k.upper().endswith("_PROXY")
        }
        env.update(
            FANFLOW_HOME=str(self.home),
            OPENAI_BASE_URL=self.base_url,
            OPENAI_API_KEY="sk-local-dummy",
            NO_PROXY="127.0.0.1,localhost",
        )
        return env

    def __call__(self, *args: str, timeout: float = CALL_S) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [FANFLOW, *args],
            env=self.env(),
            cwd=self.workspace,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    def run(self, script: str, *extra: str) -> tuple[subprocess.CompletedProcess[str], dict]:
        path = self.workspace.parent / "workflow.py"
        path.write_text(script)
        done = self(
            "run", str(path), "--model", MODEL, "--workspace", str(self.workspace),
            "--yes", "--json", *extra,
        )  # fmt: skip
        return done, report_of(done)

    def journal(self):
        from fanflow._journal import Journal

        return Journal(self.home / "fanflow.db")

    def wait_status(self, run_id: str, done: set[str], bound_s: float = CALL_S) -> dict:
        """Poll `fanflow show --json` until the run's status is in `done` (bounded)."""
        deadline = time.monotonic() + bound_s
        report: dict = {}
        while time.monotonic() < deadline:
            shown = self("show", run_id, "--json", timeout=120)
            if shown.returncode == 0:
                report = json.loads(shown.stdout)
                if report["status"] in done:
                    return report
            time.sleep(0.5)
        raise AssertionError(f"run {run_id} never reached {done}: last {report.get('status')}")


def report_of(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise AssertionError(
            f"no JSON report (exit {done.returncode}):\n"
            f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        )
    return json.loads(lines[-1])


@pytest.fixture
def fanflow(tmp_path, workspace, recorder) -> Fanflow:
    """fanflow through the recording proxy in front of the session's server."""
    return Fanflow(tmp_path / "home", workspace, recorder.base_url)
