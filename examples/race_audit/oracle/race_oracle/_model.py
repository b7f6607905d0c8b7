"""`OracleModel`: answers the race-audit workflow's agents from the planted markers.

It decides what it is being asked from what any model sees, never from
fanflow internals: a conversation holding the fan-in `<data>` block is the
synthesis; a prompt asking to refute a JSON claim is a review; anything else is
an audit of the files the prompt names. Granted `read`, it first reads those
files; a reviewer then follows `related` markers to the file that guards the
same state, since a reviewer that reads further can refute or find more.
"""

from __future__ import annotations

import asyncio
import json
import posixpath
import re
from typing import Any

from fanflow import Message, Model, ModelError, ModelRequest, ModelResponse, ToolCall, Usage

from ._markers import billed_text, files_read, mentioned_paths, parse_markers, paths_asked
from ._report import data_block, write_report

_CLAIM_ID = re.compile(r'"id"\s*:\s*"([^"]+)"')
_REVIEW = re.compile(r"\brefute\b", re.IGNORECASE)


def _tokens(text: str) -> int:
    return max(1, (len(text) + 3) // 4)


class OracleModel(Model):
    """The scripted model behind `--model race-oracle`."""

    supports_mid_system = True
    context_tokens = 50_000
    scripted = (
        "the race-audit oracle: it reads the answers planted in the sample's comments; "
        "no LLM judged anything"
    )

    def __init__(
        self,
        *,
        latency: float = 0.0,
        name: str = "race-oracle",
        unreachable: frozenset[str] = frozenset(),
    ) -> None:
        self.name = name
        self.latency = latency
        self.unreachable = unreachable
        """Claim ids whose reviewer gets no answer, as from an API that cannot be reached."""
        self._cached_prefixes: set[str] = set()

    def price(self, usage: Usage) -> float | None:
        return 0.0  # offline: nothing is spent

    async def request(self, req: ModelRequest) -> ModelResponse:
        if self.latency:
            await asyncio.sleep(self.latency)
        if data_block(req.messages) is not None:
            return self._reply(req, write_report(data_block(req.messages)))
        prompt = next((m.text for m in req.messages if m.role == "user" and m.text), "")
        claim = _CLAIM_ID.search(prompt) if _REVIEW.search(prompt) else None
        if claim is not None and claim.group(1) in self.unreachable:
            raise ModelError(f"no answer for the reviewer of {claim.group(1)} (unreachable)")
        if any(t.name == "read" for t in req.tools):
            paths = _to_read(req.messages, prompt, reviewing=claim is not None)
            if paths:
                first = sum(len(m.tool_calls) for m in req.messages)
                calls = [
                    ToolCall(f"oracle_{first + i}", "read", {"path": p})
                    for i, p in enumerate(paths)
                ]
                return self._reply(req, "", calls)
        read = files_read(req.messages)
        if claim is not None:
            return self._reply(req, json.dumps(_review(claim.group(1), read)))
        return self._reply(req, json.dumps(_audit(prompt, read)))

    def _reply(self, req: ModelRequest, text: str, calls: list[ToolCall] = ()) -> ModelResponse:
        calls = list(calls)
        output = text + json.dumps([c.input for c in calls])
        prefix = req.system + json.dumps([t.input_schema for t in req.tools])
        usage = Usage(
            input_tokens=_tokens(billed_text(req.messages)), output_tokens=_tokens(output)
        )
        # the fan-out's shared prefix is written to a provider's cache once, then read
        if prefix in self._cached_prefixes:
            usage.cache_read_input_tokens = _tokens(prefix)
        else:
            self._cached_prefixes.add(prefix)
            usage.cache_creation_input_tokens = _tokens(prefix)
        stop = "tool_use" if calls else "end_turn"
        if usage.output_tokens > req.max_tokens:
            text, calls, stop = text[: req.max_tokens * 4], [], "max_tokens"
            usage.output_tokens = req.max_tokens
        return ModelResponse(text=text, tool_calls=calls, usage=usage, stop_reason=stop)


def _to_read(messages: list[Message], prompt: str, *, reviewing: bool) -> list[str]:
    """The paths in the prompt first; then, for a reviewer, the `related` files."""
    if not any(m.tool_results for m in messages):
        return mentioned_paths(prompt)
    if not reviewing:
        return []
    asked = paths_asked(messages)
    wanted: dict[str, None] = {}
    for path, content in files_read(messages).items():
        for marker in parse_markers(content):
            if marker["kind"] == "related" and marker.get("path"):
                target = posixpath.normpath(posixpath.join(posixpath.dirname(path), marker["path"]))
                if target not in asked:  # asked already, even if refused: do not spin
                    wanted.setdefault(target)
    return list(wanted)


def _audit(prompt: str, read: dict[str, str]) -> dict[str, Any]:
    files = mentioned_paths(prompt)
    file = files[0] if files else ""
    findings = [
        {
            "id": m["id"],
            "file": file,
            "lines": m.get("lines", ""),
            "shared_state": m.get("state", ""),
            "bug": m.get("bug", ""),
            "fix": m.get("fix", ""),
            "confidence": m.get("confidence", 0.5),
        }
        for m in parse_markers("\n".join(read.values()))
        if m["kind"] == "finding"
    ]
    top = max((f["confidence"] for f in findings), default=1.0)
    return {"file": file, "confidence": top, "findings": findings}


def _review(claim_id: str, read: dict[str, str]) -> dict[str, Any]:
    verdict: dict[str, Any] = {
        "id": claim_id,
        "verdict": "confirmed" if read else "unverified",
        "reason": "the code I read does what the claim says"
        if read
        else "nothing to check against",
    }
    markers = parse_markers("\n".join(read.values()))
    for marker in markers:
        if marker["kind"] == "refute" and marker.get("id") == claim_id:
            verdict.update(verdict="refuted", reason=marker.get("reason", ""))
    new = _cross_findings(markers, read)
    if new:
        verdict["new_findings"] = new
    return verdict


def _cross_findings(markers: list[dict[str, Any]], read: dict[str, str]) -> list[dict[str, Any]]:
    """`cross` markers whose every file this agent has read: bugs only visible together."""
    found = []
    for marker in markers:
        if marker["kind"] != "cross":
            continue
        wanted = [f for f in marker.get("files", "").split(",") if f]
        seen = [next((p for p in read if p.endswith(w)), None) for w in wanted]
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
