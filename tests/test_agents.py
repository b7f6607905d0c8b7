"""Subagents: definitions from files, reply parsing, and the tool-calling loop."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import Probe, run

import fanflow
from fanflow import (
    ConfigError,
    FunctionModel,
    ModelRequest,
    ModelResponse,
    ScriptError,
    ToolCall,
    Usage,
)
from fanflow._agents import BUILTIN_AGENTS, AgentRegistry, AgentTools
from fanflow._agents._definitions import parse_agent_file
from fanflow._agents._parse import looks_like_truncated_json, parse_reply
from fanflow._workspace import Workspace


def _agent_file(root: Path, folder: str, name: str, text: str) -> Path:
    path = root / folder / "agents" / f"{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


class Recorder:
    """A FunctionModel function that replays `replies` in order and keeps every request."""

    def __init__(self, *replies: str | ModelResponse) -> None:
        self.replies = list(replies)
        self.requests: list[ModelRequest] = []

    def __call__(self, req: ModelRequest) -> str | ModelResponse:
        self.requests.append(req)
        index = min(len(self.requests), len(self.replies)) - 1
        return self.replies[index]


def _tool_reply(*calls: ToolCall) -> ModelResponse:
    return ModelResponse(tool_calls=list(calls), usage=Usage(input_tokens=10, output_tokens=5))


def _errors(report: dict) -> str:
    return " | ".join(e["error"] for e in report["errors"])


# definitions ----------------------------------------------------------------------------


def test_builtin_agents_are_exactly_the_documented_five():
    assert set(BUILTIN_AGENTS) == {"general", "auditor", "reviewer", "synthesizer", "migrator"}
    assert AgentRegistry(None).names() == set(BUILTIN_AGENTS)


def test_builtin_agents_are_found_without_a_workspace():
    definition = AgentRegistry(None).get("auditor")
    assert definition.source == "built-in"
    assert "auditor" in definition.system_prompt


def test_fanflow_agent_file_is_found_and_its_body_is_the_system_prompt(tmp_path):
    path = _agent_file(
        tmp_path,
        ".fanflow",
        "scout",
        "---\n"
        "name: scout\n"
        "description: Looks around.\n"
        "tools: [read, grep]\n"
        "model: test\n"
        "---\n"
        "You are the scout.\n\nReport what you see.\n",
    )
    registry = AgentRegistry(tmp_path)
    definition = registry.get("scout")
    assert definition.name == "scout"
    assert definition.description == "Looks around."
    assert definition.tools == ("read", "grep")
    assert definition.model == "test"
    assert definition.system_prompt == "You are the scout.\n\nReport what you see."
    assert definition.source == str(path)
    assert "scout" in registry.names()


def test_agent_file_without_frontmatter_is_all_prompt_with_default_tools(tmp_path):
    _agent_file(tmp_path, ".fanflow", "plain", "Just be helpful.\n")
    definition = AgentRegistry(tmp_path).get("plain")
    assert definition.system_prompt == "Just be helpful."
    assert definition.tools == BUILTIN_AGENTS["general"].tools
    assert definition.model is None


def test_claude_agent_file_is_read_with_tool_names_mapped(tmp_path):
    _agent_file(
        tmp_path,
        ".claude",
        "helper",
        "---\n"
        "name: helper\n"
        "description: A Claude Code subagent.\n"
        "tools: Read, Grep, Edit, Bash, WebFetch\n"
        "model: sonnet\n"
        "---\n"
        "You help.\n",
    )
    definition = AgentRegistry(tmp_path).get("helper")
    assert definition.tools == ("read", "grep", "write")
    assert definition.model is None  # a Claude Code alias falls back to the run's model
    assert definition.system_prompt == "You help."


def test_claude_agent_file_with_a_yaml_tool_list_is_mapped_too(tmp_path):
    _agent_file(tmp_path, ".claude", "lister", "---\ntools: [Glob, MultiEdit, Task]\n---\nList.\n")
    assert AgentRegistry(tmp_path).get("lister").tools == ("glob", "write")


def test_fanflow_agent_file_wins_over_claude_for_the_same_name(tmp_path):
    _agent_file(tmp_path, ".claude", "dup", "---\ntools: Read\n---\nfrom claude\n")
    _agent_file(tmp_path, ".fanflow", "dup", "---\ntools: [glob]\n---\nfrom fanflow\n")
    definition = AgentRegistry(tmp_path).get("dup")
    assert definition.system_prompt == "from fanflow"
    assert definition.tools == ("glob",)


def test_workspace_file_overrides_a_builtin_of_the_same_name(tmp_path):
    _agent_file(tmp_path, ".fanflow", "general", "---\ntools: []\n---\nmy own general\n")
    definition = AgentRegistry(tmp_path).get("general")
    assert definition.system_prompt == "my own general"
    assert definition.tools == ()


def test_unknown_agent_is_a_config_error_naming_it_and_the_file_to_add(tmp_path):
    with pytest.raises(ConfigError) as info:
        AgentRegistry(tmp_path).get("ghost")
    message = str(info.value)
    assert "unknown agent 'ghost'" in message
    assert ".fanflow/agents/ghost.md" in message
    assert "general" in message


def test_agent_names_that_look_like_paths_are_not_loaded(tmp_path):
    (tmp_path / "evil.md").write_text("---\n---\nescaped\n")
    _agent_file(tmp_path, ".fanflow", "x", "x")
    with pytest.raises(ConfigError, match="unknown agent"):
        AgentRegistry(tmp_path).get("../../evil")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("---\nname: [unclosed\ntools: read\n---\nbody\n", "not valid YAML"),
        ("---\nname: broken\ntools: [read]\nYou never close the frontmatter.\n", "never ends"),
        ("---\ntools: [read, teleport]\n---\nbody\n", "unknown tool 'teleport'"),
        ("---\ntools: {read: true}\n---\nbody\n", "'tools' must be a list"),
        ("---\n- just\n- a list\n---\nbody\n", "key: value"),
        ("---\nmodel: 3\n---\nbody\n", "'model' must be a string"),
    ],
)
def test_malformed_agent_file_is_a_config_error_naming_the_file(tmp_path, text, needle):
    path = _agent_file(tmp_path, ".fanflow", "bad", text)
    with pytest.raises(ConfigError) as info:
        AgentRegistry(tmp_path).get("bad")
    assert str(path) in str(info.value)
    assert needle in str(info.value)


def test_parse_agent_file_reads_a_file_directly(tmp_path):
    path = tmp_path / "direct.md"
    path.write_text("---\ndescription: direct\ntools: read,glob\n---\nPrompt.\n")
    definition = parse_agent_file(path)
    assert (definition.name, definition.tools) == ("direct", ("read", "glob"))


# end to end through a script ------------------------------------------------------------------


async def test_script_spawning_a_custom_agent_gets_its_system_prompt(tmp_path):
    _agent_file(
        tmp_path,
        ".fanflow",
        "scout",
        "---\nname: scout\ndescription: d\ntools: [read, glob]\nmodel: fake\n---\n"
        "You are SCOUT-7. Say what you see.\n",
    )
    model = Recorder('{"seen": "nothing"}')
    report = await run(
        "r = await spawn('scout', 'look around')\nr\n", workspace=str(tmp_path), model=model
    )
    assert report["status"] == "succeeded", _errors(report)
    assert report["result"] == {"seen": "nothing"}
    (req,) = model.requests
    assert req.system == "You are SCOUT-7. Say what you see."
    assert [t.name for t in req.tools] == ["read", "glob"]
    assert req.messages[-1].text == "look around"


async def test_script_naming_an_unknown_agent_fails_the_check_with_its_line(tmp_path):
    probe = Probe()
    script = "x = 1\n\nr = await spawn('ghost', 'boo')\n"
    with pytest.raises(ScriptError) as info:
        await run(script, workspace=str(tmp_path), model=probe)
    assert info.value.line == 3
    assert "unknown agent 'ghost'" in str(info.value)
    assert ".fanflow/agents/ghost.md" in str(info.value)
    assert probe.calls == 0


async def test_script_naming_a_malformed_agent_file_fails_before_any_model_call(tmp_path):
    path = _agent_file(tmp_path, ".fanflow", "bad", "---\ntools: [teleport]\n---\nx\n")
    probe = Probe()
    with pytest.raises(ScriptError) as info:
        await run("x = 1\nr = await spawn('bad', 'p')\n", workspace=str(tmp_path), model=probe)
    assert info.value.line == 2
    assert str(path) in str(info.value)
    assert "unknown tool 'teleport'" in str(info.value)
    assert probe.calls == 0


# parse_reply -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('{"a": 1, "b": [true, null]}', {"a": 1, "b": [True, None]}),
        ('  \n{"a": 1}\n  ', {"a": 1}),
        ('```json\n{"a": 1}\n```', {"a": 1}),
        ("```\n[1, 2]\n```", [1, 2]),
        ('Here is the result:\n```json\n{"ok": true}\n```\nDone.', {"ok": True}),
        ('Sure! The answer is {"id": 7, "tags": ["x"]} as requested.', {"id": 7, "tags": ["x"]}),
        ('[{"file": "a.py"}, {"file": "b.py"}]', [{"file": "a.py"}, {"file": "b.py"}]),
        ("42", 42),
        ('"quoted"', "quoted"),
    ],
)
def test_parse_reply_finds_the_json_value(text, value):
    assert parse_reply(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("  The code looks fine to me.  ", "The code looks fine to me."),
        ('{"findings": [1, 2', '{"findings": [1, 2'),
        ('```json\n{"a": "cut', '```json\n{"a": "cut'),
        ("{not json at all}", "{not json at all}"),
    ],
)
def test_parse_reply_keeps_text_that_holds_no_json(text, value):
    assert parse_reply(text) == value


def test_truncated_json_is_recognised_as_truncated():
    assert looks_like_truncated_json('{"findings": [1, 2')
    assert looks_like_truncated_json('[{"a": "cut')
    assert not looks_like_truncated_json('{"a": 1}')
    assert not looks_like_truncated_json("plain prose")


def test_truncated_json_with_a_complete_inner_value_stays_text():
    text = '{"findings": [{"id": 1}, {"id": 2'
    assert parse_reply(text) == text
    assert looks_like_truncated_json(text)


def test_truncated_json_inside_an_unclosed_fence_is_recognised_as_truncated():
    assert looks_like_truncated_json('```json\n{"a": "cut')


# the agent loop ------------------------------------------------------------------------------


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    (tmp_path / "notes.txt").write_text("alpha\nbeta\n")
    (tmp_path / "more.txt").write_text("gamma\n")
    return tmp_path


async def test_tool_result_reaches_the_next_request(notes):
    model = Recorder(_tool_reply(ToolCall("c1", "read", {"path": "notes.txt"})), '{"done": true}')
    report = await run(
        "r = await spawn('general', 'read notes', tools=['read'])\nr\n",
        workspace=str(notes),
        model=model,
    )
    assert report["status"] == "succeeded", _errors(report)
    assert report["result"] == {"done": True}
    assert len(model.requests) == 2
    first, second = model.requests
    assert [t.name for t in first.tools] == ["read"]
    assistant, user = second.messages[-2:]
    assert assistant.role == "assistant"
    assert [c.id for c in assistant.tool_calls] == ["c1"]
    assert user.role == "user"
    (result,) = user.tool_results
    assert result.call_id == "c1"
    assert not result.is_error
    assert result.content == "    1  alpha\n    2  beta"


async def test_two_tool_calls_in_one_reply_are_both_executed(notes):
    model = Recorder(
        _tool_reply(
            ToolCall("a", "read", {"path": "notes.txt"}),
            ToolCall("b", "read", {"path": "more.txt"}),
        ),
        '"both read"',
    )
    report = await run(
        "r = await spawn('general', 'read both', tools=['read'])\nr\n",
        workspace=str(notes),
        model=model,
    )
    assert report["result"] == "both read", _errors(report)
    results = model.requests[1].messages[-1].tool_results
    assert [(r.call_id, r.content, r.is_error) for r in results] == [
        ("a", "    1  alpha\n    2  beta", False),
        ("b", "    1  gamma", False),
    ]


async def test_tool_errors_go_back_to_the_model(notes):
    model = Recorder(_tool_reply(ToolCall("x", "read", {"path": "../etc/passwd"})), '"ok"')
    report = await run(
        "r = await spawn('general', 'p', tools=['read'])\nr\n", workspace=str(notes), model=model
    )
    assert report["status"] == "succeeded", _errors(report)
    (result,) = model.requests[1].messages[-1].tool_results
    assert result.is_error
    assert "leaves the workspace" in result.content


async def test_call_to_an_ungranted_tool_is_an_error_result_and_the_agent_completes(notes):
    model = Recorder(
        _tool_reply(ToolCall("w", "write", {"path": "pwned.txt", "text": "x"})), '{"ok": 1}'
    )
    report = await run(
        "r = await spawn('general', 'p', tools=['read', 'grep'])\nr\n",
        workspace=str(notes),
        model=model,
    )
    assert report["status"] == "succeeded", _errors(report)
    assert report["result"] == {"ok": 1}
    (result,) = model.requests[1].messages[-1].tool_results
    assert result.is_error
    assert "'write' is not granted" in result.content
    assert "granted: read, grep" in result.content
    assert not (notes / "pwned.txt").exists()


_SCHEMA = {
    "type": "object",
    "properties": {"count": {"type": "integer"}},
    "required": ["count"],
}
_SCHEMA_SCRIPT = f"r = await spawn('general', 'count', tools=['read'], schema={_SCHEMA!r})\nr\n"


async def test_invalid_answer_gets_one_repair_turn_and_a_valid_one_succeeds(notes):
    model = Recorder('{"total": "three"}', '{"count": 3}')
    report = await run(_SCHEMA_SCRIPT, workspace=str(notes), model=model)
    assert report["status"] == "succeeded", _errors(report)
    assert report["result"] == {"count": 3}
    assert len(model.requests) == 2
    bad, repair = model.requests[1].messages[-2:]
    assert (bad.role, bad.text) == ("assistant", '{"total": "three"}')
    assert repair.role == "user"
    assert "does not match the schema" in repair.text
    assert json.dumps(_SCHEMA) in repair.text


async def test_invalid_answer_after_the_repair_turn_fails_the_agent(notes):
    model = Recorder('{"total": 3}', '{"count": "three"}', '{"count": 3}')
    report = await run(_SCHEMA_SCRIPT, workspace=str(notes), model=model)
    assert len(model.requests) == 2  # exactly one repair, never a second
    assert report["status"] in ("failed", "partial")
    assert report["agents"]["failed"] == 1
    assert "schema" in _errors(report)
    assert "count" in _errors(report)


async def test_valid_first_answer_needs_no_repair(notes):
    model = Recorder('```json\n{"count": 1}\n```')
    report = await run(_SCHEMA_SCRIPT, workspace=str(notes), model=model)
    assert report["result"] == {"count": 1}
    assert len(model.requests) == 1


async def test_a_model_that_always_asks_for_tools_hits_the_turn_limit(notes):
    model = Recorder(_tool_reply(ToolCall("again", "read", {"path": "notes.txt"})))
    report = await run(
        "r = await spawn('general', 'loop', tools=['read'])\nr\n",
        workspace=str(notes),
        model=model,
        limits=fanflow.Limits(max_turns=3),
    )
    assert len(model.requests) == 3
    assert report["status"] == "failed"
    assert report["agents"]["failed"] == 1
    assert "turn limit" in _errors(report)


async def test_an_empty_answer_fails_the_agent(notes):
    model = Recorder("   ")
    report = await run(
        "r = await spawn('general', 'p', tools=['read'])\nr\n", workspace=str(notes), model=model
    )
    assert len(model.requests) == 1
    assert report["status"] == "failed"
    assert "empty answer" in _errors(report)


async def test_a_failed_agent_inside_gather_makes_the_run_partial(notes):
    def reply(req: ModelRequest) -> str:
        return "" if "bad" in req.messages[-1].text else '{"ok": true}'

    script = "rs = await gather([spawn('general', 'good'), spawn('general', 'bad')])\nrs\n"
    report = await run(script, workspace=str(notes), model=reply)
    assert report["status"] == "partial"
    assert report["result"] == [{"ok": True}, None]
    assert "empty answer" in _errors(report)


async def test_answer_cut_at_max_tokens_mid_json_fails_the_agent(notes):
    model = Recorder(ModelResponse(text='{"findings": [1, 2', stop_reason="max_tokens"))
    report = await run("r = await spawn('general', 'p')\nr\n", workspace=str(notes), model=model)
    assert report["status"] == "failed"
    assert "max_tokens" in _errors(report)


async def test_answer_cut_at_max_tokens_inside_a_nested_value_fails_the_agent(notes):
    model = Recorder(
        ModelResponse(text='{"findings": [{"id": 1}, {"id": 2', stop_reason="max_tokens")
    )
    report = await run("r = await spawn('general', 'p')\nr\n", workspace=str(notes), model=model)
    assert report["status"] == "failed"
    assert "max_tokens" in _errors(report)


async def test_usage_from_every_turn_is_counted(notes):
    model = FunctionModel(
        Recorder(
            _tool_reply(ToolCall("c", "read", {"path": "notes.txt"})),
            ModelResponse(text='"done"', usage=Usage(input_tokens=100, output_tokens=7)),
        ),
        name="fake",
    )
    report = await run(
        "r = await spawn('general', 'p', tools=['read'])\nr\n", workspace=str(notes), model=model
    )
    assert report["usage"]["input_tokens"] == 110
    assert report["usage"]["output_tokens"] == 12


# AgentTools directly ----------------------------------------------------------------------------


async def test_agent_tools_offer_only_granted_specs(tmp_path):
    tools = AgentTools(Workspace(tmp_path), ("grep", "write"), None)
    assert [s.name for s in tools.specs()] == ["grep", "write"]


async def test_agent_tools_report_bad_arguments_as_error_results(tmp_path):
    tools = AgentTools(Workspace(tmp_path), ("read", "grep"), None)
    missing = await tools.execute(ToolCall("1", "read", {"file": "x"}))
    assert missing.is_error
    assert "bad arguments for read" in missing.content
    bad_regex = await tools.execute(ToolCall("2", "grep", {"pattern": "("}))
    assert bad_regex.is_error
    assert "bad regular expression" in bad_regex.content


async def test_agent_tools_write_and_glob_inside_the_workspace(tmp_path):
    tools = AgentTools(Workspace(tmp_path), ("write", "glob"), None)
    wrote = await tools.execute(ToolCall("1", "write", {"path": "out/a.txt", "text": "hi"}))
    assert (wrote.content, wrote.is_error) == ("wrote out/a.txt", False)
    listed = await tools.execute(ToolCall("2", "glob", {"pattern": "**/*.txt"}))
    assert json.loads(listed.content) == ["out/a.txt"]


@pytest.mark.parametrize("path", ["sub", "a.txt/child.txt"])
async def test_agent_write_onto_a_directory_is_an_error_result_not_a_crash(tmp_path, path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("x")
    tools = AgentTools(Workspace(tmp_path), ("write",), None)
    result = await tools.execute(ToolCall("1", "write", {"path": path, "text": "x"}))
    assert result.is_error
