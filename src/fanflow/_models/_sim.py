"""`sim`: a deterministic offline model for demos and tests.

It is a model, not a shortcut: it goes through the same subagent loop, tool
calls, usage accounting and journal as a real provider. What it "knows" comes
only from what it reads through its tools. Files carry `fanflow-sim:` marker
comments that stand in for a real model's judgement:

    // fanflow-sim: finding id=R1 confidence=0.9 lines=10-14 state=cache bug="..." fix="..."
    // fanflow-sim: refute id=FP1 reason="..."

An auditor reports the findings in the files it read; a reviewer refutes a
claim when it reads a matching `refute` marker and confirms it otherwise; a
synthesizer turns findings and verdicts into a report, dropping refuted ones.
Latency per call is configurable (`FANFLOW_SIM_LATENCY`, seconds) so that
concurrency is observable.
"""

from __future__ import annotations

import asyncio
import json
import posixpath
import re
import shlex
from typing import Any

from ._base import Message, Model, ModelRequest, ModelResponse, ToolCall, Usage, estimate_tokens
from ._sim_migrator import migrator_turn
from ._sim_planner import plan_reply

_MARKER = re.compile(r"fanflow-sim:\s*(finding|refute|related|cross)\s+(.*)$", re.MULTILINE)
_PATH = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w-]+\.[A-Za-z]{1,5})(?![\w/])")
_CLAIM_ID = re.compile(r'"id"\s*:\s*"([^"]+)"')


def parse_markers(text: str) -> list[dict[str, Any]]:
    """Every `fanflow-sim:` marker in `text`, as dicts with a `kind` key."""
    found = []
    for kind, rest in _MARKER.findall(text):
        try:
            pairs = shlex.split(rest.strip().rstrip("*/").strip())
        except ValueError:
            continue
        fields: dict[str, Any] = {"kind": kind}
        for pair in pairs:
            key, _, value = pair.partition("=")
            fields[key] = float(value) if key == "confidence" else value
        found.append(fields)
    return found


class SimModel(Model):
    """The offline model behind `--model sim`."""

    supports_mid_system = True
    context_tokens = 50_000

    def __init__(self, *, latency: float = 0.0, name: str = "sim") -> None:
        self.name = name
        self.latency = latency
        self._cached_prefixes: set[int] = set()

    def price(self, usage: Usage) -> float | None:
        return 0.0  # offline: nothing is spent

    async def request(self, req: ModelRequest) -> ModelResponse:
        if self.latency:
            await asyncio.sleep(self.latency)
        prompt = _first_user_text(req.messages)
        tool_names = {t.name for t in req.tools}
        if req.agent_type == "planner":
            return self._reply(req, plan_reply(prompt), [])
        if req.agent_type == "migrator":
            text, calls = migrator_turn(prompt, req.messages, tool_names)
            return self._reply(req, text, calls)
        if "read" in tool_names:
            paths = _to_read(req, prompt)
            if paths:
                first = sum(len(m.tool_calls) for m in req.messages)
                calls = [
                    ToolCall(f"sim_{first + i}", "read", {"path": p}) for i, p in enumerate(paths)
                ]
                return self._reply(req, "", calls)
        text = _answer(req, prompt, _read_text(req.messages), files_read(req.messages))
        return self._reply(req, text, [])

    def _reply(self, req: ModelRequest, text: str, calls: list[ToolCall]) -> ModelResponse:
        usage = self._usage(req, text + json.dumps([c.input for c in calls]))
        stop = "tool_use" if calls else "end_turn"
        if usage.output_tokens > req.max_tokens:
            text, stop = text[: req.max_tokens * 4], "max_tokens"
            usage.output_tokens = req.max_tokens
        return ModelResponse(text=text, tool_calls=calls, usage=usage, stop_reason=stop)

    def _usage(self, req: ModelRequest, output: str) -> Usage:
        prefix = req.system + json.dumps([t.input_schema for t in req.tools])
        body = conversation_text(req.messages)
        prefix_tokens, key = estimate_tokens(prefix), hash(prefix)
        usage = Usage(input_tokens=estimate_tokens(body), output_tokens=estimate_tokens(output))
        if key in self._cached_prefixes:
            usage.cache_read_input_tokens = prefix_tokens
        else:
            self._cached_prefixes.add(key)
            usage.cache_creation_input_tokens = prefix_tokens
        return usage


