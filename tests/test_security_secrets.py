"""Secrets in the environment never land in anything fanflow writes.

Three secrets are planted: ANTHROPIC_API_KEY (the real provider key, sent to
the fake API server), MY_SERVICE_TOKEN and X_SECRET (names ending in _TOKEN
and _SECRET are redacted by rule). Each test pushes the values through one
channel (a prompt, log(), print(), an agent's error, tool arguments, results,
labels, --arg values...) and then greps every byte fanflow wrote: the SQLite
journal (`fanflow.db`, `-wal`, `-shm`), `$FANFLOW_HOME/runs/*/log`, and the
stdout and stderr of CLI runs.

The sandbox has no environment, so scripts build the values from two literal
halves: the script text (journaled verbatim, it is what `resume` re-runs) never
holds a whole secret. Channels where the value survives are xfail(strict)
with the column that keeps it.

Not checked here, on purpose: the model provider receives prompts and tool
results as they are (redaction is for what fanflow stores and prints), and a
workspace file the run writes holds what the script asked it to hold.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from fakeapi import FakeAPI
from helpers import REPO, run

from fanflow import FunctionModel, ModelRequest, ModelResponse, ToolCall
from fanflow._journal import Journal

KEY = "sk-ant-api03-SECRETVALUE-0123456789abcdef"
TOKEN = "svc-tok-SECRETVALUE-42424242"
XSECRET = "xsec-SECRETVALUE-777777777"
SECRETS = {"ANTHROPIC_API_KEY": KEY, "MY_SERVICE_TOKEN": TOKEN, "X_SECRET": XSECRET}
MODEL = "anthropic:claude-sonnet-4-6"


def halves(value: str) -> str:
    """A script expression that builds `value` without the script text holding it."""
    cut = len(value) // 2
    return f"({value[:cut]!r} + {value[cut:]!r})"


PRELUDE = f"TOK = {halves(TOKEN)}\nXS = {halves(XSECRET)}\nKEY = {halves(KEY)}\n"


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
async def api(monkeypatch: pytest.MonkeyPatch, secrets: None):
    async with FakeAPI(api_key=KEY) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        yield server


def home() -> Path:
    return Path(os.environ["FANFLOW_HOME"])


def leaks(*outputs: tuple[str, str]) -> list[str]:
    """Where a secret value survives: fanflow's files under $FANFLOW_HOME, and `outputs`."""
    found = []
    for path in sorted(p for p in home().rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += [f"{n} in {path.name}" for n, v in SECRETS.items() if v.encode() in data]
    for where, text in outputs:
        found += [f"{n} in {where}" for n, v in SECRETS.items() if v in text]
    return found


def columns_holding(journal: Journal, value: str) -> list[str]:
    """table.column of every journal cell holding `value` (to name the leak)."""
    held = []
    tables = [r[0] for r in journal.db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    for table in tables:
        cursor = journal.db.execute(f"SELECT * FROM {table}")
        names = [d[0] for d in cursor.description]
        for row in cursor:
            held += [
                f"{table}.{c}" for c, cell in zip(names, row, strict=True) if value in str(cell)
            ]
    return sorted(set(held))


def brain_from(fn):
    """A FakeAPI brain (async ModelRequest -> ModelResponse) from a plain function."""

    async def brain(req: ModelRequest) -> ModelResponse:
        reply = fn(req)
        return ModelResponse(text=reply) if isinstance(reply, str) else reply

    return brain


def tool_round(*calls: ToolCall, then: str = '{"done": true}'):
    """First turn: `calls`; after the tool results: `then`."""

    def reply(req: ModelRequest) -> ModelResponse | str:
        if not calls or any(m.tool_results for m in req.messages):
            return then
        return ModelResponse(tool_calls=list(calls))

    return reply


# -- one channel at a time, on the real provider code against the fake API -------------------------

LEAK = "the value survives in {}"

CHANNELS = [
    pytest.param(
        "await spawn('general', f'use {TOK} and {XS} and {KEY}', tools=[])",
        None,
        {},
        "agents.prompt",
        id="prompt",
    ),
    pytest.param("log('token is', TOK, XS, KEY)", None, {}, "events.message", id="log"),
    pytest.param("print('token is', TOK, XS, KEY)", None, {}, "events.message", id="print"),
    pytest.param(
        "try:\n    await spawn('general', 'p', tools=[], schema={'type': 'integer'})\n"
        "except RuntimeError as e:\n    log('caught', str(e))",
        tool_round(then=f"not a number: {TOKEN} {XSECRET} {KEY}"),
        {},
        "agents.error",
        id="agent error",
    ),
    pytest.param(
        "await spawn('general', 'p', tools=['read', 'write', 'run'])",
        tool_round(
            ToolCall("a", "read", {"path": f"{TOKEN}.txt"}),
            ToolCall("b", "write", {"path": ".env", "text": XSECRET}),
            ToolCall("c", "run", {"name": KEY, "args": [TOKEN]}),
            ToolCall("d", "write", {"path": f"../{XSECRET}", "text": "x"}),
        ),
        {},
        "events.message",
        id="agent tool arguments (refused)",
    ),
    pytest.param(
        "r = await tools.write('out.txt', TOK + XS + KEY)",
        None,
        {},
        None,
        id="script tools.write text",
    ),
    pytest.param(
        "await spawn('general', 'p', tools=['write'])",
        tool_round(ToolCall("a", "write", {"path": f"notes/{TOKEN}.txt", "text": "x"})),
        {},
        None,
        id="agent writes a file named by the secret",
    ),
    pytest.param(
        "try:\n    await tools.read(TOK + '.txt')\nexcept FileNotFoundError:\n    pass",
        None,
        {},
        None,
        id="script tool error",
    ),
    pytest.param(
        "r = await tools.run('echo', TOK)",
        None,
        {"echo": "echo"},
        None,
        id="script tools.run output",
    ),
    pytest.param(
        "await tools.write('cfg.txt', TOK)\nr = await tools.read('cfg.txt')",
        None,
        {},
        None,
        id="script tools.read result",
    ),
    pytest.param(
        "r = await spawn('general', 'p', tools=[])",
        tool_round(then=json.dumps({"token": TOKEN})),
        {},
        None,
        id="agent result",
    ),
    pytest.param(
        "[TOK, XS, KEY]",
        None,
        {},
        None,
        id="script result",
    ),
    pytest.param(
        "r = await spawn('general', 'p', tools=[], label=TOK)",
        None,
        {},
        None,
        id="label",
    ),
    pytest.param(
        "phase(TOK)\nr = await spawn('general', 'p', tools=[])",
        None,
        {},
        None,
        id="phase name",
    ),
]


@pytest.mark.parametrize(("body", "brain", "commands", "redacted_in"), CHANNELS)
async def test_secret_does_not_survive_the_channel(
    api: FakeAPI, tmp_path: Path, body: str, brain, commands: dict[str, str], redacted_in
):
    """`redacted_in`: the column that proves the value went through, as `[redacted]`."""
    if brain is not None:
        api.brain = brain_from(brain)
    if commands:
        (tmp_path / ".fanflow").mkdir()
        lines = "".join(f'{k} = "{v}"\n' for k, v in commands.items())
        (tmp_path / ".fanflow" / "config.toml").write_text("[commands]\n" + lines)
    journal = Journal()
    report = await run(PRELUDE + body, model_name=MODEL, journal=journal, workspace=str(tmp_path))
    assert report["status"] in ("succeeded", "partial", "failed")
    assert api.count(path="/v1/messages") == api.count(status=200, path="/v1/messages")
    held = {v: columns_holding(journal, v) for v in SECRETS.values()}
    proof = columns_holding(journal, "[redacted]")
    journal.close()
    assert leaks(("report", json.dumps(report))) == [], held
    if redacted_in:
        assert redacted_in in proof


async def test_arg_values_are_redacted_in_the_journal(secrets: None, tmp_path: Path):
    journal = Journal()
    await run(
        "log(args['token'])",
        model_name="test",
        args={"token": TOKEN},
        journal=journal,
        workspace=str(tmp_path),
    )
    journal.close()
    assert leaks() == []


async def test_the_api_key_goes_only_into_the_auth_header(api: FakeAPI, tmp_path: Path):
    journal = Journal()
    report = await run(
        "await gather([spawn('general', f'unit {i}', tools=[]) for i in range(3)])",
        model_name=MODEL,
        journal=journal,
        workspace=str(tmp_path),
    )
    assert report["status"] == "succeeded", report["errors"]
    sent = [r for r in api.requests if r.path == "/v1/messages"]
    auth = [r.headers.get("x-api-key") or r.headers.get("authorization") for r in sent]
    assert len(sent) == 3 and set(auth) <= {KEY, f"Bearer {KEY}"}
    assert all(KEY not in json.dumps(r.body) for r in sent)
    journal.close()
    assert leaks() == []


async def test_a_function_model_error_is_redacted_everywhere(secrets: None, tmp_path: Path):
    def explode(req: ModelRequest) -> str:
        raise RuntimeError(f"upstream rejected {TOKEN} / {XSECRET} / {KEY}")

    journal = Journal()
    report = await run(
        PRELUDE + "await spawn('general', 'p')",
        model=FunctionModel(explode),
        journal=journal,
        workspace=str(tmp_path),
    )
    assert report["status"] == "failed"
    assert "[redacted]" in report["errors"][0]["error"]
    journal.close()
    assert leaks(("report", json.dumps(report))) == []


# -- the CLI, in subprocesses, on the fake API -----------------------------------------------------

CLI_SCRIPT = (
    PRELUDE
    + """
log('log line', TOK, XS, KEY)
print('print line', TOK, XS, KEY)
phase('work')
results = await gather([
    spawn('general', f'READ-SECRET-PATH {TOK} {XS} {KEY}', tools=['read', 'write']),
    spawn('general', 'ANSWER-SECRET', tools=[], schema={'type': 'integer'}),
])
ok = await tools.write('report.txt', 'done')
len(results)
"""
)


def cli_brain(req: ModelRequest) -> ModelResponse | str:
    prompt = req.messages[0].text
    if "ANSWER-SECRET" in prompt:
        return f"I cannot say {TOKEN}, {XSECRET}, {KEY}"  # not an integer: the agent fails
    if "READ-SECRET-PATH" in prompt and not any(m.tool_results for m in req.messages):
        return ModelResponse(
            tool_calls=[
                ToolCall("a", "read", {"path": f"{TOKEN}.txt"}),
                ToolCall("b", "write", {"path": ".env", "text": KEY}),
            ]
        )
    return '{"done": true}'


async def fanflow(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "fanflow",
        *args,
        cwd=REPO,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


async def _views_of(run_id: str) -> list[tuple[str, str]]:
    outputs = []
    for args in (
        ["show", run_id],
        ["show", run_id, "--agents"],
        ["show", run_id, "--json"],
        ["show", run_id, "--script"],
        ["ls"],
        ["watch", run_id, "--json"],
    ):
        code, out, err = await fanflow(*args)
        assert code in (0, 1), err
        outputs += [(f"{' '.join(args[:1] + args[2:])} stdout", out), (f"{args[0]} stderr", err)]
    return outputs


async def test_cli_run_writes_and_prints_no_secret(api: FakeAPI, tmp_path: Path):
    api.brain = brain_from(cli_brain)
    script = tmp_path / "flow.py"
    script.write_text(CLI_SCRIPT)
    code, out, err = await fanflow(
        "run", str(script), "--model", MODEL, "--workspace", str(tmp_path), "--yes"
    )
    assert code == 0, err  # partial: one agent failed with the secret in its error
    assert "[redacted]" in err
    run_id = Journal().get_run("last")["id"]
    outputs = [("run stdout", out), ("run stderr", err), *await _views_of(run_id)]
    assert leaks(*outputs) == []


async def test_cli_background_run_log_holds_no_secret(api: FakeAPI, tmp_path: Path):
    api.brain = brain_from(cli_brain)
    script = tmp_path / "flow.py"
    script.write_text(CLI_SCRIPT)
    code, out, err = await fanflow(
        "run", str(script), "--model", MODEL, "--workspace", str(tmp_path), "--background", "--json"
    )
    assert code == 0, err
    started: dict[str, Any] = json.loads(out)
    code, watched, werr = await fanflow("watch", started["run_id"], "--json")
    assert json.loads(watched)["status"] == "partial", werr
    log = Path(started["log"])
    assert log.is_relative_to(home()) and await asyncio.to_thread(log.is_file)
    assert leaks(("run stdout", out), ("run stderr", err), ("watch", watched + werr)) == []


async def test_the_journal_is_private_to_its_owner(tmp_path: Path):
    await run("log('hello')", model_name="test", workspace=str(tmp_path))
    for path in (home(), home() / "fanflow.db"):
        assert path.stat().st_mode & 0o077 == 0, oct(path.stat().st_mode)


def test_a_secret_set_or_changed_after_redaction_began_is_still_redacted(monkeypatch):
    # secret values are cached between calls; the cache must follow the environment
    from fanflow._redact import redact

    monkeypatch.setenv("LATE_API_KEY", "first-secret-value-1")
    assert redact("a first-secret-value-1 b") == "a [redacted] b"
    monkeypatch.setenv("LATE_API_KEY", "second-secret-value-2")
    assert redact("first-secret-value-1 second-secret-value-2") == (
        "first-secret-value-1 [redacted]"
    )
    monkeypatch.setenv("ANOTHER_TOKEN", "third-secret-value-3")
    assert redact("third-secret-value-3") == "[redacted]"
