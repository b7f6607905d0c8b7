"""`--model hello:echo`: a scripted model, not an LLM, that shows a plugin model's shape.

It calls every tool it is offered once, on the first file named in its prompt,
then answers with JSON: its greeting (from `[models.hello] greeting = "..."`)
and what each tool returned. Deterministic, so tests can count on it.
"""

from __future__ import annotations

import json
import re

import fanflow

_PATH = re.compile(r"[\w./-]+\.\w+")


class Echo(fanflow.Model):
    scripted = "the hello plugin's echo model: it calls each offered tool once and reports"
    context_tokens = 32_000

    def __init__(self, model: str, greeting: str) -> None:
        self.name = f"hello:{model or 'echo'}"
        self.greeting = greeting

    async def request(self, req: fanflow.ModelRequest) -> fanflow.ModelResponse:
        prompt = req.messages[0].text
        done = {r.call_id: r for m in req.messages for r in m.tool_results}
        usage = fanflow.Usage(input_tokens=len(prompt.split()), output_tokens=8)
        path = next(iter(_PATH.findall(prompt)), None)
        if not done and req.tools and path is not None:
            calls = [fanflow.ToolCall(t.name, t.name, {"path": path}) for t in req.tools]
            return fanflow.ModelResponse(tool_calls=calls, usage=usage, stop_reason="tool_use")
        results = {
            call_id: {"error": r.content} if r.is_error else _value(r.content)
            for call_id, r in done.items()
        }
        answer = {"greeting": self.greeting, "path": path, "tools": results}
        return fanflow.ModelResponse(text=json.dumps(answer), usage=usage)


def _value(content: str) -> object:
    try:
        return json.loads(content)
    except ValueError:
        return content


def factory(model: str, options: dict[str, str]) -> fanflow.Model:
    """`--model hello:REST` calls this with REST and the `[models.hello]` config table."""
    if model not in ("", "echo"):
        raise fanflow.ConfigError(f"the hello plugin has one model, echo (got {model!r})")
    return Echo(model, options.get("greeting", "hello"))