def conversation_text(messages: list[Message]) -> str:
    """Everything a provider bills as input: texts, tool calls and tool results."""
    return "".join(
        m.text
        + "".join(json.dumps(c.input) for c in m.tool_calls)
        + "".join(r.content for r in m.tool_results)
        for m in messages
    )


def _first_user_text(messages: list[Message]) -> str:
    return next((m.text for m in messages if m.role == "user" and m.text), "")


def _has_tool_results(messages: list[Message]) -> bool:
    return any(m.tool_results for m in messages)


def _to_read(req: ModelRequest, prompt: str) -> list[str]:
    """What to read next: the paths in the prompt first; a reviewer then follows
    `related` markers, since what guards shared state is often in another file."""
    if not _has_tool_results(req.messages):
        return mentioned_paths(prompt)
    if req.agent_type != "reviewer":
        return []
    read = files_read(req.messages)
    asked = {c.input.get("path") for m in req.messages for c in m.tool_calls if c.name == "read"}
    wanted: dict[str, None] = {}
    for path, content in read.items():
        for marker in parse_markers(content):
            if marker["kind"] == "related" and marker.get("path"):
                target = posixpath.normpath(posixpath.join(posixpath.dirname(path), marker["path"]))
                if target not in asked:  # asked already, even if refused: do not spin
                    wanted.setdefault(target)
    return list(wanted)


def files_read(messages: list[Message]) -> dict[str, str]:
    """Path -> content of every file this conversation read successfully."""
    asked = {c.id: c.input.get("path") for m in messages for c in m.tool_calls if c.name == "read"}
    return {
        asked[r.call_id]: r.content
        for m in messages
        for r in m.tool_results
        if r.call_id in asked and not r.is_error
    }


def _read_text(messages: list[Message]) -> str:
    return "\n".join(r.content for m in messages for r in m.tool_results if not r.is_error)


def mentioned_paths(prompt: str) -> list[str]:
    seen: dict[str, None] = {}
    for path in _PATH.findall(prompt):
        if not path[0].isdigit():
            seen.setdefault(path)
    return list(seen)[:8]


def _answer(req: ModelRequest, prompt: str, read: str, files: dict[str, str]) -> str:
    role = req.agent_type
    if role == "auditor":
        return json.dumps(_audit(prompt, read))
    if role == "reviewer":
        return json.dumps(_review(prompt, read, files))
    if role == "synthesizer":
        return _synthesize(req.messages)
    files = sorted(set(mentioned_paths(prompt))) if read else []
    return json.dumps(
        {"answer": f"sim read {len(files)} file(s)", "files": files, "prompt_chars": len(prompt)}
    )


def _audit(prompt: str, read: str) -> dict[str, Any]:
    files = mentioned_paths(prompt)
    findings = [
        {
            "id": m["id"],
            "file": files[0] if files else "",
            "lines": m.get("lines", ""),
            "shared_state": m.get("state", ""),
            "bug": m.get("bug", ""),
            "fix": m.get("fix", ""),
            "confidence": m.get("confidence", 0.5),
        }
        for m in parse_markers(read)
        if m["kind"] == "finding"
    ]
    top = max((f["confidence"] for f in findings), default=1.0)
    return {"file": files[0] if files else "", "confidence": top, "findings": findings}


def _review(prompt: str, read: str, files: dict[str, str]) -> dict[str, Any]:
    claim = _CLAIM_ID.search(prompt)
    claim_id = claim.group(1) if claim else ""
    verdict: dict[str, Any] = {
        "id": claim_id,
        "verdict": "confirmed" if read else "unverified",
        "reason": "the code I read does what the claim says"
        if read
        else "nothing to check against",
    }
    for marker in parse_markers(read):
        if marker["kind"] == "refute" and marker.get("id") == claim_id:
            verdict.update(verdict="refuted", reason=marker.get("reason", ""))
    new = _cross_findings(read, files)
    if new:
        verdict["new_findings"] = new
    return verdict


