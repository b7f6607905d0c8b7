"""Issue 14, workspace classes: planted links, git pathspecs, case tricks, protected
config, stalls in glob/grep/read, and reads of huge files.

Every attack is tried as a class, with several variants, and proven by state
(files outside unchanged, counts of entries visited or bytes read, whether the
event loop ran while a tool was busy), never by a clock.
"""

from __future__ import annotations

import asyncio
import os
import re
import stat
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from helpers import run

from fanflow import FunctionModel, ModelRequest, ModelResponse, ToolCall, _fileio, _walk
from fanflow import _workspace as workspace_module
from fanflow._permissions import is_secret_path
from fanflow._workspace import ToolError, Workspace

OUTSIDE = "OUTSIDE-CANARY-7a1e\n"


@pytest.fixture
def box(tmp_path: Path) -> tuple[Path, Path]:
    """(workspace, outside): an outside folder with a canary file next to the workspace."""
    ws, outside = tmp_path / "ws", tmp_path / "outside"
    ws.mkdir()
    outside.mkdir()
    (outside / "canary.txt").write_text(OUTSIDE)
    (outside / "canary.txt").chmod(0o600)
    return ws, outside


def _state(where: Path) -> dict[str, Any]:
    """Every entry under `where`: bytes and mode of files, a symlink's target, never followed."""
    seen: dict[str, Any] = {}
    for dirpath, dirnames, filenames in os.walk(where):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                seen[str(path.relative_to(where))] = ("link", os.readlink(path))
            elif stat.S_ISREG(info.st_mode):
                seen[str(path.relative_to(where))] = (path.read_bytes(), info.st_mode)
            else:
                seen[str(path.relative_to(where))] = ("dir", info.st_mode)
    return seen


# -- class 2: writes through links planted at temp names -----------------------------------------


def _plant(kind: str, at: Path, outside: Path) -> None:
    if kind == "symlink":
        at.symlink_to(outside / "canary.txt")
    elif kind == "hardlink":
        os.link(outside / "canary.txt", at)
    elif kind == "dangling":
        at.symlink_to(outside / "new-file.txt")
    else:
        at.mkdir()


@pytest.mark.parametrize("kind", ["symlink", "hardlink", "dangling", "directory"])
def test_a_link_at_the_old_predictable_temp_name_is_never_written(box, kind):
    ws_dir, outside = box
    (ws_dir / "a.txt").write_text("old\n")
    _plant(kind, ws_dir / f".a.txt.fanflow-{os.getpid()}.tmp", outside)
    before = _state(outside)
    Workspace(ws_dir).write("a.txt", "new\n")
    assert (ws_dir / "a.txt").read_text() == "new\n"
    assert _state(outside) == before  # neither content nor mode (no chmod through the link)
    assert not (outside / "new-file.txt").exists()


@pytest.mark.parametrize("kind", ["symlink", "hardlink", "dangling", "directory"])
def test_a_link_planted_at_the_random_temp_name_is_never_opened(box, monkeypatch, kind):
    """The attacker guessed the next two random names: both are skipped, never opened."""
    ws_dir, outside = box
    names = iter(["guessed01", "guessed02", "free0003"])
    monkeypatch.setattr(_fileio.secrets, "token_hex", lambda n: next(names))
    for guess in ("guessed01", "guessed02"):
        _plant(kind, ws_dir / f".fanflow-{guess}.tmp", outside)
    before = _state(outside)
    Workspace(ws_dir).write("b.txt", "mine\n")
    assert (ws_dir / "b.txt").read_text() == "mine\n"
    assert _state(outside) == before
    assert not (ws_dir / ".fanflow-free0003.tmp").exists()  # renamed, not left behind


def test_when_every_temp_name_is_taken_the_write_fails_cleanly(box, monkeypatch):
    ws_dir, outside = box
    monkeypatch.setattr(_fileio.secrets, "token_hex", lambda n: "always")
    _plant("symlink", ws_dir / ".fanflow-always.tmp", outside)
    before = _state(outside)
    with pytest.raises(ToolError, match=r"cannot write 'c\.txt'"):
        Workspace(ws_dir).write("c.txt", "x")
    assert _state(outside) == before
    assert not (ws_dir / "c.txt").exists()


