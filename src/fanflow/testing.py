"""Test your own workflows offline: fake models and a one-call runner.

```python
from fanflow.testing import FunctionModel, TestModel, run_script

report = run_script("await spawn('general', 'hi')", model=TestModel(), workspace=tmp_path)
assert report["status"] == "succeeded"
```

`run_script` runs a workflow script as `fanflow run` does, with the real
sandbox, scheduler, tools and permission mode, against a model you give it,
journaled in memory: nothing is written to `$FANFLOW_HOME` and no network is
used unless your model does. See docs/testing.md.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

from ._errors import UserError
from ._journal import Journal
from ._models import FunctionModel, Model, TestModel
from ._run import RunOptions
from ._run import run_script as _run_script

__all__ = ["FunctionModel", "TestModel", "run_script", "run_script_async"]

ModelLike = Model | Callable[..., Any]


def run_script(
    script: str,
    *,
    model: ModelLike | None = None,
    workspace: str | os.PathLike[str] = ".",
    args: dict[str, str] | None = None,
    models: dict[str, Model] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Run `script` to the end and return its report (the `fanflow run --json` object).

    `model` plays every agent: a `Model` (default: `TestModel()`), or a function
    `fn(request) -> ModelResponse | str`, which is wrapped in a `FunctionModel`.
    `models` adds models that `spawn(model=NAME)` names. Other keyword arguments
    are `fanflow.RunOptions` fields (`concurrency=`, `budget_tokens=`,
    `permission_mode=`, ...). From async code, `await run_script_async(...)`.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise UserError(
            "fanflow.testing.run_script() was called inside a running event loop; "
            "use `await fanflow.testing.run_script_async(...)` there"
        )
    return asyncio.run(
        run_script_async(
            script, model=model, workspace=workspace, args=args, models=models, **options
        )
    )


async def run_script_async(
    script: str,
    *,
    model: ModelLike | None = None,
    workspace: str | os.PathLike[str] = ".",
    args: dict[str, str] | None = None,
    models: dict[str, Model] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """`run_script` for async tests."""
    player = _as_model(model)
    known = {**(models or {}), player.name: player}
    run_options = RunOptions(
        model=player.name, workspace=workspace, args=dict(args or {}), **options
    )
    return await _run_script(script, run_options, journal=Journal(":memory:"), models=known)


def _as_model(model: ModelLike | None) -> Model:
    if model is None:
        return TestModel()
    if isinstance(model, Model):
        return model
    if callable(model):
        return FunctionModel(model)
    raise UserError(
        f"model must be a fanflow.Model or a function of a ModelRequest, not {type(model).__name__}"
    )