def _cross_findings(read: str, files: dict[str, str]) -> list[dict[str, Any]]:
    """`cross` markers whose every file this agent has read: bugs only visible together."""
    found = []
    for marker in parse_markers(read):
        wanted = (
            [f for f in marker.get("files", "").split(",") if f]
            if marker["kind"] == "cross"
            else []
        )
        seen = [next((p for p in files if p.endswith(w)), None) for w in wanted]
        if wanted and all(seen):
            found.append(
                {
                    "id": marker["id"],
                    "file": " + ".join(seen),
                    "lines": "",
                    "shared_state": marker.get("state", ""),
                    "bug": marker.get("bug", ""),
                    "fix": marker.get("fix", ""),
                    "confidence": marker.get("confidence", 0.5),
                }
            )
    return found


def _synthesize(messages: list[Message]) -> str:
    data = _data_block(messages)
    verdicts = {v.get("id"): v for v in _dicts_with(data, "verdict")}
    found_in_review = {
        f["id"]: f
        for v in verdicts.values()
        for f in v.get("new_findings") or []
        if isinstance(f, dict) and f.get("id")
    }
    findings = [f for f in _dicts_with(data, "bug") if f.get("id") not in found_in_review]
    asked_for_findings = isinstance(data, dict) and "findings" in data
    if not findings and not verdicts and not asked_for_findings:
        summaries = [d for d in _dicts_with(data, "summary")]
        return (
            json.dumps(
                {"summary": f"{len(summaries)} partial report(s) merged", "parts": summaries}
            )
            if summaries
            else _generic_summary(data)
        )
    findings.sort(key=lambda f: (-float(f.get("confidence") or 0), str(f.get("id"))))
    kept = [f for f in findings if verdicts.get(f.get("id"), {}).get("verdict") != "refuted"]
    refuted = [f for f in findings if f not in kept]
    lines = [f"# Report: {len(kept)} confirmed finding(s), {len(refuted)} refuted", ""]
    lines += [_finding_line(f, verdicts.get(f.get("id"))) for f in kept] or ["(none)"]
    if refuted:
        lines += ["", "## Refuted by reviewers"]
        lines += [
            f"- [{f['id']}] {f.get('file')}: {verdicts[f['id']].get('reason', '')}" for f in refuted
        ]
    if found_in_review:
        lines += ["", "## Found across files by reviewers"]
        lines += [
            f"- [{f['id']}] {f.get('file')} `{f.get('shared_state')}`: {f.get('bug')} "
            f"Fix: {f.get('fix')}"
            for f in found_in_review.values()
        ]
    return "\n".join(lines)


def _finding_line(f: dict[str, Any], verdict: dict[str, Any] | None) -> str:
    tag = " (confirmed by review)" if verdict and verdict.get("verdict") == "confirmed" else ""
    return (
        f"- [{f.get('id')}] {f.get('file')}:{f.get('lines')} `{f.get('shared_state')}`: "
        f"{f.get('bug')} Fix: {f.get('fix')}{tag}"
    )


def _data_block(messages: list[Message]) -> Any:
    for m in messages:
        text = m.text.strip()
        start = text.find("<data>")
        if start >= 0:
            try:
                return json.loads(text[start + 6 : text.rfind("</data>")])
            except ValueError:
                return text
    return None


def _dicts_with(data: Any, key: str):
    if isinstance(data, dict):
        if key in data:
            yield data
        for value in data.values():
            yield from _dicts_with(value, key)
    elif isinstance(data, list):
        for item in data:
            yield from _dicts_with(item, key)


def _generic_summary(data: Any) -> str:
    if isinstance(data, dict):
        parts = [f"{k}: {len(v) if isinstance(v, (list, dict)) else v!r}" for k, v in data.items()]
        return "Summary of " + ", ".join(parts)
    if isinstance(data, list):
        return f"Summary of {len(data)} item(s)"
    return f"Summary: {str(data)[:200]}"