def test_a_symlink_planted_mid_way_while_parents_are_made_is_not_walked(box, monkeypatch):
    """Between `mkdir a` and entering it, `a` is swapped for a symlink out: refused."""
    ws_dir, outside = box
    real_mkdir = os.mkdir

    def mkdir_then_swap(name, mode=0o777, *, dir_fd=None):
        real_mkdir(name, mode, dir_fd=dir_fd)
        if name == "a":
            os.rmdir(name, dir_fd=dir_fd)
            os.symlink(str(outside), name, dir_fd=dir_fd)

    monkeypatch.setattr(_fileio.os, "mkdir", mkdir_then_swap)
    before = _state(outside)
    with pytest.raises(ToolError, match="changed while it was being written") as info:
        Workspace(ws_dir).write("a/b/new.txt", "pwned")
    assert info.value.kind == "PermissionError"
    assert _state(outside) == before


@pytest.mark.parametrize("swap", ["parent", "target"])
def test_a_path_swapped_out_before_the_rename_is_refused(box, monkeypatch, swap):
    """The temp file is written, then the parent (or the name) is pointed outside: the
    real path is checked again right before the rename, so nothing lands outside."""
    ws_dir, outside = box
    (ws_dir / "sub").mkdir()
    (ws_dir / "sub" / "t.txt").write_text("old\n")
    real_write = os.write

    def write_then_swap(fd, data):
        written = real_write(fd, data)
        if swap == "parent" and (ws_dir / "sub").is_dir():
            (ws_dir / "sub").rename(ws_dir / "moved")
            (ws_dir / "sub").symlink_to(outside, target_is_directory=True)
        elif swap == "target" and not (ws_dir / "sub" / "t.txt").is_symlink():
            (ws_dir / "sub" / "t.txt").unlink()
            (ws_dir / "sub" / "t.txt").symlink_to(outside / "canary.txt")
        return written

    monkeypatch.setattr(_fileio.os, "write", write_then_swap)
    before = _state(outside)
    with pytest.raises(ToolError) as info:
        Workspace(ws_dir).write("sub/t.txt", "pwned\n")
    assert info.value.kind == "PermissionError"
    assert _state(outside) == before
    leftovers = [p.name for p in ws_dir.rglob(".fanflow-*.tmp")]
    assert leftovers == []


def test_a_hard_linked_target_is_replaced_not_written_through(box):
    ws_dir, outside = box
    os.link(outside / "canary.txt", ws_dir / "linked.txt")
    assert (ws_dir / "linked.txt").stat().st_nlink == 2
    before = _state(outside)
    Workspace(ws_dir).write("linked.txt", "replaced\n")
    assert (ws_dir / "linked.txt").read_text() == "replaced\n"
    assert (ws_dir / "linked.txt").stat().st_nlink == 1
    assert _state(outside) == before


def test_a_private_file_stays_private_and_a_new_file_gets_the_umask(box):
    ws_dir, _ = box
    (ws_dir / "private.txt").write_text("x")
    (ws_dir / "private.txt").chmod(0o600)
    ws = Workspace(ws_dir)
    ws.write("private.txt", "still private")
    assert stat.S_IMODE((ws_dir / "private.txt").stat().st_mode) == 0o600
    old = os.umask(0o027)
    try:
        ws.write("fresh.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((ws_dir / "fresh.txt").stat().st_mode) == 0o640


def test_set_id_bits_are_not_copied_to_the_new_file(box):
    ws_dir, _ = box
    (ws_dir / "tool.sh").write_text("#!/bin/sh\n")
    (ws_dir / "tool.sh").chmod(0o4755)
    Workspace(ws_dir).write("tool.sh", "#!/bin/sh\necho hi\n")
    assert stat.S_IMODE((ws_dir / "tool.sh").stat().st_mode) == 0o755


async def test_a_script_write_over_a_planted_temp_link_leaves_outside_alone(box):
    ws_dir, outside = box
    (ws_dir / "a.txt").write_text("old\n")
    _plant("symlink", ws_dir / f".a.txt.fanflow-{os.getpid()}.tmp", outside)
    before = _state(outside)
    report = await run("await tools.write('a.txt', 'pwned')\n'ok'", workspace=str(ws_dir))
    assert report["status"] == "succeeded", report["errors"]
    assert _state(outside) == before


# -- class 9: git_restore takes one literal, tracked path --------------------------------------


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout


@pytest.fixture
def repo(box) -> Path:
    ws_dir, _ = box
    _git(ws_dir, "init", "-q")
    _git(ws_dir, "config", "user.email", "t@example.com")
    _git(ws_dir, "config", "user.name", "T")
    _git(ws_dir, "config", "commit.gpgsign", "false")
    for rel in ("a.txt", "b.txt", "src/c.py", "certs/site.pem", "[a].txt", ".fanflow/config.toml"):
        (ws_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws_dir / rel).write_text(f"# committed {rel}\n")
    (ws_dir / ".claude" / "agents").mkdir(parents=True)
    (ws_dir / ".claude" / "agents" / "x.md").write_text("committed agent\n")
    _git(ws_dir, "add", "-A")
    _git(ws_dir, "commit", "-q", "-m", "init")
    for rel in ("a.txt", "b.txt", "src/c.py", "certs/site.pem", ".fanflow/config.toml"):
        (ws_dir / rel).write_text(f"# uncommitted work in {rel}\n")
    (ws_dir / ".claude" / "agents" / "x.md").write_text("uncommitted agent\n")
    return ws_dir


def _worktree(ws_dir: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(ws_dir)): p.read_bytes()
        for p in ws_dir.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(ws_dir).parts
    }


