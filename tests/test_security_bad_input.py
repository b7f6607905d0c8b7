"""Bad input through the real CLI (`python -m fanflow` subprocesses).

Every case must end with one clear line on stderr that names the problem (and
what to do), the documented exit code (0 succeeded/partial, 1 failed, 2 bad
usage or invalid script, 3 refused, 130 cancelled), and no traceback. Journal
cases also check that earlier runs survive: a good run first, then the bad
case, then `fanflow show <good run> --json` still works.

`CASES` is the table of one-shot usage errors; the journal, lock and model
cases below need more set-up than a row can hold.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from fakeapi import FakeAPI, Faults

from fanflow import ModelRequest, ModelResponse

GOOD = "phase('greet')\nawait spawn('general', 'say hi')\n"
USAGE_BANNER = (
    "BUG: click's usage errors print the 4-line usage banner ('Usage: ...', 'Try ...', "
    "'Error: ...'), not one 'fanflow: error:' line as docs/cli.md promises "
    "(_cli/__init__.invoke calls exc.show())"
)


def fanflow(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60):
    """The CLI with FANFLOW_MODEL=test, so that each case fails on its own bad input and not
    on the missing model (the "no model" case unsets it)."""
    return subprocess.run(
        [sys.executable, "-m", "fanflow", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "FANFLOW_MODEL": "test", **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def assert_one_clear_line(proc: subprocess.CompletedProcess, code: int, needle: str) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stdout[-500:], proc.stderr[-1500:])
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("fanflow: error: "), lines[0]
    assert "internal error" not in lines[0]
    assert needle in lines[0], lines[0]


# -- set-ups for the table -------------------------------------------------------------------------


def write(rel: str, content: str | bytes) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)

    return setup


def agent_file(name: str, text: str) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        write(f"ws/.fanflow/agents/{name}.md", text)(root)
        write(f"use_{name}.py", f"await spawn({name!r}, 'hi')\n")(root)

    return setup


def config(text: str) -> Callable[[Path], None]:
    return write("ws/.fanflow/config.toml", text)


def chmod(rel: str, mode: int, content: str | None = None) -> Callable[[Path], None]:
    """`rel` (a directory, or a file with `content`) with permission bits `mode`."""

    def setup(root: Path) -> None:
        if content is None:
            (root / rel).mkdir(exist_ok=True)
        else:
            (root / rel).write_text(content)
        (root / rel).chmod(mode)

    return setup


@dataclass(frozen=True)
class Bad:
    argv: tuple[str, ...]
    code: int
    needle: str
    setup: Callable[[Path], None] | None = None
    env: dict[str, str] = field(default_factory=dict)


def case(id: str, *argv: str, code: int = 2, needle: str, setup=None, xfail: str = "", **kw):
    marks = [pytest.mark.xfail(strict=True, raises=AssertionError, reason=xfail)] if xfail else []
    if kw.pop("skip_root", False):
        marks.append(
            pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
        )
    return pytest.param(Bad(argv, code, needle, setup, **kw), id=id, marks=marks)


WS = ("--workspace", "ws")

CASES = [
    # -- the script argument -----------------------------------------------------------------------
    case("no script", "run", needle="Missing argument 'SCRIPT'"),
    case("missing script", "run", "nope.py", needle="no script at 'nope.py'"),
    case("unknown saved workflow", "run", "nosuchflow", needle="no script file or saved workflow"),
    case("empty script", "run", "e.py", needle="script is empty", setup=write("e.py", "")),
    case("blank script", "run", "b.py", needle="script is empty", setup=write("b.py", " \n\n\t\n")),
    case(
        "binary script", "run", "x.py", needle="binary file", setup=write("x.py", b"\x00\x01\x02")
    ),
    case("directory as script", "run", "ws", needle="is a directory"),
    case(
        "non-UTF-8 script",
        "run",
        "l1.py",
        needle="not UTF-8",
        setup=write("l1.py", "x = 'caf\xe9'\n".encode("latin-1")),
    ),
    case("syntax error", "run", "s.py", needle="s.py:2:", setup=write("s.py", "x = 1\ny = (\n")),
    case(
        "huge script",
        "run",
        "big.py",
        needle="larger than 512 KiB",
        setup=write("big.py", "x = 1\n" * 100_000),
    ),
    case(
        "unreadable script",
        "run",
        "locked.py",
        needle="cannot read",
        setup=chmod("locked.py", 0, GOOD),
        skip_root=True,
    ),
    case(
        "unknown agent",
        "run",
        "u.py",
        needle="unknown agent 'nobody'",
        setup=write("u.py", "await spawn('nobody', 'hi')\n"),
    ),
    case(
        "unknown tool",
        "run",
        "t.py",
        needle="unknown tool 'shell'",
        setup=write("t.py", "await spawn('general', 'hi', tools=['shell'])\n"),
    ),
    case(
        "internal host function",
        "run",
        "f.py",
        needle="_ff_spawn",
        setup=write("f.py", "_ff_spawn('general', 'p', None, None, None, None, None, None)\n"),
    ),
    # -- flags and their values --------------------------------------------------------------------
    case("concurrency 0", "run", "good.py", "--concurrency", "0", needle="--concurrency must be"),
    case(
        "concurrency abc",
        "run",
        "good.py",
        "--concurrency",
        "abc",
        needle="--concurrency",
    ),
    case("max-agents -1", "run", "good.py", "--max-agents", "-1", needle="--max-agents must be"),
    case("max-agents 0", "run", "good.py", "--max-agents", "0", needle="--max-agents must be"),
    case("effort huge", "run", "good.py", "--agent-effort", "huge", needle="--agent-effort must"),
    case(
        "permission yolo",
        "run",
        "good.py",
        "--permission-mode",
        "yolo",
        needle="--permission-mode must be one of",
    ),
    case(
        "prompt mode without a terminal",
        "run",
        "good.py",
        "--permission-mode",
        "prompt",
        needle="needs a terminal",
    ),
    case("arg without =", "run", "good.py", "--arg", "novalue", needle="must look like KEY=VALUE"),
    case("arg without key", "run", "good.py", "--arg", "=v", needle="must look like KEY=VALUE"),
    case("unknown flag", "run", "good.py", "--bogus", needle="--bogus"),
    case("unknown command", "explode", needle="explode"),
    case("budget abc", "run", "good.py", "--budget", "abc", needle="--budget 'abc'"),
    case("budget-usd negative", "run", "good.py", "--budget-usd", "-5", needle="--budget-usd"),
    # -- models and keys ---------------------------------------------------------------------------
    case("no model", "run", "good.py", needle="no model chosen", env={"FANFLOW_MODEL": ""}),
    case("unknown model", "run", "good.py", "--model", "gpt-9", needle="unknown model provider"),
    case("empty model name", "run", "good.py", "--model", "anthropic:", needle="names no model"),
    case("unknown agent model", "run", "good.py", "--agent-model", "x", needle="unknown model"),
    case(
        "missing Anthropic key",
        "run",
        "good.py",
        "--model",
        "anthropic:claude-opus-4-8",
        needle="ANTHROPIC_API_KEY is not set",
    ),
    case(
        "missing OpenAI key",
        "run",
        "good.py",
        "--model",
        "openai:gpt-5",
        needle="OPENAI_API_KEY is not set",
    ),
    case(
        "bad oracle latency",
        "run",
        "good.py",
        "--model",
        "race-oracle",
        needle="race-oracle latency 'fast'",
        env={"RACE_ORACLE_LATENCY": "fast"},
    ),
    # -- the workspace -----------------------------------------------------------------------------
    case("missing workspace", "run", "good.py", "--workspace", "/no/such", needle="does not exist"),
    case(
        "workspace is a file",
        "run",
        "good.py",
        "--workspace",
        "good.py",
        needle="is not a directory",
    ),
    case(
        "unreadable workspace",
        "run",
        "good.py",
        "--workspace",
        "closed",
        needle="not readable",
        setup=chmod("closed", 0),
        skip_root=True,
    ),
    # -- agent files -------------------------------------------------------------------------------
    case(
        "agent file bad YAML",
        "run",
        "use_bad.py",
        *WS,
        needle="not valid YAML",
        setup=agent_file("bad", "---\nname: [unclosed\n---\nbody\n"),
    ),
    case(
        "agent file unclosed frontmatter",
        "run",
        "use_open.py",
        *WS,
        needle="never ends",
        setup=agent_file("open", "---\nname: open\ntools: [read]\nbody\n"),
    ),
    case(
        "agent file unknown tool",
        "run",
        "use_tool.py",
        *WS,
        needle="unknown tool 'shell'",
        setup=agent_file("tool", "---\ntools: [read, shell]\n---\nbody\n"),
    ),
    case(
        "agent file frontmatter is a list",
        "run",
        "use_list.py",
        *WS,
        needle="key: value pairs",
        setup=agent_file("list", "---\n- a\n- b\n---\nbody\n"),
    ),
    case(
        "agent file model not a string",
        "run",
        "use_model.py",
        *WS,
        needle="'model' must be a string",
        setup=agent_file("model", "---\nmodel: 5\n---\nbody\n"),
    ),
    case(
        "agent file unknown model",
        "run",
        "use_ghost.py",
        *WS,
        needle="unknown model provider 'gpt-9'",
        setup=agent_file("ghost", "---\nmodel: gpt-9\n---\nbody\n"),
    ),
    case(
        "agent file not UTF-8",
        "run",
        "use_bin.py",
        *WS,
        needle="cannot read agent file",
        setup=lambda root: (
            write("ws/.fanflow/agents/bin.md", b"\xff\xfe---\n")(root),
            write("use_bin.py", "await spawn('bin', 'hi')\n")(root),
        ),
    ),
    # -- .fanflow/config.toml ----------------------------------------------------------------------
    case("config bad TOML", "run", "good.py", *WS, needle="not valid TOML", setup=config("x = [")),
    case(
        "config command not a string",
        "run",
        "good.py",
        *WS,
        needle="[commands] must map names",
        setup=config("[commands]\ntest = 5\n"),
    ),
    case(
        "config commands not a table",
        "run",
        "good.py",
        *WS,
        needle="[commands] must map names",
        setup=config('commands = "x"\n'),
    ),
    case(
        "config empty command",
        "run",
        "good.py",
        *WS,
        needle="[commands] must map names",
        setup=config('[commands]\ntest = ""\n'),
    ),
    case(
        "config command with an open quote",
        "run",
        "good.py",
        *WS,
        needle="[commands]",
        setup=config('[commands]\ntest = "pytest \\"unclosed"\n'),
    ),
    case(
        "config concurrency 0",
        "run",
        "good.py",
        *WS,
        needle="[run] concurrency must be a positive integer",
        setup=config("[run]\nconcurrency = 0\n"),
    ),
    case(
        "config max_agents string",
        "run",
        "good.py",
        *WS,
        needle="[run] max_agents must be a positive integer",
        setup=config('[run]\nmax_agents = "many"\n'),
    ),
    case(
        "config run not a table",
        "run",
        "good.py",
        *WS,
        needle="[run] must be a table",
        setup=config("run = 3\n"),
    ),
    case(
        "config price not a table",
        "run",
        "good.py",
        *WS,
        needle='[prices."test"]',
        setup=config('[prices]\n"test" = 5\n'),
    ),
    case(
        "config negative input price",
        "run",
        "good.py",
        *WS,
        needle="needs numbers input and output",
        setup=config('[prices."test"]\ninput = -1\noutput = 1\n'),
    ),
    case(
        "config cache price not a number",
        "run",
        "good.py",
        *WS,
        needle="cache_write",
        setup=config('[prices."test"]\ninput = 1\noutput = 1\ncache_write = "abc"\n'),
    ),
    case(
        "config negative cache price",
        "run",
        "good.py",
        *WS,
        needle="cache_read",
        setup=config('[prices."test"]\ninput = 1\noutput = 1\ncache_read = -5\n'),
    ),
    # -- runs that do not exist --------------------------------------------------------------------
    case("show unknown run", "show", "nope", needle="'nope' is not a run id"),
    case("watch unknown run", "watch", "nope", needle="'nope' is not a run id"),
    case("cancel unknown run", "cancel", "nope", needle="'nope' is not a run id"),
    case("resume unknown run", "resume", "nope", needle="'nope' is not a run id"),
    case("show last with no runs", "show", "last", needle="no runs yet"),
    case("resume last with no runs", "resume", "last", needle="no runs yet"),
    case(
        "FANFLOW_HOME is a file",
        "ls",
        needle="cannot create",
        setup=write("homefile", "x"),
        env={"FANFLOW_HOME": "homefile"},
    ),
]


def journaled_runs() -> int:
    path = Path(os.environ["FANFLOW_HOME"]) / "fanflow.db"
    if not path.exists():
        return 0
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "ws").mkdir()
    (tmp_path / "good.py").write_text(GOOD)
    return tmp_path


def test_the_corpus_is_big_enough():
    assert len(CASES) >= 30


@pytest.mark.parametrize("bad", CASES)
def test_bad_input_is_one_clear_line(bad: Bad, root: Path):
    if bad.setup is not None:
        bad.setup(root)
    env = {k: str(root / v) if k == "FANFLOW_HOME" else v for k, v in bad.env.items()}
    proc = fanflow(*bad.argv, cwd=root, env=env)
    assert_one_clear_line(proc, bad.code, bad.needle)
    assert proc.stdout == ""
    if bad.code == 2 and not bad.env:
        assert journaled_runs() == 0  # nothing was journaled, nothing spent


# -- runs that ended -------------------------------------------------------------------------------


def good_run(root: Path, env: dict[str, str] | None = None) -> str:
    proc = fanflow("run", "good.py", "--json", "--yes", cwd=root, env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["run_id"]


def assert_intact(root: Path, run_id: str, env: dict[str, str] | None = None) -> None:
    shown = fanflow("show", run_id, "--json", cwd=root, env=env)
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)
    assert report["status"] == "succeeded" and report["phases"][0]["name"] == "greet"


def test_resume_and_cancel_of_a_finished_run_are_refused(root: Path):
    run_id = good_run(root)
    assert_one_clear_line(fanflow("resume", run_id, cwd=root), 2, "ended succeeded")
    assert_one_clear_line(fanflow("cancel", run_id, cwd=root), 2, "nothing to cancel")
    assert_intact(root, run_id)


def test_a_budget_refusal_exits_3_and_spends_nothing(root: Path):
    proc = fanflow("run", "good.py", "--budget", "1", "--json", cwd=root)
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "refused" in (proc.stderr + proc.stdout)


# -- a damaged or busy journal ---------------------------------------------------------------------


def db(root: Path) -> Path:
    return Path(os.environ["FANFLOW_HOME"]) / "fanflow.db"


def test_a_journal_of_garbage_is_a_clear_error_and_left_as_it_was(root: Path):
    path = db(root)
    path.parent.mkdir(parents=True)
    garbage = os.urandom(8192)
    path.write_bytes(garbage)
    for args in (("run", "good.py", "--yes"), ("ls",), ("show", "last")):
        assert_one_clear_line(fanflow(*args, cwd=root), 2, "cannot be used")
    assert path.read_bytes() == garbage  # not replaced, not "repaired"


def test_garbage_appended_to_the_journal_keeps_earlier_runs(root: Path):
    run_id = good_run(root)
    with db(root).open("ab") as f:
        f.write(os.urandom(4096))
    later = fanflow("run", "good.py", "--json", "--yes", cwd=root)
    assert later.returncode == 0 or "fanflow: error:" in later.stderr
    assert "Traceback" not in later.stderr
    assert_intact(root, run_id)


def _checkpointed(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def test_a_damaged_wal_does_not_lose_earlier_runs(root: Path):
    run_id = good_run(root)
    wal = db(root).with_name("fanflow.db-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # the CLI checkpointed on exit
    wal.write_bytes(os.urandom(8192))
    assert_intact(root, run_id)


def test_a_damaged_table_page_is_a_clear_error(root: Path):
    good_run(root)
    path = db(root)
    _checkpointed(path)
    with sqlite3.connect(path) as conn:
        pages = [
            r[0]
            for r in conn.execute("SELECT rootpage FROM sqlite_master WHERE name=?", ("usage",))
        ]
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(path.read_bytes())
    start = (pages[0] - 1) * page_size
    data[start : start + page_size] = b"\xde\xad\xbe\xef" * (page_size // 4)
    path.write_bytes(bytes(data))
    assert_one_clear_line(fanflow("show", "last", "--json", cwd=root), 2, "journal")


def _hold_exclusive(path: Path, seconds: float, ready: threading.Event) -> None:
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    conn.execute("BEGIN EXCLUSIVE")
    ready.set()
    time.sleep(seconds)
    conn.execute("COMMIT")
    conn.close()


def test_a_briefly_locked_journal_makes_the_run_wait_not_fail(root: Path):
    run_id = good_run(root)
    ready = threading.Event()
    holder = threading.Thread(target=_hold_exclusive, args=(db(root), 1.5, ready))
    holder.start()
    ready.wait(10)
    started = time.monotonic()
    proc = fanflow("run", "good.py", "--json", "--yes", cwd=root)
    holder.join()
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - started >= 1.0  # it waited for the lock
    assert_intact(root, run_id)
    with sqlite3.connect(db(root)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 2


def test_a_journal_locked_for_long_fails_clearly_and_stays_intact(root: Path):
    run_id = good_run(root)
    conn = sqlite3.connect(db(root), isolation_level=None, timeout=30)
    conn.execute("BEGIN EXCLUSIVE")  # held until fanflow has given up (10 s busy timeout)
    try:
        proc = fanflow("run", "good.py", "--yes", cwd=root)
    finally:
        conn.execute("COMMIT")
        conn.close()
    with sqlite3.connect(db(root)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert_intact(root, run_id)
    assert_one_clear_line(proc, 1, "locked")


# -- a model that answers garbage ------------------------------------------------------------------

HTML = (
    "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    "<body><h1>Bad Gateway</h1><hr><center>nginx</center></body></html>\n"
)
GARBAGE = {
    "html page, status 200": (200, "text/html", HTML.encode()),
    "plain text, status 200": (200, "text/plain", b"hello, I am not an API"),
    "empty body, status 200": (200, "application/json", b""),
    "binary garbage, status 200": (200, "application/json", b"\x00\xff\xfenot json"),
    "JSON of the wrong shape": (200, "application/json", b'{"unexpected": true}'),
    "html page, status 400": (400, "text/html", HTML.encode()),
}
NOT_A_CLEAR_ERROR = (
    "AttributeError",
    "TypeError",
    "JSONDecodeError",
    "UnicodeDecodeError",
    "KeyError",
    "NoneType",
    "<html",
)


async def fanflow_async(*args: str, cwd: Path) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "fanflow",
        *args,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


async def run_against(url: str, root: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, str]:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-key-garbage-0000")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", url)
    code, out, err = await fanflow_async(
        "run", "good.py", "--model", "anthropic:claude-sonnet-4-6", "--json", "--yes", cwd=root
    )
    assert code == 1, (out, err)
    assert "Traceback" not in err
    return json.loads(out), err


def assert_names_the_model_problem(report: dict, *needles: str) -> None:
    assert report["status"] == "failed"
    error = report["errors"][0]["error"]
    assert "\n" not in error, error
    assert not any(bad in error for bad in NOT_A_CLEAR_ERROR), error
    assert all(n in error for n in needles), error


@pytest.mark.parametrize("kind", list(GARBAGE))
async def test_a_garbage_answer_is_a_clear_error(kind: str, root: Path, monkeypatch):
    status, content_type, body = GARBAGE[kind]

    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=status, body=body, content_type=content_type)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        report, _ = await run_against(url, root, monkeypatch)
    finally:
        await runner.cleanup()
    assert_names_the_model_problem(report, "Anthropic")


@pytest.mark.parametrize(
    ("status", "needles"),
    [
        (401, ("refused the API key (401)", "check ANTHROPIC_API_KEY")),
        (403, ("refused the API key (403)",)),
        (404, ("has no model", "check the --model name")),
        (400, ("Anthropic API 400",)),
    ],
)
async def test_an_api_error_status_is_a_clear_error(status, needles, root: Path, monkeypatch):
    async with FakeAPI(
        api_key="sk-test-key-garbage-0000", faults=Faults(fail_status=status)
    ) as api:
        report, _ = await run_against(api.url, root, monkeypatch)
    assert_names_the_model_problem(report, *needles)


async def test_an_empty_answer_is_a_clear_error(root: Path, monkeypatch):
    async def empty(req: ModelRequest) -> ModelResponse:
        return ModelResponse(text="")

    async with FakeAPI(api_key="sk-test-key-garbage-0000", brain=empty) as api:
        report, _ = await run_against(api.url, root, monkeypatch)
    assert_names_the_model_problem(report, "empty answer")
