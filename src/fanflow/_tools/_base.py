"""What a tool is: the public plugin contract (`Tool`, `ToolContext`) and its built-in form.

A tool is one object that carries everything about it: the JSON Schema the
model sees, the host function that runs it, and its permission class
(`access`). Built-in tools are `BuiltinTool`s, which add the script surface:
the `tools.NAME(...)` stub line and the function a script call runs.
"""

from __future__ import annotations

import ast
import inspect
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from .._models import ToolSpec
from .._workspace import ToolError, Workspace

if TYPE_CHECKING:
    from .._commands import Commands

Access = Literal["read", "write", "run"]
ACCESS: tuple[Access, ...] = ("read", "write", "run")


class ToolWorkspace:
    """The workspace as a tool sees it: confined `read`/`write`/`glob` (and `grep`).

    Every path is checked by the run's `Workspace` (no `..`, absolute paths,
    symlinks out, `.git/` or secrets files). A tool whose access is `read`
    cannot write through it.
    """

    def __init__(self, workspace: Workspace, tool: str, access: str) -> None:
        self._workspace, self._tool, self._access = workspace, tool, access

    def read(self, path: str) -> str:
        """A workspace file's text (cut with a marker past 2M characters)."""
        return self._workspace.read(path)

    def glob(self, pattern: str) -> list[str]:
        """Workspace files matching `pattern` (`**` recurses), sorted."""
        return self._workspace.glob(pattern)

    def grep(self, pattern: str, path_glob: str | None = None) -> list[dict[str, object]]:
        """Lines matching a regex: [{"file", "line", "text"}], at most 200."""
        return self._workspace.grep(pattern, path_glob)

    def write(self, path: str, text: str) -> None:
        """Write a workspace file; only tools whose access is `write` or `run` may."""
        if self._access == "read":
            raise ToolError(
                f"tool {self._tool!r} has access 'read' and cannot write {path!r}; "
                "its Tool must declare access = 'write'",
                "PermissionError",
            )
        self._workspace.write(path, text)


class ToolContext:
    """What a tool's `call` gets besides its arguments.

    `workspace` is the confined workspace; `who` names the caller for messages
    (`agent 3 (auditor)`, or `script`).
    """

    __slots__ = ("_commands", "_workspace", "who", "workspace")

    def __init__(
        self, workspace: Workspace, who: str, tool: Tool, commands: Commands | None = None
    ) -> None:
        self.workspace = ToolWorkspace(workspace, tool.name, tool.access)
        self.who = who
        # fanflow's own services, for the built-in tools only (not part of the contract)
        self._workspace, self._commands = workspace, commands


class Tool:
    """A tool an agent can be granted by name: subclass it, or set the attributes.

    `call` gets arguments already validated against `input_schema` and returns
    text, or a JSON value that is sent to the model as JSON. Raise
    `ValueError` (or any exception) to send the model an error instead.
    """

    name: str = ""
    description: str = ""
    input_schema: ClassVar[dict[str, Any]] = {"type": "object", "properties": {}}
    access: Access = "read"
    """`read` tools run in every permission mode; `write` and `run` tools are refused in
    read-only mode, ask first in prompt mode, and pass the risk rules in auto mode."""

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str | dict[str, Any]:
        raise NotImplementedError(f"tool {self.name!r} does not implement call()")

    def target(self, args: dict[str, Any]) -> str:
        """What a permission prompt or refusal shows: the `path` argument if any."""
        if "path" in args:
            return str(args["path"])
        return " ".join(f"{k}={v!r}" for k, v in args.items())[:300]

    @property
    def spec(self) -> ToolSpec:
        """The tool as the model sees it."""
        return ToolSpec(self.name, self.description, self.input_schema)


class BuiltinTool(Tool):
    """A tool fanflow ships, which may also be a `tools.NAME(...)` of the script API.

    `stub` is the method of the script API's `tools` object, as the type checker
    and the planner read it; `None` means scripts do not get this tool. `agent`
    says whether subagents can be granted it.
    """

    stub: str | None = None
    agent: bool = True

    async def script_call(self, args: dict[str, Any], ctx: ToolContext) -> Any:
        """A script's call: the same arguments, a Python value back (not text for a model)."""
        raise NotImplementedError

    def bind_script(self, values: list[Any]) -> dict[str, Any]:
        """A script's positional values as named arguments; `TypeError` if they do not fit."""
        bound = script_signature(self).bind(None, *values)
        bound.apply_defaults()
        named = dict(bound.arguments)
        named.pop("self")
        return {k: list(v) if isinstance(v, tuple) else v for k, v in named.items()}


def script_signature(tool: BuiltinTool) -> inspect.Signature:
    """The signature the stub declares (annotations dropped), to bind script calls with."""
    function = stub_function(tool)
    arguments = function.args
    defaults = [None] * (len(arguments.args) - len(arguments.defaults)) + arguments.defaults
    params = [
        inspect.Parameter(
            a.arg,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            default=inspect.Parameter.empty if d is None else ast.literal_eval(d),
        )
        for a, d in zip(arguments.args, defaults, strict=True)
    ]
    if arguments.vararg is not None:
        params.append(inspect.Parameter(arguments.vararg.arg, inspect.Parameter.VAR_POSITIONAL))
    return inspect.Signature(params)


def stub_function(tool: BuiltinTool) -> ast.AsyncFunctionDef:
    """The parsed `async def` of a tool's stub."""
    if tool.stub is None:
        raise ValueError(f"tool {tool.name!r} has no script stub")
    [function] = ast.parse(tool.stub).body
    if not isinstance(function, ast.AsyncFunctionDef) or function.name != tool.name:
        raise ValueError(f"stub of tool {tool.name!r} must be `async def {tool.name}(self, ...)`")
    return function
