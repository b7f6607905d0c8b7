"""Choosing a model: no silent default, FANFLOW_MODEL and config, plugins by entry point."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from helpers import REPO

from fanflow import RunOptions, Usage, run_script
from fanflow._errors import ConfigError
from fanflow._models import model_sources, resolve_model

FAN_OUT = 'rs = await gather([spawn("general", f"item {i}") for i in range(3)])\nrs'


def fanflow(*args: str, env: dict | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fanflow", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


class ConnectionCounter:
    """A loopback port that counts the connections made to it (and answers nothing)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.count += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.mark.slow
def test_a_run_without_a_model_spends_nothing_and_exits_2(tmp_path):
    counter = ConnectionCounter()
    try:
        env = {
            "ANTHROPIC_API_KEY": "sk-ant-would-be-billed",
            "ANTHROPIC_BASE_URL": counter.url,
            "OPENAI_API_KEY": "sk-would-be-billed",
            "OPENAI_BASE_URL": counter.url,
        }
        env.pop("FANFLOW_MODEL", None)
        for command in (
            ["run", "examples/race_audit/audit.py", "--yes"],
            ["do", "audit src for race conditions", "--yes"],
            ["plan", "audit src for race conditions"],
        ):
            proc = fanflow(*command, env=env)
            assert proc.returncode == 2, (command, proc.stderr)
            line = proc.stderr.strip()
            assert line.count("\n") == 0 and "no model chosen" in line
            assert "--model" in line and "FANFLOW_MODEL" in line
        assert fanflow("ls", "--json").stdout.strip() == ""  # JSON lines: no run was journaled
    finally:
        counter.close()
    assert counter.count == 0


async def test_fanflow_model_and_config_name_the_model(tmp_path, monkeypatch):
    monkeypatch.setenv("FANFLOW_MODEL", "test")
    report = await run_script(FAN_OUT, RunOptions(workspace=tmp_path))
    assert report["status"] == "succeeded" and report["model"] == "test"
    monkeypatch.delenv("FANFLOW_MODEL")
    (tmp_path / ".fanflow").mkdir()
    (tmp_path / ".fanflow" / "config.toml").write_text('model = "test"\n')
    report = await run_script(FAN_OUT, RunOptions(workspace=tmp_path))
    assert report["model"] == "test"
    (tmp_path / ".fanflow" / "config.toml").write_text("")
    with pytest.raises(ConfigError, match="no model chosen"):
        await run_script(FAN_OUT, RunOptions(workspace=tmp_path))


async def test_the_flag_wins_over_the_environment_and_the_config(tmp_path, monkeypatch):
    monkeypatch.setenv("FANFLOW_MODEL", "nonexistent-provider:x")
    (tmp_path / ".fanflow").mkdir()
    (tmp_path / ".fanflow" / "config.toml").write_text('model = "also-not:x"\n')
    report = await run_script(FAN_OUT, RunOptions(model="test", workspace=tmp_path))
    assert report["model"] == "test"


async def test_a_user_config_model_applies_when_the_workspace_says_nothing(tmp_path):
    write_user_config('[run]\nmodel = "test"\n')
    report = await run_script(FAN_OUT, RunOptions(workspace=tmp_path))
    assert report["model"] == "test"


