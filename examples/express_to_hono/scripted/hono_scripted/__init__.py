"""The express_to_hono example's scripted model, registered as `--model hono-scripted`.

It is not an LLM: each migrator agent it plays reads the route and test the
prompt names, rewrites them by a few textual rules (`_rewrite`) and writes
them back. The rules are deliberately naive, so one sample route comes out
wrong and the workflow's test-and-roll-back step has something to catch.
"""

from __future__ import annotations

from ._model import HonoScriptedModel

__all__ = ["HonoScriptedModel", "factory"]


def factory(model: str, options: dict[str, str]) -> HonoScriptedModel:
    """`--model hono-scripted`; it takes no options."""
    return HonoScriptedModel(name="hono-scripted" + (f":{model}" if model else ""))