@pytest.mark.parametrize(
    ("path", "needle"),
    [
        ("*", "no file git tracks"),
        ("*.txt", "no file git tracks"),
        ("*.pe?", "no file git tracks"),
        ("certs/*", "no file git tracks"),
        ("?.txt", "no file git tracks"),
        ("[ab].txt", "no file git tracks"),
        (":(glob)**", "no file git tracks"),
        (":(top)a.txt", "no file git tracks"),
        (":/", "no file git tracks"),
        ("src", "a directory"),
        (".", "a directory"),
        ("src/", "a directory"),
        ("untracked.txt", "no file git tracks"),
        ("certs/site.pem", "secrets file"),
        ("certs/site.PEM", "secrets file"),
        (".fanflow/config.toml", "inside .fanflow/"),
        (".FANFLOW/config.toml", "inside .fanflow/"),
        (".claude/agents/x.md", "inside .claude/"),
        (".Claude/agents/x.md", "inside .claude/"),
        (".git/config", "inside .git/"),
        (".GIT/config", "inside .git/"),
    ],
)
def test_git_restore_never_matches_more_than_the_literal_path(repo, path, needle):
    before = _worktree(repo)
    with pytest.raises(ToolError, match=re.escape(needle)):
        Workspace(repo).git_restore(path)
    assert _worktree(repo) == before  # every uncommitted change is still there


def test_git_restore_restores_exactly_the_one_file(repo):
    before = _worktree(repo)
    Workspace(repo).git_restore("a.txt")
    after = _worktree(repo)
    assert after["a.txt"] == b"# committed a.txt\n"
    del before["a.txt"], after["a.txt"]
    assert after == before


def test_a_file_literally_named_like_a_glob_restores_only_itself(repo):
    (repo / "[a].txt").write_text("changed\n")
    before = _worktree(repo)
    Workspace(repo).git_restore("[a].txt")
    after = _worktree(repo)
    assert after.pop("[a].txt") == b"# committed [a].txt\n"
    before.pop("[a].txt")
    assert after == before  # a.txt (which `[a].txt` matches as a glob) kept its changes


def test_git_restore_ignores_a_glob_pathspec_environment(repo, monkeypatch):
    monkeypatch.setenv("GIT_GLOB_PATHSPECS", "1")
    before = _worktree(repo)
    with pytest.raises(ToolError):
        Workspace(repo).git_restore("*.txt")
    assert _worktree(repo) == before


async def test_git_restore_of_a_wildcard_from_a_script_keeps_every_change(repo):
    before = _worktree(repo)
    report = await run(
        "out = []\nfor p in ['*', '*.pe?', 'src', '.fanflow/config.toml']:\n"
        "    try:\n        await tools.git_restore(p)\n        out.append('restored')\n"
        "    except OSError as e:\n        out.append(type(e).__name__)\nout",
        workspace=str(repo),
    )
    assert report["status"] == "succeeded", report["errors"]
    assert "restored" not in report["result"]
    assert _worktree(repo) == before


