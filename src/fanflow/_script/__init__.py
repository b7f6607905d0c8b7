"""Workflow scripts: the API stubs, the static checks and the sandbox that runs them."""

from ._check import ScriptInfo, check_syntax_and_names
from ._sandbox import STUBS, Sandbox, ScriptOutcome, to_jsonable

__all__ = [
    "STUBS",
    "Sandbox",
    "ScriptInfo",
    "ScriptOutcome",
    "check_syntax_and_names",
    "to_jsonable",
]
