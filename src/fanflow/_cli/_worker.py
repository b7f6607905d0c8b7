"""Background runs: a detached worker process that executes a journaled run.

`fanflow run --background` and `fanflow resume --background` check the script,
journal the run, and start `python -m fanflow _exec RUN` in a new session, with
no terminal and its output in `$FANFLOW_HOME/runs/RUN/log`, so the run
outlives the shell that started it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from .._journal import Journal, default_home
from .._run import Run, RunOptions
from .._script import Sandbox
from ._aio import freeze_heap, run_async


def log_path(run_id: str) -> Path:
    folder = default_home() / "runs" / run_id
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder / "log"


def start_worker(run_id: str, *, resume: bool = False) -> Path:
    log = log_path(run_id)
    argv = [sys.executable, "-m", "fanflow", "_exec", run_id, *(["--resume"] if resume else [])]
    # the log holds what the run prints (results, errors): private like the journal
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)
    with open(fd, "ab") as out:
        subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=os.environ.copy(),
            close_fds=True,
        )
    return log


def exec_command(
    run_id: Annotated[str, typer.Argument(metavar="RUN")],
    resume: Annotated[bool, typer.Option("--resume")] = False,
) -> None:
    """(internal) Execute a journaled run in this process; used by --background."""
    journal = Journal()
    row = journal.get_run(run_id)
    run = Run(
        row["script"],
        RunOptions.from_record(row),
        journal,
        run_id=row["id"],
        mode="resume" if resume else "prepared",
    )
    freeze_heap()
    report = run_async(_execute(run))
    print(f"run {run_id} ended: {report['status']}", flush=True)


async def _execute(run: Run) -> dict:
    async with Sandbox() as sandbox:
        return await run.execute(sandbox)
