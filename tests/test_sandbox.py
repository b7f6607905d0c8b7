"""The script sandbox: static checks with lines, no way out, resource limits."""

from __future__ import annotations

import pytest
from helpers import Probe, run

from fanflow import ScriptError


@pytest.mark.parametrize(
    ("script", "line", "needle"),
    [
        ("x = 1\ny = (\n", 2, "syntax error"),
        ("x = 1\nr = await spwan('general', 'p')\n", 2, "`spwan` used when not defined"),
        ("x = 1\n\nr = spawn('general', 'p', tool=['read'])\n", 3, "`tool`"),
        ("r = spawn('general', 42)\n", 1, "Expected `str`"),
        ("files = await tools.glb('*')\n", 1, "no attribute `glb`"),
        ("x = 1\nr = spawn('nobody', 'p')\n", 2, "unknown agent 'nobody'"),
        ("r = spawn('general', 'p', tools=['read', 'shell'])\n", 1, "unknown tool 'shell'"),
        ("import subprocess\n", 1, "subprocess"),
        ("class A(dict):\n    pass\n", 1, "not supported"),
        ("", None, "script is empty"),
    ],
)
async def test_bad_scripts_fail_the_check_with_their_line_and_no_model_call(script, line, needle):
    probe = Probe()
    with pytest.raises(ScriptError) as info:
        await run(script, model=probe)
    assert probe.calls == 0
    assert info.value.line == line
    assert needle in str(info.value)
    if line is not None:
        assert str(info.value).startswith(f"script.py:{line}")


@pytest.mark.parametrize(
    ("script", "needle"),
    [
        ("open('/etc/passwd').read()", "PermissionError"),
        ("import os\nos.listdir('/')", "PermissionError"),
        ("import os\nos.getenv('HOME')", ""),
        ("import os\nos.environ", "not supported"),
        ("import os\nos.system('ls')", "no attribute"),
        ("import pathlib\npathlib.Path('/etc/passwd').read_text()", "PermissionError"),
    ],
)
async def test_script_cannot_reach_the_filesystem(script, needle):
    try:
        report = await run(script)
    except ScriptError as exc:  # refused by the type check before running
        assert "not defined" in str(exc) or "has no member" in str(exc)
        return
    if report["status"] == "succeeded":
        assert report["result"] in (None, "")  # e.g. getenv sees an empty environment
    else:
        assert needle in report["errors"][-1]["error"]


@pytest.mark.parametrize("module", ["socket", "ctypes", "importlib", "subprocess", "shutil"])
async def test_dangerous_imports_are_not_available(module):
    probe = Probe()
    try:
        report = await run(f"import {module}\n1", model=probe)
    except ScriptError as exc:
        assert module in str(exc)
    else:
        assert report["status"] == "failed"
    assert probe.calls == 0


async def test_infinite_loop_hits_the_cpu_limit():
    from fanflow import Limits

    report = await run("while True:\n    pass", limits=Limits(script_cpu_seconds=0.5))
    assert report["status"] == "failed"
    assert "CPU time limit" in report["errors"][-1]["error"]


async def test_huge_allocation_hits_the_memory_limit():
    report = await run("x = [0] * (10 ** 9)\nlen(x)")
    assert report["status"] == "failed"
    assert "memory limit" in report["errors"][-1]["error"]


async def test_deep_recursion_hits_the_recursion_limit():
    report = await run("def f(n):\n    return f(n + 1)\nf(0)")
    assert report["status"] == "failed"
    assert "RecursionError" in report["errors"][-1]["error"]


async def test_runtime_error_names_the_script_line():
    report = await run("x = 1\ny = {}\nz = y['missing']\n", script_path="flow.py")
    assert report["status"] == "failed"
    assert report["errors"][-1]["error"].startswith("flow.py:3: KeyError")


async def test_sys_offers_nothing_that_leaves_the_sandbox():
    with pytest.raises(ScriptError, match="no member `exit`"):
        await run("import sys\nsys.exit(3)")


async def test_dunder_walks_are_refused():
    report = await run("().__class__.__bases__[0].__subclasses__()")
    assert report["status"] == "failed"
    assert "AttributeError" in report["errors"][-1]["error"]


async def test_result_is_the_last_expression_made_json_safe():
    report = await run("meta = {'name': 'x'}\n(1, {'b': (2, 3)}, {4})")
    assert report["status"] == "succeeded"
    assert report["result"] == [1, {"b": [2, 3]}, [4]]


async def test_args_json_re_and_log_are_available():
    script = (
        "import re\nlog('hello', 1)\n"
        "[args['who'], json.dumps({'a': 1}), re.findall(r'\\d+', 'a1b22')]"
    )
    report = await run(script, args={"who": "me"})
    assert report["result"] == ["me", '{"a": 1}', ["1", "22"]]


async def test_time_and_random_are_deterministic_per_run_seed():
    script = "import random\nimport time\n[random.random(), random.random()]"
    first = await run(script)
    second = await run(script)
    assert first["status"] == second["status"] == "succeeded"
    assert first["result"] != second["result"]  # seeded by the run id, so per run


async def test_host_functions_validate_what_the_script_passes():
    report = await run("await spawn('general', 'p', max_tokens=-5)")
    assert report["status"] == "failed"
    assert "max_tokens must be an integer from 1 to 200,000" in report["errors"][-1]["error"]


async def test_internal_host_functions_are_not_part_of_the_checked_api():
    probe = Probe()
    with pytest.raises(ScriptError, match="_ff_spawn"):
        await run("_ff_spawn('general', 'p', None, None, None, None, None, None)", model=probe)
    assert probe.calls == 0
