"""Shared test helpers: a concurrency probe model and a one-call runner."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from fanflow import FunctionModel, Journal, ModelRequest, RunOptions, run_script

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "race_audit" / "audit.py"


class Probe:
    """A model function that counts calls and calls in flight.

    With `gate=N` the first calls block until N are in flight at once, which
    proves N concurrent calls happen without relying on timing.
    """

    def __init__(
        self, *, gate: int | None = None, reply: Any = None, fail_when: str | None = None
    ) -> None:
        self.calls = self.in_flight = self.peak = 0
        self.gate = gate
        self.opened = asyncio.Event()
        self.reply = reply if reply is not None else {"ok": True}
        self.fail_when = fail_when
        self.prompts: list[str] = []

    async def __call__(self, req: ModelRequest) -> str:
        self.calls += 1
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        prompt = req.messages[-1].text
        self.prompts.append(prompt)
        try:
            if self.gate is not None:
                if self.in_flight >= self.gate:
                    self.opened.set()
                await asyncio.wait_for(self.opened.wait(), 10)
            for _ in range(3):
                await asyncio.sleep(0)
            if self.fail_when and self.fail_when in prompt:
                raise RuntimeError(f"model exploded on {prompt!r}")
            return json.dumps(self.reply)
        finally:
            self.in_flight -= 1


async def run(
    script: str,
    *,
    model: Any = None,
    journal: Journal | None = None,
    model_name: str | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Run `script` on a FunctionModel (`model`), a named model (`model_name`), or sim."""
    models = None
    if model_name is not None:
        options["model"] = model_name
    if model is not None:
        fn = model if isinstance(model, FunctionModel) else FunctionModel(model, name="fake")
        models = {"fake": fn}
        options.setdefault("model", "fake")
    options.setdefault("workspace", str(REPO))
    return await run_script(
        script, RunOptions(**options), journal=journal or Journal(), models=models
    )
