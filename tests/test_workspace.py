"""The workspace: confined file tools, declared commands, the project config."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import run

from fanflow import ConfigError
from fanflow._commands import Commands
from fanflow._config import ProjectConfig, load_config
from fanflow._workspace import ToolError, Workspace

PY = shlex.quote(sys.executable)


@pytest.fixture
def ws_dir(tmp_path: Path) -> Path:
    """A workspace folder next to (not containing) an `outside` folder."""
    root = tmp_path / "ws"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("top secret\n")
    return root


@pytest.fixture
def ws(ws_dir: Path) -> Workspace:
    return Workspace(ws_dir)


def _refused(excinfo: pytest.ExceptionInfo[ToolError]) -> None:
    assert excinfo.value.kind == "PermissionError"


# path confinement ----------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["../outside/secret.txt", "a/../../outside/secret.txt", "..", "sub/.."],
)
def test_dotdot_paths_are_refused(ws, path):
    with pytest.raises(ToolError, match="leaves the workspace") as info:
        ws.read(path)
    _refused(info)


def test_absolute_path_is_refused_even_when_it_points_inside(ws, ws_dir):
    (ws_dir / "a.txt").write_text("x")
    for path in (str(ws_dir / "a.txt"), "/etc/passwd"):
        with pytest.raises(ToolError, match="leaves the workspace") as info:
            ws.read(path)
        _refused(info)


def test_home_relative_path_is_refused(ws):
    with pytest.raises(ToolError, match="leaves the workspace") as info:
        ws.read("~/.bashrc")
    _refused(info)


def test_nul_byte_in_path_is_refused(ws):
    with pytest.raises(ToolError, match="NUL") as info:
        ws.read("a.txt\x00.png")
    _refused(info)


@pytest.mark.parametrize("path", ["", "   ", None, 3])
def test_empty_or_non_string_path_is_refused(ws, path):
    with pytest.raises(ToolError, match="non-empty string"):
        ws.resolve(path)


def test_symlinked_file_pointing_outside_is_refused(ws, ws_dir):
    (ws_dir / "leak.txt").symlink_to(ws_dir.parent / "outside" / "secret.txt")
    with pytest.raises(ToolError, match="resolves outside") as info:
        ws.read("leak.txt")
    _refused(info)
    with pytest.raises(ToolError, match="resolves outside"):
        ws.write("leak.txt", "overwritten")
    assert (ws_dir.parent / "outside" / "secret.txt").read_text() == "top secret\n"


def test_symlinked_directory_pointing_outside_is_refused(ws, ws_dir):
    (ws_dir / "leakdir").symlink_to(ws_dir.parent / "outside", target_is_directory=True)
    with pytest.raises(ToolError, match="resolves outside") as info:
        ws.read("leakdir/secret.txt")
    _refused(info)
    with pytest.raises(ToolError, match="resolves outside"):
        ws.write("leakdir/new.txt", "x")
    assert not (ws_dir.parent / "outside" / "new.txt").exists()


def test_dangling_symlink_pointing_outside_cannot_be_written_through(ws, ws_dir):
    target = ws_dir.parent / "outside" / "planted.txt"
    (ws_dir / "plant.txt").symlink_to(target)
    with pytest.raises(ToolError, match="resolves outside"):
        ws.write("plant.txt", "x")
    assert not target.exists()


def test_symlink_pointing_inside_the_workspace_is_fine(ws, ws_dir):
    (ws_dir / "real.txt").write_text("real content\n")
    (ws_dir / "alias.txt").symlink_to(ws_dir / "real.txt")
    (ws_dir / "sub").mkdir()
    (ws_dir / "sub" / "deep.txt").write_text("deep\n")
    (ws_dir / "subalias").symlink_to(ws_dir / "sub", target_is_directory=True)
    assert ws.read("alias.txt") == "real content\n"
    assert ws.read("subalias/deep.txt") == "deep\n"


@pytest.mark.parametrize("path", [".git/config", ".git/hooks/pre-commit", "sub/.git/HEAD", ".git"])
def test_writes_under_dot_git_are_refused(ws, ws_dir, path):
    (ws_dir / ".git").mkdir()
    with pytest.raises(ToolError, match=r"inside \.git/") as info:
        ws.write(path, "evil")
    _refused(info)
    assert not (ws_dir / ".git" / "hooks").exists()


def test_writes_through_a_symlink_into_dot_git_are_refused(ws, ws_dir):
    (ws_dir / ".git").mkdir()
    (ws_dir / "gitlink").symlink_to(ws_dir / ".git", target_is_directory=True)
    with pytest.raises(ToolError, match=r"inside \.git/") as info:
        ws.write("gitlink/config", "evil")
    _refused(info)


def test_reads_under_dot_git_are_allowed(ws, ws_dir):
    (ws_dir / ".git").mkdir()
    (ws_dir / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    assert ws.read(".git/HEAD") == "ref: refs/heads/main\n"


# glob ------------------------------------------------------------------------------


def test_glob_returns_sorted_relative_posix_files_only(ws, ws_dir):
    for rel in ["b.txt", "a.txt", "src/z.txt", "src/deep/m.txt", "src/notes.md"]:
        (ws_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws_dir / rel).write_text(rel)
    (ws_dir / "dir.txt").mkdir()  # a directory whose name matches: not listed
    assert ws.glob("**/*.txt") == ["a.txt", "b.txt", "src/deep/m.txt", "src/z.txt"]
    assert ws.glob("*.txt") == ["a.txt", "b.txt"]
    assert ws.glob("src/*") == ["src/notes.md", "src/z.txt"]


def test_glob_skips_git_and_node_modules(ws, ws_dir):
    for rel in ["keep.js", ".git/objects/x.js", "node_modules/lib/index.js", "a/node_modules/b.js"]:
        (ws_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws_dir / rel).write_text("x")
    assert ws.glob("**/*.js") == ["keep.js"]


@pytest.mark.parametrize("pattern", ["../*", "../outside/*", "src/../../*", "/etc/*", "~/*"])
def test_glob_refuses_patterns_that_leave_the_workspace(ws, pattern):
    with pytest.raises(ToolError, match="leaves the workspace") as info:
        ws.glob(pattern)
    _refused(info)


def test_glob_refuses_an_empty_pattern(ws):
    with pytest.raises(ToolError, match="non-empty"):
        ws.glob("")


def test_glob_does_not_list_symlink_escapes(ws, ws_dir):
    (ws_dir / "mine.txt").write_text("mine")
    (ws_dir / "leak.txt").symlink_to(ws_dir.parent / "outside" / "secret.txt")
    (ws_dir / "leakdir").symlink_to(ws_dir.parent / "outside", target_is_directory=True)
    assert ws.glob("**/*.txt") == ["mine.txt"]
    assert ws.glob("*") == ["mine.txt"]
    assert ws.glob("leakdir/*") == []


def test_glob_lists_symlinks_that_stay_inside(ws, ws_dir):
    (ws_dir / "real.txt").write_text("x")
    (ws_dir / "alias.txt").symlink_to(ws_dir / "real.txt")
    assert ws.glob("*.txt") == ["alias.txt", "real.txt"]


# read --------------------------------------------------------------------------------


def test_read_returns_the_whole_text_under_the_limit(ws, ws_dir):
    (ws_dir / "a.txt").write_text("hello\nworld\n")
    assert ws.read("a.txt") == "hello\nworld\n"


def test_read_cuts_files_over_the_limit_with_a_visible_marker(ws, ws_dir):
    (ws_dir / "big.txt").write_text("x" * 100)
    text = ws.read("big.txt", limit=10)
    assert text.startswith("x" * 10 + "\n")
    assert "[... cut: 90 more characters ...]" in text
    assert text.count("x") == 10


def test_read_refuses_binary_files(ws, ws_dir):
    (ws_dir / "blob.bin").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(ToolError, match="binary"):
        ws.read("blob.bin")


@pytest.mark.parametrize("path", ["missing.txt", "nested/missing.txt"])
def test_read_of_a_missing_file_is_file_not_found(ws, path):
    with pytest.raises(ToolError, match="no file") as info:
        ws.read(path)
    assert info.value.kind == "FileNotFoundError"


def test_read_of_a_directory_is_file_not_found(ws, ws_dir):
    (ws_dir / "sub").mkdir()
    with pytest.raises(ToolError) as info:
        ws.read("sub")
    assert info.value.kind == "FileNotFoundError"


def test_read_records_the_content_hash_of_the_whole_file(ws, ws_dir):
    data = "line one\nline two\n" * 10
    (ws_dir / "src").mkdir()
    (ws_dir / "src" / "a.py").write_text(data)
    ws.read("src/a.py", limit=5)  # the hash covers the file, not the cut text
    assert ws.read_hashes == {"src/a.py": hashlib.sha256(data.encode()).hexdigest()}


def test_read_decodes_invalid_utf8_with_replacement(ws, ws_dir):
    (ws_dir / "latin.txt").write_bytes(b"caf\xe9\n")
    assert ws.read("latin.txt") == "caf\ufffd\n"


def test_read_numbered_shows_line_numbers(ws, ws_dir):
    (ws_dir / "a.py").write_text("import os\n\nprint(os.sep)\n")
    assert ws.read_numbered("a.py") == "    1  import os\n    2  \n    3  print(os.sep)"


# grep ------------------------------------------------------------------------------------


def test_grep_finds_regex_matches_with_file_and_line(ws, ws_dir):
    (ws_dir / "a.py").write_text("x = 1\nlock.acquire()\ny = 2\n")
    (ws_dir / "b.py").write_text("lock.release()\n")
    assert ws.grep(r"lock\.(acquire|release)") == [
        {"file": "a.py", "line": 2, "text": "lock.acquire()"},
        {"file": "b.py", "line": 1, "text": "lock.release()"},
    ]


def test_grep_path_glob_filters_files(ws, ws_dir):
    (ws_dir / "src").mkdir()
    (ws_dir / "src" / "a.py").write_text("TODO here\n")
    (ws_dir / "notes.md").write_text("TODO there\n")
    assert [h["file"] for h in ws.grep("TODO", "src/**/*.py")] == ["src/a.py"]
    assert [h["file"] for h in ws.grep("TODO", "*.md")] == ["notes.md"]


def test_grep_skips_binary_files(ws, ws_dir):
    (ws_dir / "blob.bin").write_bytes(b"needle\x00\x01")
    (ws_dir / "a.txt").write_text("needle\n")
    assert [h["file"] for h in ws.grep("needle")] == ["a.txt"]


def test_grep_bad_regex_is_a_tool_error(ws):
    with pytest.raises(ToolError, match="bad regular expression"):
        ws.grep("(unclosed")


def test_grep_stops_at_200_hits(ws, ws_dir):
    (ws_dir / "many.txt").write_text("hit\n" * 300)
    hits = ws.grep("hit")
    assert len(hits) == 200
    assert hits[-1]["line"] == 200


def test_grep_refuses_a_path_glob_that_leaves(ws):
    with pytest.raises(ToolError, match="leaves the workspace"):
        ws.grep("x", "../*")


# write and git_restore ----------------------------------------------------------------------


def test_write_creates_parent_directories(ws, ws_dir):
    ws.write("a/b/c.txt", "deep\n")
    assert (ws_dir / "a" / "b" / "c.txt").read_text() == "deep\n"


def test_write_replaces_existing_content(ws, ws_dir):
    (ws_dir / "a.txt").write_text("old")
    ws.write("a.txt", "new")
    assert (ws_dir / "a.txt").read_text() == "new"


@pytest.mark.parametrize("value", [b"bytes", 42, None, {"a": 1}])
def test_write_refuses_non_text(ws, ws_dir, value):
    with pytest.raises(ToolError, match="takes text") as info:
        ws.write("a.txt", value)
    assert info.value.kind == "TypeError"
    assert not (ws_dir / "a.txt").exists()


@pytest.mark.parametrize("path", ["sub", "a.txt/child.txt"])
def test_write_onto_a_directory_or_under_a_file_is_a_tool_error(ws, ws_dir, path):
    (ws_dir / "sub").mkdir()
    (ws_dir / "a.txt").write_text("x")
    with pytest.raises(ToolError):
        ws.write(path, "text")


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_git_restore_puts_back_the_committed_file(ws, ws_dir):
    _git(ws_dir, "init", "-q")
    _git(ws_dir, "config", "user.email", "test@example.com")
    _git(ws_dir, "config", "user.name", "Test")
    _git(ws_dir, "config", "commit.gpgsign", "false")
    (ws_dir / "src").mkdir()
    (ws_dir / "src" / "a.py").write_text("original\n")
    _git(ws_dir, "add", "src/a.py")
    _git(ws_dir, "commit", "-q", "-m", "init")
    ws.write("src/a.py", "broken by a migration\n")
    ws.git_restore("src/a.py")
    assert (ws_dir / "src" / "a.py").read_text() == "original\n"


def test_git_restore_refuses_paths_that_leave(ws):
    with pytest.raises(ToolError, match="leaves the workspace"):
        ws.git_restore("../outside/secret.txt")


def test_git_restore_fails_clearly_outside_a_git_repo(ws, ws_dir, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(ws_dir.parent))
    (ws_dir / "a.txt").write_text("x")
    with pytest.raises(ToolError, match=r"git_restore\('a.txt'\) failed: .*git") as info:
        ws.git_restore("a.txt")
    assert info.value.kind == "OSError"


# the workspace root ---------------------------------------------------------------------------


def test_workspace_must_exist(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        Workspace(tmp_path / "nope")


def test_workspace_must_be_a_directory(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ConfigError, match="not a directory"):
        Workspace(tmp_path / "file.txt")


def test_workspace_must_be_readable(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root can read any directory")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        with pytest.raises(ConfigError, match="not readable"):
            Workspace(locked)
    finally:
        locked.chmod(0o755)


def test_workspace_root_is_resolved(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "real", target_is_directory=True)
    ws = Workspace(tmp_path / "alias")
    assert ws.root == (tmp_path / "real").resolve()
    ws.write("x.txt", "y")
    assert (tmp_path / "real" / "x.txt").read_text() == "y"


# declared commands --------------------------------------------------------------------------------

_ECHO_ARGV = f"{PY} -c 'import json, sys; print(json.dumps(sys.argv[1:]))'"


async def test_undeclared_command_is_refused(tmp_path):
    commands = Commands(tmp_path, {"test": "pytest -q"})
    with pytest.raises(ToolError, match="'rm' is not declared") as info:
        await commands.run("rm", "-rf", "/")
    assert info.value.kind == "PermissionError"
    assert "declared: test" in str(info.value)


async def test_commands_take_args_as_argv_with_no_shell(tmp_path):
    import json

    commands = Commands(tmp_path, {"echo": _ECHO_ARGV})
    hostile = ["; rm -rf /", "$(whoami)", "`id`", "a && b", "*"]
    result = await commands.run("echo", *hostile)
    assert result["code"] == 0
    assert json.loads(result["stdout"]) == hostile


async def test_commands_run_in_the_workspace(tmp_path):
    script = "open('made-here.txt', 'w').write('x')"
    commands = Commands(tmp_path, {"touch": f"{PY} -c {shlex.quote(script)}"})
    assert (await commands.run("touch"))["code"] == 0
    assert (tmp_path / "made-here.txt").read_text() == "x"


async def test_commands_return_code_stdout_and_stderr(tmp_path):
    script = "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"
    commands = Commands(tmp_path, {"fail": f"{PY} -c {shlex.quote(script)}"})
    assert await commands.run("fail") == {"code": 3, "stdout": "out\n", "stderr": "err\n"}


async def test_command_args_must_be_strings(tmp_path):
    commands = Commands(tmp_path, {"echo": _ECHO_ARGV})
    with pytest.raises(ToolError, match="must be strings") as info:
        await commands.run("echo", 1)
    assert info.value.kind == "TypeError"


async def test_command_that_cannot_start_is_an_os_error(tmp_path):
    commands = Commands(tmp_path, {"ghost": "/nonexistent/fanflow-no-such-binary"})
    with pytest.raises(ToolError, match="could not start") as info:
        await commands.run("ghost")
    assert info.value.kind == "OSError"


async def test_command_timeout_kills_the_process(tmp_path):
    marker = tmp_path / "finished"
    script = f"import time; time.sleep(30); open({str(marker)!r}, 'w').close()"
    commands = Commands(tmp_path, {"nap": f"{PY} -c {shlex.quote(script)}"}, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(ToolError, match="timed out") as info:
        await commands.run("nap")
    assert info.value.kind == "TimeoutError"
    assert time.monotonic() - started < 10
    assert not marker.exists()


# load_config --------------------------------------------------------------------------------------


def _config(root: Path, text: str) -> Path:
    path = root / ".fanflow" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_missing_config_gives_defaults(tmp_path):
    assert load_config(tmp_path) == ProjectConfig()
    assert load_config(tmp_path).commands == {}


def test_bad_toml_is_a_config_error_naming_the_file(tmp_path):
    path = _config(tmp_path, "[commands\ntest = 'pytest'\n")
    with pytest.raises(ConfigError, match="not valid TOML") as info:
        load_config(tmp_path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    "body",
    [
        "[commands]\ntest = 42\n",
        "[commands]\ntest = ['pytest', '-q']\n",
        "[commands]\ntest = '   '\n",
        "commands = 'pytest'\n",
    ],
)
def test_commands_must_map_names_to_strings(tmp_path, body):
    path = _config(tmp_path, body)
    with pytest.raises(ConfigError, match=r"\[commands\] must map names") as info:
        load_config(tmp_path)
    assert str(path) in str(info.value)


def test_config_reads_commands_and_run_settings(tmp_path):
    _config(
        tmp_path,
        '[commands]\ntest = "pytest -q"\nlint = "ruff check"\n\n'
        "[run]\nconcurrency = 4\nmax_agents = 50\n",
    )
    config = load_config(tmp_path)
    assert config.commands == {"test": "pytest -q", "lint": "ruff check"}
    assert config.concurrency == 4
    assert config.max_agents == 50


@pytest.mark.parametrize("value", ["0", "-1", "'four'", "true", "2.5"])
def test_run_settings_must_be_positive_integers(tmp_path, value):
    _config(tmp_path, f"[run]\nconcurrency = {value}\n")
    with pytest.raises(ConfigError, match="concurrency must be a positive integer"):
        load_config(tmp_path)


# scripts use the same tools ---------------------------------------------------------------------


async def test_script_reading_outside_the_workspace_fails_the_run(tmp_path):
    report = await run('text = await tools.read("../x")\ntext\n', workspace=str(tmp_path))
    assert report["status"] == "failed"
    assert "leaves the workspace" in report["errors"][-1]["error"]
    assert "PermissionError" in report["errors"][-1]["error"]


@pytest.mark.parametrize(
    ("path", "kind", "needle"),
    [
        ("../x", "PermissionError", "leaves the workspace"),
        ("nope.txt", "FileNotFoundError", "no file 'nope.txt'"),
    ],
)
async def test_script_catches_tool_errors_as_builtin_exceptions(tmp_path, path, kind, needle):
    script = (
        "try:\n"
        f"    await tools.read({path!r})\n"
        '    outcome = "read it"\n'
        "except OSError as error:\n"
        '    outcome = type(error).__name__ + ": " + str(error)\n'
        "outcome\n"
    )
    report = await run(script, workspace=str(tmp_path))
    assert report["status"] == "succeeded"
    assert report["result"].startswith(f"{kind}: ")
    assert needle in report["result"]


@pytest.mark.parametrize(
    ("path", "kind"), [("../x", "PermissionError"), ("nope.txt", "FileNotFoundError")]
)
async def test_script_can_catch_tool_errors_by_their_builtin_name(tmp_path, path, kind):
    script = (
        "try:\n"
        f"    await tools.read({path!r})\n"
        '    outcome = "read it"\n'
        f"except {kind}:\n"
        '    outcome = "caught"\n'
        "outcome\n"
    )
    report = await run(script, workspace=str(tmp_path))
    assert report["result"] == "caught"


async def test_script_writes_and_globs_workspace_files(tmp_path):
    script = (
        'await tools.write("a/b.txt", "hi")\n'
        'found = await tools.glob("**/*.txt")\n'
        'text = await tools.read("a/b.txt")\n'
        "[found, text]\n"
    )
    report = await run(script, workspace=str(tmp_path))
    assert report["status"] == "succeeded"
    assert report["result"] == [["a/b.txt"], "hi"]
    assert (tmp_path / "a" / "b.txt").read_text() == "hi"


async def test_script_write_under_git_is_refused(tmp_path):
    (tmp_path / ".git").mkdir()
    report = await run('await tools.write(".git/config", "evil")\n', workspace=str(tmp_path))
    assert report["status"] == "failed"
    assert "inside .git/" in report["errors"][-1]["error"]
    assert not (tmp_path / ".git" / "config").exists()


async def test_script_runs_a_declared_command(tmp_path):
    _config(tmp_path, f"[commands]\necho = '''{_ECHO_ARGV}'''\n")
    script = 'out = await tools.run("echo", "$(whoami)")\n[out["code"], out["stdout"]]\n'
    report = await run(script, workspace=str(tmp_path))
    assert report["status"] == "succeeded", report["errors"]
    assert report["result"] == [0, '["$(whoami)"]\n']


async def test_script_undeclared_command_is_a_permission_error(tmp_path):
    script = (
        "try:\n"
        '    await tools.run("rm", "-rf", "/")\n'
        '    outcome = "ran"\n'
        "except OSError as error:\n"
        '    outcome = type(error).__name__ + ": " + str(error)\n'
        "outcome\n"
    )
    report = await run(script, workspace=str(tmp_path))
    assert report["result"].startswith("PermissionError: ")
    assert "not declared" in report["result"]


async def test_commands_in_flight_are_bounded_by_the_host(tmp_path):
    """A script can start any number of units at once; processes stay within the cap."""
    # each process holds a lock file while it runs; the most seen at once is the peak
    script = (
        "import os, time, glob; p = f'running-{os.getpid()}'; open(p, 'w').close(); "
        "time.sleep(0.3); n = len(glob.glob('running-*')); os.remove(p); print(n)"
    )
    commands = Commands(tmp_path, {"work": f"{PY} -c {shlex.quote(script)}"}, concurrency=2)
    results = await asyncio.gather(*(commands.run("work") for _ in range(6)))
    assert max(int(r["stdout"]) for r in results) <= 2
