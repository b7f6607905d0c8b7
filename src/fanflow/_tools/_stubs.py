"""The script API's `tools` object, written from the registry: its stubs and its prelude.

Each built-in tool's `stub` is the one source: the type checker and the
planner read it as written, and the sandbox gets the same method with the
annotations dropped and a body that hands the values to the host.
"""

from __future__ import annotations

import ast
import textwrap

from ._base import stub_function
from ._registry import builtin_agent_tools, script_tools


def tools_stub() -> str:
    """The `class _Tools` block of `api.pyi`, with the name list a spawn grants from."""
    stubs = [tool.stub or "" for tool in script_tools().values()]
    methods = "\n".join(textwrap.indent(stub, "    ") for stub in stubs)
    names = ", ".join(builtin_agent_tools())
    return (
        "ToolName = str\n"
        f'"""A tool `spawn(tools=[...])` can grant: {names}, or an installed plugin tool\'s name\n'
        '(`fanflow tools` lists them)."""\n\n'
        f"class _Tools:\n{methods}\n\ntools: _Tools\n"
    )


def tools_prelude() -> str:
    """The sandbox's `_Tools` class: each method sends its values to `_ff_tool`."""
    methods = [_prelude_method(stub_function(tool)) for tool in script_tools().values()]
    return "class _Tools:\n" + "\n".join(methods) + "\n\ntools = _Tools()\n"


def _prelude_method(stub: ast.AsyncFunctionDef) -> str:
    arguments = stub.args
    for argument in [*arguments.args, arguments.vararg]:
        if argument is not None:
            argument.annotation = None
    values = [a.arg for a in arguments.args[1:]]
    if arguments.vararg is not None:
        values.append(f"*{arguments.vararg.arg}")
    body = f"return await _ff_tool({stub.name!r}, [{', '.join(values)}])"
    method = ast.AsyncFunctionDef(
        name=stub.name,
        args=arguments,
        body=ast.parse(body).body,
        decorator_list=[],
        returns=None,
        type_params=[],
    )
    return textwrap.indent(ast.unparse(ast.fix_missing_locations(method)), "    ") + "\n"
