"""Issue 14, class 15: scripts too deep for the static check are exit 2 with one line.

CPython's parser raises `RecursionError` or `MemoryError` (not `SyntaxError`)
on valid scripts nested past its C stack (`1+1+...` ten thousand times, a
long `elif` chain, `not not ...`), monty's parser has a nesting limit of its
own, and monty's type check takes minutes on nested list literals. Each must
be a `ScriptError` naming the statement to split (exit 2, nothing run), in
`fanflow run` and `fanflow run --dry-run`; a deep value built at run time
must not take the host down either.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import run

from fanflow._agents import AgentRegistry
from fanflow._errors import ScriptError
from fanflow._script import Sandbox, check_syntax_and_names
from fanflow._script._depth import MAX_DISPLAY_NESTING, TOO_DEEP

ELIF = "if x == 0:\n y = 0\n" + "".join(f"elif x == {i}:\n y = {i}\n" for i in range(1, 12_000))
PARSER_TOO_DEEP = {  # each makes ast.parse raise RecursionError or MemoryError
    "plus": "x = " + "1+" * 100_000 + "1\nx\n",
    "strings": "x = " + "+".join(["'a'"] * 100_000) + "\nx\n",
    "not": "x = " + "not " * 100_000 + "1\nx\n",
    "unary": "x = " + "-" * 100_000 + "1\nx\n",
    "attributes": "x = a" + ".b" * 100_000 + "\n",
    "subscripts": "x = a" + "[0]" * 100_000 + "\n",
    "lambdas": "x = " + "lambda: " * 20_000 + "1\n",
    "elif": ELIF,
}
MONTY_TOO_DEEP = {  # CPython parses these; monty's parser refuses them as too deep
    "plus": "x = " + "1+" * 900 + "1\nx\n",
    "elif": "x = 3\nif x == 0:\n    y = 0\n"
    + "".join(f"elif x == {i}:\n    y = {i}\n" for i in range(1, 2_000)),
    "not": "x = " + "not " * 400 + "1\nx\n",
    "attributes": "x = 1\ny = x" + ".real" * 400 + "\n",
    "conditionals": "y = 1\nx = " + "1 if y else " * 300 + "2\n",
}
BRACKETS = {  # fine for both parsers, but superlinear for the type check: refused by depth
    "lists": "x = " + "[" * 150 + "]" * 150 + "\nx\n",
    "dicts": "x = " + "{'a': " * 60 + "1" + "}" * 60 + "\nx\n",
    "mixed": "x = " + "[{'a': " * 30 + "1" + "}]" * 30 + "\nx\n",
    "tuples": "x = " + "(" * 100 + "1" + ",)" * 100 + "\nx\n",
}


def _check(script: str) -> ScriptError:
    with pytest.raises(ScriptError) as info:
        check_syntax_and_names(script, "deep.py", AgentRegistry(None))
    return info.value


@pytest.mark.parametrize("name", sorted(PARSER_TOO_DEEP))
def test_a_script_the_parser_cannot_hold_is_a_script_error_with_a_line(name):
    error = _check("n = 1\n" + PARSER_TOO_DEEP[name])
    assert TOO_DEEP in str(error)
    assert error.line == 2  # the statement to split, after the first line
    assert "RecursionError" not in str(error) and "MemoryError" not in str(error)


@pytest.mark.parametrize("name", sorted(BRACKETS))
def test_brackets_nested_past_the_cap_are_refused_with_their_line(name):
    error = _check("n = 1\nm = 2\n" + BRACKETS[name])
    assert f"over the {MAX_DISPLAY_NESTING}" in str(error)
    assert error.line == 3


def test_brackets_at_the_cap_still_check():
    nested = "x = " + "[" * MAX_DISPLAY_NESTING + "]" * MAX_DISPLAY_NESTING + "\nx\n"
    check_syntax_and_names(nested, "ok.py", AgentRegistry(None))


def test_a_deep_meta_value_is_no_crash():
    info = check_syntax_and_names(
        "meta = " + "[" * 30 + "]" * 30 + "\n1\n", "meta.py", AgentRegistry(None)
    )
    assert info.meta == {}


@pytest.mark.parametrize("name", sorted(MONTY_TOO_DEEP))
async def test_what_monty_refuses_as_too_deep_is_the_same_script_error(name):
    script = "n = 1\n" + MONTY_TOO_DEEP[name]
    check_syntax_and_names(script, "deep.py", AgentRegistry(None))  # CPython takes it
    async with Sandbox() as sandbox:
        with pytest.raises(ScriptError) as info:
            await sandbox.check(script, "deep.py")
    assert TOO_DEEP in str(info.value)
    assert info.value.line is not None


async def test_a_type_check_that_runs_long_is_cut_and_the_pool_still_works():
    # 100 nested lists take the type check tens of seconds; the bound kills its worker
    deep = "x = " + "[" * 100 + "]" * 100 + "\nx\n"
    async with Sandbox(check_seconds=1.0) as sandbox:
        with pytest.raises(ScriptError) as info:
            await sandbox.check(deep, "slow.py")
        assert "did not finish in 1 s" in str(info.value)
        await sandbox.check("x = [[1]]\nx\n", "fine.py")  # a fresh worker answers


async def test_deep_values_built_at_run_time_leave_the_host_standing():
    script = (
        "x = []\nd = {}\nfor i in range(100000):\n    x = [x]\n    d = {'a': d}\n"
        "log(x)\nprint(d)\n"
        "s = spawn('general', 'p', schema=d)\n"
        "try:\n    eval('1+' * 100000 + '1')\nexcept SyntaxError as e:\n    log('eval', e)\n"
        "[x, d]\n"
    )
    report = await run(script)
    assert report["status"] in ("succeeded", "partial"), report["errors"]
    assert report["result"] is not None


def _fanflow(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fanflow", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "FANFLOW_MODEL": "test"},
        stdin=subprocess.DEVNULL,
    )


CLI_CASES = {
    "plus": (PARSER_TOO_DEEP["plus"], TOO_DEEP),
    "elif": (ELIF, TOO_DEEP),
    "not": (PARSER_TOO_DEEP["not"], TOO_DEEP),
    "monty-plus": (MONTY_TOO_DEEP["plus"], TOO_DEEP),
    "lists": (BRACKETS["lists"], "brackets are nested 150 deep"),
}


@pytest.mark.parametrize("dry", [False, True], ids=["run", "dry-run"])
@pytest.mark.parametrize("name", sorted(CLI_CASES))
def test_the_cli_says_one_line_and_exits_2(name, dry, tmp_path):
    script, needle = CLI_CASES[name]
    (tmp_path / "deep.py").write_text(script)
    proc = _fanflow("run", "deep.py", "--yes", *(["--dry-run"] if dry else []), cwd=tmp_path)
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-800:])
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr[-800:]
    assert lines[0].startswith("fanflow: error: deep.py:"), lines[0]
    assert needle in lines[0]
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