# -- class 12: protected names match in any case ---------------------------------------------


SECRET_VARIANTS = [
    ".Env",
    ".ENV",
    ".env.LOCAL",
    ".Env.Production",
    "ID_RSA",
    "Id_Rsa.pub",
    "deploy/ID_ED25519",
    ".NPMRC",
    ".PyPiRc",
    ".NETRC",
    "x.PEM",
    "certs/Site.Pem",
    "server.KEY",
    "CREDENTIALS",
    "aws/Credentials.json",
    "store.KEYSTORE",
    ".Git-Credentials",
    ".env.",  # Windows drops trailing dots and spaces
    ".env ",
    "x.pem.",
]


@pytest.mark.parametrize("path", SECRET_VARIANTS)
def test_secret_names_match_in_any_case(box, path):
    ws_dir, _ = box
    (ws_dir / path).parent.mkdir(parents=True, exist_ok=True)
    (ws_dir / path).write_text("SECRET-VALUE-8c1d\n")
    ws = Workspace(ws_dir)
    assert is_secret_path(path)  # the permission layer's check, too
    with pytest.raises(ToolError, match="secrets file"):
        ws.read(path)
    with pytest.raises(ToolError, match="secrets file"):
        ws.write(path, "overwritten")
    assert path.rstrip(" .") not in ws.glob("**/*") and path not in ws.glob("**/*")
    assert ws.grep("SECRET-VALUE") == []
    assert (ws_dir / path).read_text() == "SECRET-VALUE-8c1d\n"


@pytest.mark.parametrize("path", ["env.ts", "README.md", "keys.ts", "pem.txt", "id.rsa.md"])
def test_ordinary_names_are_not_secrets_in_any_case(path):
    assert not is_secret_path(path.upper())


@pytest.mark.parametrize(
    "path",
    [
        ".GIT/hooks/post-checkout",
        ".Git/config",
        "sub/.GiT/HEAD",
        ".git./config",  # Windows drops the trailing dot
        ".git /config",
        ".g\u200cit/config",  # HFS+ ignores zero-width joiners
        "GIT~1/config",  # the 8.3 short name of .git
        ".GIT",
    ],
)
def test_dot_git_is_protected_in_any_case_and_spelling(box, path):
    ws_dir, _ = box
    with pytest.raises(ToolError, match=r"inside \.git/") as info:
        Workspace(ws_dir).write(path, "evil")
    assert info.value.kind == "PermissionError"
    assert list(ws_dir.iterdir()) == []


def test_glob_and_grep_skip_dot_git_in_any_case(box):
    ws_dir, _ = box
    for rel in (".GIT/objects/x.txt", ".Git/y.txt", "keep.txt"):
        (ws_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws_dir / rel).write_text("needle\n")
    ws = Workspace(ws_dir)
    assert ws.glob("**/*.txt") == ["keep.txt"]
    assert [h["file"] for h in ws.grep("needle")] == ["keep.txt"]


# -- class 4: .fanflow/ and .claude/ are protected like .git/ -------------------------------------


PROTECTED_WRITES = [
    (".fanflow/config.toml", ".fanflow"),
    (".FANFLOW/config.toml", ".fanflow"),
    (".FanFlow/agents/evil.md", ".fanflow"),
    (".fanflow", ".fanflow"),
    ("sub/.fanflow/config.toml", ".fanflow"),
    (".claude/agents/x.md", ".claude"),
    (".Claude/agents/x.md", ".claude"),
    (".CLAUDE/settings.json", ".claude"),
    (".claude./agents/x.md", ".claude"),
]


@pytest.mark.parametrize(("path", "found"), PROTECTED_WRITES)
def test_fanflow_and_claude_config_cannot_be_written(box, path, found):
    ws_dir, _ = box
    (ws_dir / ".fanflow").mkdir()
    (ws_dir / ".fanflow" / "config.toml").write_text("[commands]\n")
    before = _state(ws_dir)
    with pytest.raises(ToolError, match=f"inside \\{found}/") as info:
        Workspace(ws_dir).write(path, "[permissions]\nallow_secrets = true\n")
    assert info.value.kind == "PermissionError"
    assert _state(ws_dir) == before


