"""`fanflow.testing`: what users test their own workflows with, and docs/testing.md's examples."""

from __future__ import annotations

import inspect
import json
import re

import pytest
from helpers import REPO

import fanflow.testing
from fanflow import ModelResponse, ToolCall, UserError
from fanflow.testing import FunctionModel, TestModel, run_script, run_script_async

FANOUT = "await gather([spawn('auditor', f'Read {f}', tools=['read'], schema=S) for f in " \
    "await tools.glob('*.txt')])"  # fmt: skip
SCHEMA = {"type": "object", "required": ["ok"], "properties": {"ok": {"type": "boolean"}}}


@pytest.fixture
def workspace(tmp_path):
    for name in ("one.txt", "two.txt"):
        (tmp_path / name).write_text(f"{name}\n")
    return tmp_path


def test_the_public_names_are_pinned():
    assert fanflow.testing.__all__ == [
        "FunctionModel",
        "TestModel",
        "run_script",
        "run_script_async",
    ]


def test_a_function_model_answers_an_auditor_by_schema(workspace):
    seen = []

    def auditor(request):
        seen.append((request.messages[0].text, request.schema))
        return json.dumps({"ok": "one" in request.messages[0].text})

    report = run_script(f"S = {SCHEMA!r}\n" + FANOUT, model=auditor, workspace=workspace)
    assert report["status"] == "succeeded"
    assert report["result"] == [{"ok": True}, {"ok": False}]
    assert report["agents"] == {"spawned": 2, "succeeded": 2, "failed": 0, "retried": 0}
    assert [s for _, s in seen] == [SCHEMA, SCHEMA] and report["model"] == "function"
    assert report["scripted"] is None  # a function the user wrote is not disclosed as ours


def test_the_default_is_the_test_model_and_the_report_says_so(workspace):
    report = run_script(f"S = {SCHEMA!r}\n" + FANOUT, workspace=workspace)
    assert report["status"] == "succeeded" and report["model"] == "test"
    assert "scripted, not an LLM" in report["scripted"]
    assert all(isinstance(r["ok"], bool) for r in report["result"])


def test_tool_calls_from_a_function_model_run_for_real(workspace):
    def reader(request):
        results = [r for m in request.messages for r in m.tool_results]
        if not results:
            return ModelResponse(tool_calls=[ToolCall("1", "read", {"path": "one.txt"})])
        return f"it says: {results[0].content}"

    report = run_script("await spawn('general', 'x', tools=['read'])", model=reader,
                        workspace=workspace)  # fmt: skip
    assert report["result"].startswith("it says:") and "one.txt" in report["result"]


def test_args_and_run_options_reach_the_run(workspace):
    script = "await gather([spawn('general', args['word'] + str(i)) for i in range(6)])"
    report = run_script(script, model=FunctionModel(lambda r: r.messages[0].text),
                        workspace=workspace, args={"word": "w"}, max_agents=3)  # fmt: skip
    assert report["status"] == "failed" and "3" in report["errors"][-1]["error"]


def test_the_journal_stays_in_memory(workspace, tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("FANFLOW_HOME", str(home))
    run_script("await spawn('general', 'hi')", workspace=workspace)
    assert list(home.iterdir()) == []


async def test_inside_an_event_loop_it_says_to_await_the_async_twin(workspace):
    with pytest.raises(UserError, match="run_script_async"):
        run_script("1", workspace=workspace)
    report = await run_script_async("await spawn('general', 'hi')", model=TestModel(),
                                    workspace=workspace)  # fmt: skip
    assert report["status"] == "succeeded"


def test_a_model_that_is_neither_model_nor_function_is_one_clear_error(workspace):
    with pytest.raises(UserError, match=r"must be a fanflow\.Model"):
        run_script("1", model="anthropic:claude", workspace=workspace)


DOC = (REPO / "docs" / "testing.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", DOC, re.DOTALL)


def test_the_testing_doc_has_examples():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_every_python_block_of_the_testing_doc_runs(index, tmp_path_factory):
    namespace: dict = {"__name__": f"testing_md_{index}"}
    exec(compile(BLOCKS[index], f"docs/testing.md block {index + 1}", "exec"), namespace)
    tests = [fn for name, fn in namespace.items() if name.startswith("test_") and callable(fn)]
    assert tests, "each block shows a test a user would write"
    for fn in tests:
        wants = inspect.signature(fn).parameters
        fn(**({"tmp_path": tmp_path_factory.mktemp(fn.__name__)} if "tmp_path" in wants else {}))
