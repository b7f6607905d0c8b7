"""Issue 14, classes 3 and 4 (the rights parts): declared commands and who widens rights.

Class 3, option injection: a caller's argument that a program may read as an
option (`-c`, `--import=...`, `+cmd`, `@file`, `NAME=value`, Unicode dashes and
hidden prefixes) or as a path outside the workspace is refused unless the
command's declaration allows it, through scripts and through agents granted
only `run`. Each attack uses a real program (python, node, git, cat) that
would run code or leak a file if the argument got through; the canary is
checked, not just the message.

Class 4: the workspace config may only lower the host's caps; it cannot grant
`allow_secrets` (only `--allow-secrets` or `$FANFLOW_HOME/config.toml` can);
a resume whose agent definitions, declared commands or config changed since
the first attempt is refused (exit 2, naming what changed) unless the user
passes `--accept-changes`.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import Probe, run

from fanflow import ConfigError, FunctionModel, ModelRequest, ModelResponse, ToolCall
from fanflow._commands import Commands, looks_like_option
from fanflow._config import load_config
from fanflow._journal import Journal
from fanflow._options import RunOptions
from fanflow._resume import prepare_resume, resume_run
from fanflow._rights import check_unchanged
from fanflow._run import Run
from fanflow._tools._run import TOOL as RUN_TOOL
from fanflow._workspace import ToolError

PY = sys.executable
OUTSIDE = "OUTSIDE-CANARY-77aa: this text lives outside the workspace\n"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / ".fanflow").mkdir(parents=True)
    (root / "sub").mkdir()
    (root / "sub" / "inside.txt").write_text("inside\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(OUTSIDE)
    (root / "out").symlink_to(outside, target_is_directory=True)
    return root


@pytest.fixture
def home() -> Path:
    """The user's $FANFLOW_HOME (conftest points it into tmp_path)."""
    path = Path(os.environ["FANFLOW_HOME"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def declare(root: Path, text: str) -> None:
    (root / ".fanflow" / "config.toml").write_text(text)


def _pwn_code(root: Path) -> str:
    """Python that leaves a file behind if it ever runs."""
    return f"open({str(root / 'PWNED')!r}, 'w').write('ran')"


async def _script(root: Path, script: str, **options: Any) -> dict[str, Any]:
    return await run(script, workspace=str(root), model_name="test", **options)


def _caught(call: str) -> str:
    """A script that runs `call` and returns 'ran' or the error's type and text."""
    return (
        "try:\n"
        f"    out = await {call}\n"
        '    outcome = "ran " + str(out["code"]) + " " + out["stdout"]\n'
        "except OSError as error:\n"
        '    outcome = type(error).__name__ + ": " + str(error)\n'
        "outcome\n"
    )


# -- class 3: option injection ---------------------------------------------------------------------

OPTION_ATTACKS = [
    ("-c", "CODE"),  # python -c CODE
    ("-cCODE",),  # joined short option
    ("--", "-c", "CODE"),  # the separator itself is an option-looking argument
    ("sub/inside.txt", "-c", "CODE"),  # an option after a plain argument
    ("-I", "-c", "CODE"),
    ("\u2212c", "CODE"),  # MINUS SIGN
    ("\u2013c", "CODE"),  # EN DASH
    ("\uff0dc", "CODE"),  # FULLWIDTH HYPHEN-MINUS (NFKC: -)
    (" -c", "CODE"),  # leading blank
    ("\u200b-c", "CODE"),  # zero-width space first
    ("\ufeff-c", "CODE"),  # BOM first
    ("+c", "CODE"),  # vim/less-style +cmd
    ("@args.txt",),  # response file (gcc, javac, argparse fromfile)
    ("PYTHONSTARTUP=x",),  # NAME=value (make variables run $(shell ...))
    ("\uff20args.txt",),  # FULLWIDTH COMMERCIAL AT
]


@pytest.mark.parametrize("attack", OPTION_ATTACKS, ids=repr)
async def test_option_like_arguments_are_refused_through_a_script(ws: Path, attack):
    declare(ws, f"[commands]\npy = {shlex.join([PY, '-I'])!r}\n")
    args = [a.replace("CODE", _pwn_code(ws)) for a in attack]
    report = await _script(ws, _caught(f"tools.run('py', *{args!r})"))
    assert report["status"] == "succeeded", report["errors"]
    assert report["result"].startswith("PermissionError: "), report["result"]
    assert "of command 'py'" in report["result"]
    assert "[commands.py]" in report["result"] and "allow = [" in report["result"]
    assert not (ws / "PWNED").exists()


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
@pytest.mark.parametrize(
    "arg",
    [
        "--import=data:text/javascript,CODE",
        "--require=./evil.js",
        "--experimental-loader=data:text/javascript,CODE",
        "--eval=CODE",
    ],
)
async def test_the_issue_example_node_test_import_is_refused(ws: Path, arg):
    """The review's attack, as written: `test = "node --test"` and `--import=data:...`."""
    declare(ws, '[commands]\ntest = "node --test"\n')
    code = f"require('fs').writeFileSync({str(ws / 'PWNED')!r}, 'ran')"
    (ws / "evil.js").write_text(code)
    report = await _script(ws, _caught(f"tools.run('test', {arg.replace('CODE', code)!r})"))
    assert report["result"].startswith("PermissionError: "), report["result"]
    assert not (ws / "PWNED").exists()


class Caller:
    """Asks for the given tool calls on its first turn, then reports what came back."""

    def __init__(self, *calls: tuple[str, Any]) -> None:
        self.calls = calls

    def __call__(self, req: ModelRequest) -> ModelResponse:
        results = [r for m in req.messages for r in m.tool_results]
        if not results:
            return ModelResponse(
                tool_calls=[ToolCall(f"c{i}", n, a) for i, (n, a) in enumerate(self.calls)]
            )
        return ModelResponse(
            text=json.dumps([{"error": r.is_error, "content": r.content} for r in results])
        )


@pytest.mark.parametrize("attack", OPTION_ATTACKS[:8], ids=repr)
async def test_an_agent_granted_only_run_cannot_inject_options(ws: Path, attack):
    declare(ws, f"[commands]\npy = {shlex.join([PY, '-I'])!r}\n")
    args = [a.replace("CODE", _pwn_code(ws)) for a in attack]
    report = await run(
        "await spawn('general', 'run the tests', tools=['run'])",
        workspace=str(ws),
        model=Caller(("run", {"name": "py", "args": args})),
    )
    assert report["status"] == "succeeded", report["errors"]
    [answer] = report["result"]
    assert answer["error"] is True
    assert "looks like an option" in answer["content"]
    assert not (ws / "PWNED").exists()


def test_run_args_given_as_a_string_are_refused_not_split_into_characters():
    """The tool's own guard (plugins and hosts may call it without the schema check)."""
    with pytest.raises(ToolError, match="must be a list"):
        RUN_TOOL.target({"name": "echo", "args": "-e"})


@pytest.fixture
def git_ws(ws: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    return ws


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
@pytest.mark.parametrize(
    "args",
    [
        ["--output=LEAK"],  # git log --output writes a file of the caller's choosing
        ["--output", "LEAK"],
        ["-oLEAK"],
        ["--ext-diff", "-p"],  # runs a configured external diff program
    ],
)
async def test_git_options_that_write_or_run_are_refused(git_ws: Path, args):
    declare(git_ws, '[commands]\nlog = "git log"\n')
    leak = git_ws.parent / "leak.txt"
    script = _caught(f"tools.run('log', *{[a.replace('LEAK', str(leak)) for a in args]!r})")
    report = await _script(git_ws, script)
    assert report["result"].startswith("PermissionError: "), report["result"]
    assert not leak.exists()


PATH_ATTACKS = [
    "/etc/passwd",
    "OUTSIDE",  # the absolute path of the outside file
    "../outside/secret.txt",
    "sub/../../outside/secret.txt",
    "sub\\..\\..\\outside\\secret.txt",
    "~/.ssh/id_rsa",
    "~",
    "file:///etc/passwd",
    "FILE:OUTSIDE",
    "C:\\Windows\\win.ini",
    "\\\\server\\share\\x",
    "out/secret.txt",  # a relative name through a symlink that points out
    "out",
    " /etc/passwd",
    "\uff0e\uff0e/outside/secret.txt",  # fullwidth dots: NFKC ..
]


@pytest.mark.parametrize("arg", PATH_ATTACKS, ids=repr)
async def test_paths_outside_the_workspace_are_refused(ws: Path, arg):
    declare(ws, '[commands]\nshow = "cat"\n')
    arg = arg.replace("OUTSIDE", str(ws.parent / "outside" / "secret.txt"))
    report = await _script(ws, _caught(f"tools.run('show', {arg!r})"))
    assert report["result"].startswith("PermissionError: "), report["result"]
    assert "outside the workspace" in report["result"]
    assert "OUTSIDE-CANARY" not in json.dumps(report)


@pytest.mark.parametrize(
    "arg", ["--file=../outside/secret.txt", "--file=/etc/passwd", "--file=a=/etc", "--file=~"]
)
async def test_an_allowed_option_still_cannot_carry_an_outside_path(ws: Path, arg):
    declare(ws, '[commands.show]\nargv = "cat"\nallow = ["--file=*"]\n')
    report = await _script(ws, _caught(f"tools.run('show', {arg!r})"))
    assert "outside the workspace" in report["result"]


async def test_plain_arguments_still_run(ws: Path):
    declare(
        ws, f"[commands]\nargs = {shlex.join([PY, '-c', 'import sys; print(sys.argv[1:])'])!r}\n"
    )
    plain = ["hello world", "sub/inside.txt", "$(whoami)", "; rm -rf /", "a.b=c d", "x-y", "42"]
    report = await _script(ws, _caught(f"tools.run('args', *{plain!r})"))
    assert report["result"] == f"ran 0 {plain!r}\n"


async def test_a_table_declaration_allows_exactly_what_it_names(ws: Path):
    echo = [PY, "-c", "import sys; print(sys.argv[1:])"]
    declare(
        ws,
        f'[commands.t]\nargv = {json.dumps(echo)}\nallow = ["-q", "--reporter=*", "--"]\n',
    )
    ok = await _script(ws, _caught("tools.run('t', '-q', '--reporter=dot', '--', 'x')"))
    assert ok["result"] == "ran 0 ['-q', '--reporter=dot', '--', 'x']\n"
    for near_miss in ["-qq", "--reporter", "--reporterx=1", "--rep=dot", "-Q", "\u2212q"]:
        refused = await _script(ws, _caught(f"tools.run('t', {near_miss!r})"))
        assert refused["result"].startswith("PermissionError: "), (near_miss, refused["result"])


async def test_paths_any_lets_a_declaration_name_outside_paths(ws: Path):
    declare(ws, '[commands.show]\nargv = "cat"\npaths = "any"\n')
    report = await _script(ws, _caught("tools.run('show', '../outside/secret.txt')"))
    assert report["result"] == "ran 0 " + OUTSIDE


def test_the_string_form_is_unchanged_and_the_table_form_is_checked(ws: Path):
    declare(ws, '[commands]\ntest = "pytest -q"\n\n[commands.lint]\nargv = ["ruff", "check"]\n')
    config = load_config(ws)
    assert config.commands["test"] == "pytest -q"
    assert Commands(ws, config.commands).declared == {
        "test": ["pytest", "-q"],
        "lint": ["ruff", "check"],
    }


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('[commands.t]\nargv = "x"\nallow_options = ["-q"]\n', "unknown key(s) 'allow_options'"),
        ('[commands.t]\nargv = "x"\nallow = "-q"\n', "allow must be a list"),
        ('[commands.t]\nargv = "x"\nallow = [""]\n', "allow must be a list"),
        ('[commands.t]\nargv = "x"\npaths = "all"\n', 'paths must be "workspace" or "any"'),
        ('[commands.t]\nallow = ["-q"]\n', "needs argv"),
        ("[commands.t]\nargv = []\n", "needs argv"),
        ('[commands.t]\nargv = "   "\n', "is empty"),
        ('[commands.t]\nargv = "x \\"open"\n', "fix its quoting"),
    ],
)
def test_a_bad_table_is_a_config_error_naming_the_file(ws: Path, body, needle):
    declare(ws, body)
    with pytest.raises(ConfigError, match=r"config\.toml") as info:
        load_config(ws)
    assert needle in str(info.value)


@pytest.mark.parametrize(
    "arg",
    [
        "-x",
        "--x",
        "+x",
        "@x",
        "A=1",
        "\u2010x",
        "\u2014x",
        "\ufe63x",
        "\u00a0-x",
        "\u207bx",  # SUPERSCRIPT MINUS (NFKC: MINUS SIGN)
        "\u02d7x",
        "\u2796x",
        "\u202e-x",  # a bidi override first
    ],
)
def test_every_option_spelling_is_recognised(arg):
    assert looks_like_option(arg)


@pytest.mark.parametrize("arg", ["x", "x-y", "1=2", "x y=1", "a.b=c", "", "\u00e9-x", "x@y"])
def test_plain_words_are_not_options(arg):
    assert not looks_like_option(arg)


# -- class 4a: the workspace may only lower limits -------------------------------------------------


def _fanflow(*args: str, cwd: Path, env: dict[str, str] | None = None):
    return subprocess.run(
        [sys.executable, "-m", "fanflow", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "FANFLOW_MODEL": "test", **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def _one_line(proc: subprocess.CompletedProcess, code: int, *needles: str) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stdout[-300:], proc.stderr[-1500:])
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("fanflow: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        ("[run]\nconcurrency = 500\n", ("concurrency = 500", "cap of 16", "--concurrency 500")),
        ("[run]\nconcurrency = 17\n", ("cap of 16",)),
        ("[run]\nmax_agents = 1500\n", ("max_agents = 1500", "cap of 1000", "--max-agents")),
        ("[run]\nmax_agents = 1001\n", ("cap of 1000",)),
    ],
)
def test_a_workspace_cannot_raise_the_host_caps(ws: Path, body, needles):
    declare(ws, body)
    (ws / "s.py").write_text("1\n")
    _one_line(_fanflow("run", "s.py", "--yes", cwd=ws), 2, *needles)
    with pytest.raises(ConfigError, match="may only lower limits"):
        Run("1\n", RunOptions(model="test", workspace=ws), Journal(":memory:"))


def test_a_workspace_may_lower_the_caps_and_a_flag_may_raise_them(ws: Path):
    declare(ws, "[run]\nconcurrency = 4\nmax_agents = 5000\n")
    lowered = Run("1\n", RunOptions(model="test", workspace=ws, max_agents=20), Journal())
    assert (lowered.limits.concurrency, lowered.limits.max_agents) == (4, 20)
    declare(ws, "[run]\nconcurrency = 500\n")
    raised = Run("1\n", RunOptions(model="test", workspace=ws, concurrency=64), Journal())
    assert raised.limits.concurrency == 64  # the user's own flag


# -- class 4b: rights come from the user -----------------------------------------------------------

READ_ENV = (
    "try:\n"
    "    outcome = 'read ' + await tools.read('.env')\n"
    "except OSError as error:\n"
    "    outcome = type(error).__name__ + ': ' + str(error)\n"
    "outcome\n"
)


@pytest.mark.parametrize(
    "text",
    [
        "[permissions]\nallow_secrets = true\n",
        '[commands]\ntest = "x"\n\n[permissions]\nallow_secrets = true\n',
    ],
)
def test_a_workspace_cannot_grant_allow_secrets(ws: Path, text):
    declare(ws, text)
    (ws / ".env").write_text("API_KEY=sk-from-env-file-1234\n")
    (ws / "s.py").write_text("await tools.read('.env')\n")
    _one_line(
        _fanflow("run", "s.py", "--yes", cwd=ws),
        2,
        "allow_secrets = true",
        "--allow-secrets",
        "$FANFLOW_HOME/config.toml",
    )
    with pytest.raises(ConfigError, match="only you can grant that"):
        Run("1\n", RunOptions(model="test", workspace=ws), Journal())


async def test_secrets_stay_refused_without_a_grant(ws: Path):
    (ws / ".env").write_text("API_KEY=sk-from-env-file-1234\n")
    report = await _script(ws, READ_ENV)
    assert report["result"].startswith("PermissionError: ")
    assert "--allow-secrets" in report["result"]


async def test_the_flag_or_the_users_config_grants_secrets(ws: Path, home: Path):
    (ws / ".env").write_text("HELLO=from-env-file\n")
    flagged = await _script(ws, READ_ENV, allow_secrets=True)
    assert flagged["result"] == "read HELLO=from-env-file\n"
    (home / "config.toml").write_text("[permissions]\nallow_secrets = true\n")
    declare(ws, "[permissions]\nallow_secrets = true\n")  # asked and granted: fine
    granted = await _script(ws, READ_ENV)
    assert granted["result"] == "read HELLO=from-env-file\n"


def test_the_cli_flag_reaches_the_run(ws: Path):
    (ws / ".env").write_text("HELLO=from-env-file\n")
    (ws / "s.py").write_text("await tools.read('.env')\n")
    proc = _fanflow("run", "s.py", "--yes", "--json", "--allow-secrets", cwd=ws)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["result"] == "HELLO=from-env-file\n"
    refused = _fanflow("run", "s.py", "--yes", "--json", cwd=ws)
    assert refused.returncode == 1 and "secrets file" in refused.stdout


# -- class 4c: a resume sees the rights the first attempt had --------------------------------------

UNITS = 'await gather([spawn("general", f"unit {i}") for i in range(3)])'


async def _partial_run(ws: Path, journal: Journal) -> str:
    first = await run(
        UNITS, model=Probe(fail_when="unit 1", reply={"n": 1}), journal=journal, workspace=str(ws)
    )
    assert first["status"] == "partial"
    return first["run_id"]


def _agent(ws: Path, folder: str, name: str, text: str) -> None:
    (ws / folder).mkdir(parents=True, exist_ok=True)
    (ws / folder / f"{name}.md").write_text(text)


CHANGES = [
    ("commands", lambda ws: declare(ws, '[commands]\nsh = "sh -c"\n'), "declared commands changed"),
    (
        "commands added",
        lambda ws: declare(ws, '[commands]\ntest = "pytest"\nsh = "sh -c"\n'),
        "declared commands changed",
    ),
    (
        "secrets asked",
        lambda ws: declare(
            ws, '[commands]\ntest = "pytest"\n[permissions]\nallow_secrets = true\n'
        ),
        ".fanflow/config.toml changed",
    ),
    (
        "prices",
        lambda ws: declare(
            ws, '[commands]\ntest = "pytest"\n[prices."x:y"]\ninput = 0\noutput = 0\n'
        ),
        ".fanflow/config.toml changed",
    ),
    (
        "agent edited",
        lambda ws: _agent(ws, ".fanflow/agents", "helper", "---\ntools: [write, run]\n---\nObey."),
        ".fanflow/agents/helper.md changed",
    ),
    (
        "claude agent added",
        lambda ws: _agent(ws, ".claude/agents", "new", "You obey files."),
        ".claude/agents/new.md was added",
    ),
    (
        "agent removed",
        lambda ws: (ws / ".fanflow" / "agents" / "helper.md").unlink(),
        ".fanflow/agents/helper.md was removed",
    ),
    (
        "config removed",
        lambda ws: (ws / ".fanflow" / "config.toml").unlink(),
        "declared commands was removed",
    ),
    (
        "user config",
        lambda ws: (Path(os.environ["FANFLOW_HOME"]) / "config.toml").write_text(
            "[permissions]\nallow_secrets = true\n"
        ),
        "$FANFLOW_HOME/config.toml was added",
    ),
]


@pytest.fixture
def prepared(ws: Path, home: Path) -> Path:
    declare(ws, '[commands]\ntest = "pytest"\n')
    _agent(ws, ".fanflow/agents", "helper", "---\ntools: [read]\n---\nHelp.")
    return ws


@pytest.mark.parametrize(("what", "change", "said"), CHANGES, ids=[c[0] for c in CHANGES])
async def test_a_resume_after_a_change_of_rights_is_refused(prepared: Path, what, change, said):
    journal = Journal()
    run_id = await _partial_run(prepared, journal)
    change(prepared)
    with pytest.raises(ConfigError) as info:
        prepare_resume(journal, run_id, {"fake": FunctionModel(Probe(), name="fake")})
    message = str(info.value)
    assert said in message and "--accept-changes" in message and "\n" not in message
    assert journal.get_run(run_id)["status"] == "partial"  # left as it was


async def test_accept_changes_resumes_and_becomes_the_new_baseline(prepared: Path):
    journal = Journal()
    run_id = await _partial_run(prepared, journal)
    _agent(prepared, ".claude/agents", "new", "You obey files.")
    again = Probe(reply={"n": 1})
    models = {"fake": FunctionModel(again, name="fake")}
    report = await resume_run(run_id, models=models, journal=journal, accept_changes=True)
    assert report["status"] == "succeeded"
    assert again.prompts == ["unit 1"]
    [noted] = journal.events_of_kind(run_id, "rights")
    assert ".claude/agents/new.md was added" in noted["message"]
    # the accepted state is what a later resume compares to: nothing to say now
    check_unchanged(journal, journal.get_run(run_id), prepared)


async def test_a_comment_or_layout_change_is_not_a_change(prepared: Path):
    journal = Journal()
    run_id = await _partial_run(prepared, journal)
    declare(prepared, '# the project\'s commands\n[commands]\n  test   =   "pytest"\n')
    resumed = prepare_resume(journal, run_id, {"fake": FunctionModel(Probe(), name="fake")})
    assert resumed.run_id == run_id


async def test_a_run_journaled_without_a_fingerprint_needs_the_flag(prepared: Path):
    journal = Journal()
    run_id = await _partial_run(prepared, journal)
    journal.update_settings(run_id, rights=None)
    models = {"fake": FunctionModel(Probe(), name="fake")}
    with pytest.raises(ConfigError, match="changes cannot be ruled out"):
        prepare_resume(journal, run_id, models)
    assert prepare_resume(journal, run_id, models, accept_changes=True).run_id == run_id


def test_the_cli_resume_names_the_change_and_takes_accept_changes(prepared: Path):
    (prepared / "s.py").write_text('x = args.get("go")\nif not x:\n    raise ValueError("no")\nx\n')
    first = _fanflow("run", "s.py", "--yes", "--json", cwd=prepared)
    assert first.returncode == 1, first.stderr
    run_id = json.loads(first.stdout)["run_id"]
    declare(prepared, '[commands]\ntest = "pytest"\nsh = "sh -c"\n')
    _one_line(
        _fanflow("resume", run_id, "--json", cwd=prepared),
        2,
        f"cannot resume run {run_id}",
        "declared commands changed",
        "--accept-changes",
    )
    accepted = _fanflow("resume", run_id, "--json", "--accept-changes", cwd=prepared)
    assert accepted.returncode == 1, accepted.stderr  # it ran again (and failed as before)
    assert "cannot resume" not in accepted.stderr
    assert json.loads(accepted.stdout)["run_id"] == run_id


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("[permissions]\nallow_secrets = true\n", "only you can grant that"),
        ("[run]\nconcurrency = 64\n", "cap of 16"),
    ],
)
def test_do_refuses_before_the_lead_model_is_paid(ws: Path, home: Path, body, needle):
    declare(ws, body)
    _one_line(_fanflow("do", "audit every file", "--yes", cwd=ws), 2, needle)
    assert not (home / "plans").exists()  # no plan was made
    assert not (home / "fanflow.db").exists() or Journal().list_runs() == []


async def test_a_declaration_ending_in_a_separator_still_refuses_options(ws: Path):
    """`npm test --` hands what follows to a test runner, which parses options too."""
    show = [PY, "-c", "import sys; print(sys.argv[1:])", "--"]
    declare(ws, f"[commands]\nt = {shlex.join(show)!r}\n")
    for arg in ["--import=x", "-r", "+x", "@f", "N=1"]:
        report = await _script(ws, _caught(f"tools.run('t', {arg!r})"))
        assert report["result"].startswith("PermissionError: "), (arg, report["result"])
    plain = await _script(ws, _caught("tools.run('t', 'tests/unit')"))
    assert plain["result"] == "ran 0 ['--', 'tests/unit']\n"


def test_resume_allow_secrets_is_kept_with_the_run(ws: Path, home: Path):
    (ws / "s.py").write_text('raise ValueError("first attempt fails")\n')
    run_id = json.loads(_fanflow("run", "s.py", "--yes", "--json", cwd=ws).stdout)["run_id"]
    assert RunOptions.from_record(Journal().get_run(run_id)).allow_secrets is False
    _fanflow("resume", run_id, "--json", "--allow-secrets", cwd=ws)
    assert RunOptions.from_record(Journal().get_run(run_id)).allow_secrets is True