def test_a_symlink_into_the_config_is_no_way_in(box):
    ws_dir, _ = box
    (ws_dir / ".fanflow").mkdir()
    (ws_dir / ".fanflow" / "config.toml").write_text("[commands]\n")
    (ws_dir / "cfg").symlink_to(ws_dir / ".fanflow", target_is_directory=True)
    (ws_dir / "conf.toml").symlink_to(ws_dir / ".fanflow" / "config.toml")
    ws = Workspace(ws_dir)
    for path in ("cfg/config.toml", "conf.toml"):
        with pytest.raises(ToolError, match=r"inside \.fanflow/"):
            ws.write(path, "pwned")
    assert (ws_dir / ".fanflow" / "config.toml").read_text() == "[commands]\n"


def test_a_config_dir_that_is_itself_a_symlink_protects_its_target(box):
    ws_dir, _ = box
    (ws_dir / "settings").mkdir()
    (ws_dir / "settings" / "config.toml").write_text("[commands]\n")
    (ws_dir / ".fanflow").symlink_to(ws_dir / "settings", target_is_directory=True)
    with pytest.raises(ToolError, match=r"inside \.fanflow/"):
        Workspace(ws_dir).write("settings/config.toml", "pwned")
    assert (ws_dir / "settings" / "config.toml").read_text() == "[commands]\n"


def test_the_config_can_still_be_read(box):
    ws_dir, _ = box
    (ws_dir / ".fanflow" / "agents").mkdir(parents=True)
    (ws_dir / ".fanflow" / "config.toml").write_text("[commands]\n")
    (ws_dir / ".claude").mkdir()
    (ws_dir / ".claude" / "notes.md").write_text("hello\n")
    (ws_dir / ".claude" / ".env").write_text("K=1\n")
    ws = Workspace(ws_dir)
    assert ws.read(".fanflow/config.toml") == "[commands]\n"
    assert ws.read(".claude/notes.md") == "hello\n"
    with pytest.raises(ToolError, match="secrets file"):
        ws.read(".claude/.env")


class Caller:
    """Asks for the given tool calls on its first turn, then answers with what came back."""

    def __init__(self, *calls: tuple[str, dict[str, Any]]) -> None:
        self.calls = calls

    def __call__(self, req: ModelRequest) -> ModelResponse:
        results = [r for m in req.messages for r in m.tool_results]
        if not results:
            return ModelResponse(
                tool_calls=[ToolCall(f"c{i}", n, a) for i, (n, a) in enumerate(self.calls)]
            )
        return ModelResponse(text=repr([(r.is_error, r.content[:200]) for r in results]))


async def test_an_agent_cannot_raise_its_own_rights_through_the_config(box):
    ws_dir, _ = box
    (ws_dir / ".fanflow").mkdir()
    (ws_dir / ".fanflow" / "config.toml").write_text("[commands]\n")
    evil = '[permissions]\nallow_secrets = true\n[commands]\nsh = "sh -c"\n'
    calls = [("write", {"path": p, "text": evil}) for p, _ in PROTECTED_WRITES]
    before = _state(ws_dir)
    report = await run(
        "await spawn('general', 'go', tools=['write'])",
        model=FunctionModel(Caller(*calls)),
        workspace=str(ws_dir),
    )
    assert report["status"] == "succeeded", report["errors"]
    assert report["result"].count("(True, ") == len(calls)
    assert "(False, " not in report["result"]
    assert _state(ws_dir) == before


# -- class 5: bounded glob, linear grep, tools off the event loop ---------------------------------


def _deep(root: Path, depth: int) -> Path:
    path = root
    for _ in range(depth):
        path = path / "d"
    path.mkdir(parents=True)
    (path / "leaf.txt").write_text("leaf\n")
    return path


class CountingScandir:
    def __init__(self) -> None:
        self.calls = 0
        self.real = os.scandir

    def __call__(self, where: Any) -> Any:
        self.calls += 1
        return self.real(where)


@pytest.mark.parametrize(
    "pattern",
    ["**/**/**/**/**/**/*", "**/*/**/*/**/*/**/*", "**/d/**/d/**/d/**/leaf.txt", "d/**/**/**/*"],
)
def test_many_double_stars_walk_the_tree_once(box, monkeypatch, pattern):
    ws_dir, _ = box
    _deep(ws_dir, 30)
    scandir = CountingScandir()
    monkeypatch.setattr(_walk.os, "scandir", scandir)
    found = Workspace(ws_dir).glob(pattern)
    assert found == ["/".join(["d"] * 30 + ["leaf.txt"])]
    assert scandir.calls <= 31  # each directory listed once: no re-walk per `**`