def write_user_config(text: str) -> None:
    home = Path(os.environ["FANFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(text)


async def test_a_scripted_model_says_so_in_the_report(tmp_path):
    report = await run_script(FAN_OUT, RunOptions(model="test", workspace=tmp_path))
    assert "model test is scripted, not an LLM" in report["scripted"]


def test_the_cli_prints_the_scripted_note(tmp_path):
    proc = fanflow("run", "examples/race_audit/audit.py", "--model", "test", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert "note: model test is scripted, not an LLM" in " ".join(proc.stderr.split())


# plugins, registered as a real installed distribution would be: a dist-info on sys.path


def install_plugin(root: Path, name: str, module_source: str, target: str) -> None:
    """Write `name` as an installed distribution under `root` registering `target`."""
    package = name.replace("-", "_")
    (root / f"{package}.py").write_text(textwrap.dedent(module_source))
    info = root / f"{package}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[fanflow.models]\n{target}\n")


PLUGIN = """
    import fanflow

    CALLS = []

    class Scripted(fanflow.Model):
        scripted = "the counting plugin: it numbers its answers"

        def __init__(self, model, options):
            self.name = f"counting:{model}"
            self.options = options
            self.fail_first = options.get("fail_first") == "true"

        async def request(self, req):
            CALLS.append(req.messages[0].text)
            if self.fail_first and len(CALLS) == 1:
                raise fanflow.RetryableModelError("busy, try again", retry_after=0.01)
            return fanflow.ModelResponse(
                text=f"answer {len(CALLS)} with {self.options.get('greeting', '-')}",
                usage=fanflow.Usage(input_tokens=10, output_tokens=3),
            )

    def factory(model, options):
        return Scripted(model, options)
"""


@pytest.fixture
def plugin_dir(tmp_path, monkeypatch):
    root = tmp_path / "site"
    root.mkdir()
    install_plugin(root, "counting-plugin", PLUGIN, "counting = counting_plugin:factory")
    install_plugin(
        root, "broken-plugin", "raise ImportError('no such thing')\n", "broken = broken_plugin:f"
    )
    monkeypatch.syspath_prepend(str(root))
    yield root
    sys.modules.pop("counting_plugin", None)


async def test_a_plugin_model_runs_a_fan_out_with_its_config_options(plugin_dir, tmp_path):
    workspace = tmp_path / "ws"
    (workspace / ".fanflow").mkdir(parents=True)
    (workspace / ".fanflow" / "config.toml").write_text(
        '[models.counting]\ngreeting = "hello"\nfail_first = true\n'
    )
    report = await run_script(FAN_OUT, RunOptions(model="counting:v1", workspace=workspace))
    assert report["status"] == "succeeded"
    assert report["agents"]["succeeded"] == 3
    assert all("with hello" in answer for answer in report["result"])
    assert report["scripted"] and "counting plugin" in report["scripted"]
    import counting_plugin

    assert len(counting_plugin.CALLS) == 4  # the refused call was retried by the host


def test_models_lists_built_ins_and_plugins_and_why_one_fails(plugin_dir):
    sources = {s.name: s for s in model_sources()}
    assert [s for s in sources if s in ("anthropic", "openai", "test")] == [
        "anthropic",
        "openai",
        "test",
    ]
    assert sources["counting"].error is None and sources["counting"].origin == "counting-plugin 0.1"
    assert "failed to load: ImportError: no such thing" in sources["broken"].error


def test_models_command_shows_a_broken_plugin_and_keeps_working(plugin_dir):
    env = {"PYTHONPATH": f"{plugin_dir}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = fanflow("models", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    rows = {r["name"]: r for r in json.loads(proc.stdout)["models"]}
    assert rows["counting"]["error"] is None
    assert "ImportError" in rows["broken"]["error"]
    proc = fanflow("run", "examples/race_audit/audit.py", "--model", "broken:x", "--yes", env=env)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "model plugin 'broken'" in proc.stderr
    ok = fanflow("run", "examples/race_audit/audit.py", "--model", "test", "--yes", env=env)
    assert ok.returncode == 0, ok.stderr


def test_an_unknown_provider_names_the_ones_available(plugin_dir):
    with pytest.raises(ConfigError, match=r"unknown model provider 'nope'; available: .*counting"):
        resolve_model("nope:x")


def test_a_factory_that_returns_no_model_is_a_config_error(plugin_dir, tmp_path):
    install_plugin(
        tmp_path / "site",
        "bad-factory",
        "def f(model, options):\n    return 42\n",
        "bad = bad_factory:f",
    )
    with pytest.raises(ConfigError, match=r"returned int, not a fanflow\.Model"):
        resolve_model("bad:x")


def test_a_bare_claude_name_means_anthropic_and_a_provider_needs_a_model():
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY is not set"):
        resolve_model("claude-opus-4-8")
    with pytest.raises(ConfigError, match="names no model; use openai:MODEL"):
        resolve_model("openai:")
    assert Usage().input_tokens == 0


def test_version():
    proc = fanflow("--version")
    assert proc.returncode == 0
    from fanflow import __version__

    assert proc.stdout == f"fanflow {__version__}\n"


def test_a_model_with_bad_attributes_is_one_line(plugin_dir, tmp_path):
    source = """
        import fanflow

        class Bad(fanflow.Model):
            context_tokens = None

            async def request(self, req):
                return fanflow.ModelResponse(text="x")

        def f(model, options):
            return Bad()
    """
    install_plugin(tmp_path / "site", "bad-attrs", source, "badattrs = bad_attrs:f")
    with pytest.raises(ConfigError, match=r"bad attributes .*context_tokens"):
        resolve_model("badattrs:x")


def test_two_distributions_registering_one_name_is_an_error(plugin_dir, tmp_path):
    install_plugin(tmp_path / "site", "rival-plugin", PLUGIN, "counting = rival_plugin:factory")
    with pytest.raises(ConfigError, match=r"registered by .* and .*; uninstall one"):
        resolve_model("counting:x")


def test_tools_lists_the_built_ins_with_their_access():
    proc = fanflow("tools", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = {r["name"]: r for r in json.loads(proc.stdout)["tools"]}
    assert rows["read"] == {"name": "read", "origin": "built-in", "access": "read", "error": None}
    assert rows["write"]["access"] == "write" and rows["run"]["access"] == "run"
