"""fanflow as a library leaves its host process alone: signals and the garbage collector."""

from __future__ import annotations

import gc
import signal

from fanflow import FunctionModel, RunOptions, run_script
from fanflow._models import resolve_model


async def test_a_run_installs_no_signal_handler(tmp_path):
    seen = []

    def reply(req):
        seen.append(signal.getsignal(signal.SIGTERM))
        return "ok"

    before = signal.getsignal(signal.SIGTERM)
    report = await run_script(
        'await spawn("general", "hi")',
        RunOptions(model="fake", workspace=tmp_path),
        models={"fake": FunctionModel(reply, name="fake")},
    )
    assert report["status"] == "succeeded"
    assert seen == [before]
    assert signal.getsignal(signal.SIGTERM) == before


async def test_building_a_provider_model_does_not_freeze_the_heap(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    frozen = gc.get_freeze_count()
    for spec in ("openai:gpt-5", "anthropic:claude-opus-4-8"):
        model = resolve_model(spec)
        await model.aclose()
    assert gc.get_freeze_count() == frozen