def test_a_glob_without_double_star_looks_no_deeper_than_its_segments(box, monkeypatch):
    ws_dir, _ = box
    _deep(ws_dir, 30)
    (ws_dir / "top.txt").write_text("x")
    scandir = CountingScandir()
    monkeypatch.setattr(_walk.os, "scandir", scandir)
    assert Workspace(ws_dir).glob("*/*.txt") == []
    assert Workspace(ws_dir).glob("*.txt") == ["top.txt"]
    assert scandir.calls == 3  # root and d for the first, root for the second


def test_a_glob_past_the_entry_limit_fails_with_one_line(box, monkeypatch):
    ws_dir, _ = box
    for i in range(60):
        (ws_dir / f"f{i}.txt").write_text("x")
    monkeypatch.setattr(_walk, "WALK_ENTRY_LIMIT", 50)
    with pytest.raises(ToolError, match=r"stopped after 50 workspace entries; narrow it") as info:
        Workspace(ws_dir).glob("**/*")
    assert "\n" not in str(info.value)


def test_a_glob_past_the_depth_limit_fails_with_one_line(box):
    ws_dir, _ = box
    _deep(ws_dir, _walk.WALK_DEPTH_LIMIT + 5)
    with pytest.raises(ToolError, match=f"nest more than {_walk.WALK_DEPTH_LIMIT} deep"):
        Workspace(ws_dir).glob("**/*")


def test_glob_never_descends_a_directory_symlink_loop(box, monkeypatch):
    ws_dir, _ = box
    (ws_dir / "a").mkdir()
    (ws_dir / "a" / "x.txt").write_text("x")
    (ws_dir / "a" / "loop").symlink_to(ws_dir, target_is_directory=True)
    (ws_dir / "self").symlink_to(".", target_is_directory=True)
    scandir = CountingScandir()
    monkeypatch.setattr(_walk.os, "scandir", scandir)
    assert Workspace(ws_dir).glob("**/*") == ["a/x.txt"]
    assert scandir.calls == 2


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("**/*.py", ["m.py", "src/a.py", "src/deep/b.py"]),
        ("src/*.py", ["src/a.py"]),
        ("src/**", ["src/a.py", "src/deep/b.py", "src/n.md"]),
        ("src/**/*.py", ["src/a.py", "src/deep/b.py"]),
        ("?.py", ["m.py"]),
        ("[lm].py", ["m.py"]),
        ("[!m].py", []),
        ("src/[a-b].py", ["src/a.py"]),
        ("*.[", []),
        ("**/.hidden", [".hidden"]),
        ("./src/*.md", ["src/n.md"]),
    ],
)
def test_glob_still_means_what_pathlib_globs_mean(box, pattern, expected):
    ws_dir, _ = box
    for rel in ("m.py", "src/a.py", "src/deep/b.py", "src/n.md", ".hidden"):
        (ws_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws_dir / rel).write_text("x")
    assert Workspace(ws_dir).glob(pattern) == expected


@pytest.mark.parametrize(
    "pattern",
    ["((a)+)+$", "(a|a)+$", "(a?){25}a{25}", "(a+)+$", "(\\w*)*$", "(a|aa)+$", "((a*)*)*b"],
)
def test_catastrophic_grep_patterns_run_in_linear_time(box, pattern):
    """Each of these takes exponential time in Python's `re` on this line; RE2 answers."""
    ws_dir, _ = box
    (ws_dir / "redos.txt").write_text("a" * 5000 + "!\n" + "a" * 30 + "\n")
    hits = Workspace(ws_dir).grep(pattern, "redos.txt")
    assert all(h["file"] == "redos.txt" for h in hits)


