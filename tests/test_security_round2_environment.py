"""Issue 14, class 16: a full disk and a newer journal each give one clear line.

The full disk is simulated at the journal's writer (its SQLite connection
raises what SQLite raises, `database or disk is full`, or the OS's ENOSPC)
inside a real `fanflow run` process; the run must end with one line naming
the journal and `fanflow resume RUN`, exit 1, and resume once space is back.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import journal_run

from fanflow._cli import invoke
from fanflow._journal import Journal
from fanflow._journal._schema import MIGRATIONS

SCHEMA_VERSION = len(MIGRATIONS)

SCRIPT = """
phase("work")
out = await gather([spawn("general", f"item {i}") for i in range(16)])
return len(out)
"""

DRIVER = textwrap.dedent(
    """
    import errno, sqlite3, sys
    from fanflow._cli import invoke
    from fanflow._journal import _store

    FAIL = sys.argv[1]
    real_open = _store.Journal._open

    class Full:
        # the journal's connection, failing every write once agents are being recorded
        def __init__(self, db):
            self._db, self._armed = db, False

        def __getattr__(self, name):
            return getattr(self._db, name)

        def execute(self, sql, *args):
            if sql.startswith("UPDATE agents SET status='running'"):
                self._armed = True
            if self._armed and not sql.startswith("SELECT"):
                if FAIL == "sqlite":
                    raise sqlite3.OperationalError("database or disk is full")
                raise OSError(errno.ENOSPC, "No space left on device")
            return self._db.execute(sql, *args)

    _store.Journal._open = lambda self: Full(real_open(self))
    sys.exit(invoke(sys.argv[2:]))
    """
)


def _fanflow(*args: str, driver: str | None = None) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-c", DRIVER, driver] if driver else [sys.executable, "-m", "fanflow"]
    return subprocess.run(
        [*argv, *args], capture_output=True, text=True, timeout=120, env=dict(os.environ)
    )


@pytest.mark.slow
@pytest.mark.parametrize("failure", ["sqlite", "enospc"])
def test_a_full_disk_is_one_line_and_the_run_resumes(failure: str, tmp_path: Path):
    script = tmp_path / "fan.py"
    script.write_text(SCRIPT)
    done = _fanflow(
        "run",
        str(script),
        "--model",
        "test",
        "--yes",
        "--workspace",
        str(tmp_path),
        driver=failure,
    )
    lines = [line for line in done.stderr.splitlines() if line.startswith("fanflow:")]
    assert done.returncode == 1, done.stderr
    assert "ExceptionGroup" not in done.stderr and "internal error" not in done.stderr
    assert "Traceback" not in done.stderr
    assert len(lines) == 1, done.stderr
    journal_path = Path(os.environ["FANFLOW_HOME"]) / "fanflow.db"
    assert f"disk full while writing the journal at {journal_path}" in lines[0]
    run_id = Journal().get_run("last")["id"]
    assert f"fanflow resume {run_id}" in lines[0]
    resumed = _fanflow("resume", run_id, "--yes", "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert Journal().get_run(run_id)["status"] == "succeeded"


def test_a_commit_that_finds_the_disk_full_is_said_by_the_next_write(tmp_path: Path):
    from fanflow._journal._full import JournalFull

    journal = Journal(tmp_path / "j.db")
    journal_run(journal, "r", script="x", workspace="/w")

    class FullOnCommit:
        def __init__(self, db: sqlite3.Connection) -> None:
            self._db = db

        def __getattr__(self, name: str):
            return getattr(self._db, name)

        def execute(self, sql: str, *args):
            if sql == "COMMIT":
                raise sqlite3.OperationalError("database or disk is full")
            return self._db.execute(sql, *args)

    journal.db = FullOnCommit(journal.db)  # type: ignore[assignment]
    journal.db.execute("BEGIN")
    journal._batch_commit()  # what the 50 ms timer runs: it must not lose the failure
    with pytest.raises(JournalFull, match="fanflow resume r"):
        journal.event("r", "log", "after")


def _journal_from_the_future(path: Path, *names: str) -> None:
    Journal(path).close()
    db = sqlite3.connect(path)
    for name in names:
        db.execute("INSERT INTO schema_migrations VALUES (?, 0)", (name,))
    db.commit()
    db.close()


@pytest.mark.parametrize(
    ("names", "theirs"),
    [
        (("050_leases",), 50),
        (("004_leases", "005_more", "009_far"), 9),
        (("zzz_unnumbered",), SCHEMA_VERSION + 1),
    ],
)
def test_a_newer_journal_is_refused_at_open_naming_both_versions(
    names: tuple[str, ...], theirs: int, capsys: pytest.CaptureFixture[str]
):
    path = Path(os.environ["FANFLOW_HOME"]) / "fanflow.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    _journal_from_the_future(path, *names)
    code = invoke(["ls"])
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert f"schema version {theirs}" in lines[0]
    assert f"reads up to version {SCHEMA_VERSION}" in lines[0]
    assert "upgrade fanflow" in lines[0]
    assert "another fanflow may hold it" not in err


def test_a_newer_journal_is_left_as_it_was(tmp_path: Path):
    from fanflow._journal._full import JournalTooNew

    path = tmp_path / "fanflow.db"
    _journal_from_the_future(path, "004_leases")
    before = path.read_bytes()
    with pytest.raises(JournalTooNew):
        Journal(path)
    assert path.read_bytes() == before


def test_a_locked_journal_still_says_so(capsys: pytest.CaptureFixture[str], monkeypatch):
    from fanflow._cli import _inspect

    def locked(*args, **kwargs):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(_inspect.Journal, "list_runs", locked)
    assert invoke(["ls"]) == 1
    assert "another fanflow may hold it" in capsys.readouterr().err
