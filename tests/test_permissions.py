"""Permission modes, enforced on the host for scripts and agents alike."""

from __future__ import annotations

import json

import pytest
from helpers import run

from fanflow import ConfigError, FunctionModel, ModelResponse, ToolCall
from fanflow._journal import Journal
from fanflow._permissions import is_secret_path


def writer(path: str, text: str = "x"):
    """A model that asks to write `path`, then answers with what the tool said."""

    def reply(req):
        results = [r for m in req.messages for r in m.tool_results]
        if results:
            return ModelResponse(text=json.dumps({"tool": results[-1].content}))
        return ModelResponse(tool_calls=[ToolCall("c1", "write", {"path": path, "text": text})])

    return FunctionModel(reply, name="fake")


@pytest.mark.parametrize(
    "path",
    [".env", ".env.local", "deploy/id_rsa", "certs/site.pem", ".npmrc", "aws/credentials", "k.key"],
)
def test_secret_paths(path):
    assert is_secret_path(path)


@pytest.mark.parametrize("path", ["src/env.ts", "README.md", "keys.ts", "environment.py"])
def test_ordinary_paths(path):
    assert not is_secret_path(path)


async def test_auto_blocks_secrets_write_from_a_script(tmp_path):
    journal = Journal()
    script = (
        "try:\n    await tools.write('.env', 'TOKEN=1')\n    out = 'written'\n"
        "except PermissionError as e:\n    out = str(e)\nout"
    )
    report = await run(script, workspace=str(tmp_path), journal=journal)
    assert "blocked: it is a secrets file" in report["result"]
    assert not (tmp_path / ".env").exists()
    [event] = journal.events_of_kind(report["run_id"], "blocked")
    assert "script: write to '.env' blocked" in event["message"]


async def test_auto_blocks_secrets_write_from_an_agent_as_a_tool_error(tmp_path):
    journal = Journal()
    report = await run(
        "await spawn('migrator', 'edit', tools=['write'])",
        model=writer(".env"),
        workspace=str(tmp_path),
        journal=journal,
    )
    assert report["status"] == "succeeded"  # the agent got a tool error and went on
    assert "secrets file" in report["result"]["tool"]
    assert not (tmp_path / ".env").exists()
    assert journal.events_of_kind(report["run_id"], "blocked")


async def test_auto_allows_ordinary_writes(tmp_path):
    report = await run(
        "await spawn('migrator', 'edit', tools=['write'])",
        model=writer("src/a.ts", "ok"),
        workspace=str(tmp_path),
    )
    assert report["result"]["tool"] == "wrote src/a.ts"
    assert (tmp_path / "src" / "a.ts").read_text() == "ok"


async def test_auto_blocks_an_undeclared_command(tmp_path):
    journal = Journal()
    report = await run(
        "await tools.run('deploy', '--prod')", workspace=str(tmp_path), journal=journal
    )
    assert report["status"] == "failed"
    assert "command 'deploy' blocked: it is not declared" in report["errors"][-1]["error"]
    assert journal.events_of_kind(report["run_id"], "blocked")


async def test_read_only_refuses_write_restore_and_run(tmp_path):
    (tmp_path / ".fanflow").mkdir()
    (tmp_path / ".fanflow" / "config.toml").write_text('[commands]\necho = "echo"\n')
    for call in (
        "tools.write('a.txt', 'x')",
        "tools.git_restore('a.txt')",
        "tools.run('echo', 'hi')",
    ):
        report = await run(f"await {call}", workspace=str(tmp_path), permission_mode="read-only")
        assert report["status"] == "failed"
        assert "the run is read-only" in report["errors"][-1]["error"]
    report = await run(
        "await spawn('migrator', 'edit', tools=['write'])",
        model=writer("a.txt"),
        workspace=str(tmp_path),
        permission_mode="read-only",
    )
    assert "read-only" in report["result"]["tool"]
    assert not (tmp_path / "a.txt").exists()


async def test_prompt_asks_once_per_agent_and_honours_no(tmp_path):
    asked = []

    def asker(question):
        asked.append(question)
        return "agent 1" in question

    journal = Journal()

    def two_writes(req):
        results = [r for m in req.messages for r in m.tool_results]
        if len(results) >= 2:
            return ModelResponse(text='{"done": true}')
        n = len(results)
        return ModelResponse(
            tool_calls=[ToolCall(f"c{n}", "write", {"path": f"f{n}.txt", "text": "x"})]
        )

    from fanflow import RunOptions, run_script

    report = await run_script(
        "await gather([spawn('migrator', f'edit {i}', tools=['write']) for i in range(2)], "
        "concurrency=1)",
        RunOptions(model="fake", workspace=str(tmp_path), permission_mode="prompt"),
        journal=journal,
        models={"fake": FunctionModel(two_writes, name="fake")},
        asker=asker,
    )
    assert report["status"] == "succeeded"
    assert len(asked) == 2  # agent 1 once (then approved for both writes), agent 2 once
    assert (tmp_path / "f0.txt").exists() and (tmp_path / "f1.txt").exists()
    assert len(journal.events_of_kind(report["run_id"], "blocked")) == 2  # agent 2's writes


def test_prompt_mode_needs_a_terminal(monkeypatch, tmp_path):
    from fanflow._permissions import Permissions

    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(ConfigError, match="needs a terminal"):
        Permissions("prompt", on_block=print)
    with pytest.raises(ConfigError, match="must be one of auto, prompt, read-only"):
        Permissions("yolo", on_block=print)


async def test_auto_runs_a_declared_command_with_arguments_as_argv(tmp_path):
    (tmp_path / ".fanflow").mkdir()
    (tmp_path / ".fanflow" / "config.toml").write_text('[commands]\necho = "echo"\n')
    report = await run(
        "await tools.run('echo', '; rm -rf /', '$(whoami)')", workspace=str(tmp_path)
    )
    assert report["status"] == "succeeded", report["errors"]
    assert report["result"] == {"code": 0, "stdout": "; rm -rf / $(whoami)\n", "stderr": ""}