@pytest.mark.parametrize(
    ("pattern", "feature"),
    [
        ("(a)\\1", "backreferences"),
        ("(?P<x>a)(?P=x)", "backreferences"),
        ("(?=a)a", "lookahead"),
        ("a(?!b)", "lookahead"),
        ("(?<=a)b", "lookbehind"),
        ("(?<!a)b", "lookbehind"),
        ("(?>a+)b", "atomic groups"),
        ("a++b", "possessive repeats"),
    ],
)
def test_patterns_re2_cannot_run_get_one_line_naming_the_feature(box, pattern, feature):
    ws_dir, _ = box
    (ws_dir / "a.txt").write_text("ab\n")
    with pytest.raises(ToolError, match=f"bad regular expression .*no {feature}") as info:
        Workspace(ws_dir).grep(pattern)
    assert "\n" not in str(info.value)


def test_an_overlong_grep_pattern_is_refused(box):
    ws_dir, _ = box
    with pytest.raises(ToolError, match="the limit is"):
        Workspace(ws_dir).grep("a" * 5000)


async def _busy(ws: Workspace, monkeypatch, call) -> bool:
    """Whether the event loop ran while `call` was inside its first file operation.

    The file operation waits (up to 10 s) for an event only the loop sets; run on the
    loop, it would block the loop and the wait would fail.
    """
    gate, seen = threading.Event(), []
    real = _fileio.os.open

    def gated_open(*args: Any, **kwargs: Any) -> int:
        if not seen:
            seen.append(gate.wait(10))
        return real(*args, **kwargs)

    async def opener() -> None:
        await asyncio.sleep(0)
        gate.set()

    monkeypatch.setattr(_fileio.os, "open", gated_open)
    monkeypatch.setattr(_walk.os, "open", gated_open)
    await asyncio.gather(call(), opener())
    monkeypatch.undo()
    return seen == [True]


@pytest.mark.parametrize("tool", ["read", "grep", "glob", "write", "git_restore"])
async def test_tool_file_work_runs_off_the_event_loop(repo, monkeypatch, tool):
    ws = Workspace(repo)
    calls = {
        "read": lambda: ws.aread("a.txt"),
        "grep": lambda: ws.agrep("work"),
        "glob": lambda: ws.aglob("**/*.txt"),
        "write": lambda: ws.awrite("new.txt", "x"),
        "git_restore": lambda: ws.agit_restore("b.txt"),
    }
    if tool == "git_restore":  # its work is the git process, waited on in the pool
        real = workspace_module._git.restore
        gate = threading.Event()

        def gated(*args: Any) -> None:
            assert gate.wait(10), "the loop did not run while git_restore was busy"
            real(*args)

        monkeypatch.setattr(workspace_module._git, "restore", gated)

        async def opener() -> None:
            await asyncio.sleep(0)
            gate.set()

        await asyncio.gather(calls[tool](), opener())
        assert (repo / "b.txt").read_text() == "# committed b.txt\n"
        return
    assert await _busy(ws, monkeypatch, calls[tool])


async def test_a_grep_over_fifteen_thousand_files_leaves_the_loop_free(box):
    ws_dir, _ = box
    for d in range(30):
        folder = ws_dir / f"dir{d}"
        folder.mkdir()
        for f in range(500):
            (folder / f"f{f}.txt").write_text(f"file {d}/{f}\n")
    (ws_dir / "dir29" / "f499.txt").write_text("the needle\n")
    ws = Workspace(ws_dir)
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    async def search() -> list:
        try:
            return await ws.agrep("needle")
        finally:
            done.set()

    hits, _ = await asyncio.gather(search(), ticker())
    assert hits == [{"file": "dir29/f499.txt", "line": 1, "text": "the needle"}]
    assert len(ws.read_hashes) == 15_000  # every file was scanned
    assert ticks > 1


def test_grep_stops_with_one_line_past_its_file_and_byte_bounds(box, monkeypatch):
    ws_dir, _ = box
    for i in range(20):
        (ws_dir / f"f{i}.txt").write_text("x" * 1000 + "\n")
    ws = Workspace(ws_dir)
    monkeypatch.setattr(workspace_module, "GREP_FILE_LIMIT", 10)
    with pytest.raises(ToolError, match="would open 20 files"):
        ws.grep("nothing")
    monkeypatch.setattr(workspace_module, "GREP_FILE_LIMIT", 100)
    monkeypatch.setattr(workspace_module, "GREP_BYTES_LIMIT", 5_000)
    with pytest.raises(ToolError, match="narrow it with path_glob"):
        ws.grep("nothing")


async def test_a_script_grep_with_a_catastrophic_pattern_finishes(box):
    ws_dir, _ = box
    (ws_dir / "redos.txt").write_text("a" * 5000 + "!\n")
    report = await run(
        "[len(await tools.grep(p, 'redos.txt')) for p in ['((a)+)+$', '(a|a)+$', '(a?){25}a{25}']]",
        workspace=str(ws_dir),
    )
    assert report["status"] == "succeeded", report["errors"]
    assert report["result"] == [0, 0, 1]


# -- class 10: a huge file is sized before it is read ----------------------------------------------


class CountingRead:
    def __init__(self) -> None:
        self.bytes = 0
        self.real_read, self.real_pread = os.read, os.pread

    def read(self, fd: int, n: int) -> bytes:
        data = self.real_read(fd, n)
        self.bytes += len(data)
        return data

    def pread(self, fd: int, n: int, offset: int) -> bytes:
        data = self.real_pread(fd, n, offset)
        self.bytes += len(data)
        return data


def _count_reads(monkeypatch) -> CountingRead:
    counter = CountingRead()
    monkeypatch.setattr(_fileio.os, "read", counter.read)
    monkeypatch.setattr(_fileio.os, "pread", counter.pread)
    return counter


def test_a_sparse_binary_file_is_refused_after_its_first_bytes(box, monkeypatch):
    ws_dir, _ = box
    with open(ws_dir / "huge.bin", "wb") as file:
        file.truncate(3 << 30)
    counter = _count_reads(monkeypatch)
    with pytest.raises(ToolError, match="binary"):
        Workspace(ws_dir).read("huge.bin")
    assert counter.bytes <= _fileio.BINARY_PROBE


@pytest.mark.parametrize("agent", [False, True])
def test_a_sparse_text_file_is_read_only_up_to_the_limit(box, monkeypatch, agent):
    ws_dir, _ = box
    with open(ws_dir / "huge.txt", "wb") as file:
        file.write(b"line of text\n" * 1000)
        file.truncate(3 << 30)  # then 3 GB of zeros, past the binary probe
    counter = _count_reads(monkeypatch)
    ws = Workspace(ws_dir)
    text = ws.read_numbered("huge.txt") if agent else ws.read("huge.txt")
    limit = workspace_module.AGENT_READ_LIMIT_CHARS if agent else workspace_module.READ_LIMIT_CHARS
    assert counter.bytes <= max(limit * 4 + 4, 1 << 20) + (1 << 20)
    shown = text.rsplit("\n[... cut: ", 1)[0]
    assert text.endswith(" more bytes ...]")
    more = int(text.rsplit("cut: ", 1)[1].split()[0])
    if not agent:
        assert more == (3 << 30) - len(shown.encode())
    assert more > (3 << 30) - limit - 1
    assert "huge.txt" in ws.read_hashes


def test_a_file_just_over_the_limit_still_counts_characters(box):
    ws_dir, _ = box
    (ws_dir / "big.txt").write_text("é" * 120)
    assert (
        Workspace(ws_dir).read("big.txt", limit=100).endswith("[... cut: 20 more characters ...]")
    )


def test_a_fifo_is_not_a_file_and_never_blocks(box):
    ws_dir, _ = box
    os.mkfifo(ws_dir / "pipe.txt")
    ws = Workspace(ws_dir)
    with pytest.raises(ToolError, match="no file") as info:
        ws.read("pipe.txt")
    assert info.value.kind == "FileNotFoundError"
    assert ws.glob("*") == []
    assert ws.grep("x") == []


def test_a_big_files_hash_is_the_same_from_read_grep_and_resume(box):
    ws_dir, _ = box
    with open(ws_dir / "huge.txt", "wb") as file:
        file.write(b"head\n" * 2000)  # text past the binary probe, then zeros
        file.truncate(_fileio.FULL_HASH_LIMIT + 10)
    ws = Workspace(ws_dir)
    ws.read("huge.txt")
    read_digest = ws.read_hashes["huge.txt"]
    ws.read_hashes.clear()
    ws.grep("head", "huge.txt")
    assert ws.read_hashes == {"huge.txt": read_digest}
    assert ws.changed_since({"huge.txt": read_digest}) == []
    with open(ws_dir / "huge.txt", "r+b") as file:
        file.write(b"HEAD")
    assert ws.changed_since({"huge.txt": read_digest}) == ["huge.txt"]
