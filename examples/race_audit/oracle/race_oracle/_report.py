"""The synthesizer's answer: the audit's findings and verdicts as one Markdown report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fanflow import Message


def data_block(messages: list[Message]) -> Any:
    """The JSON between `<data>` and `</data>` (synthesize's fan-in block), or None."""
    for m in messages:
        start = m.text.find("<data>")
        if start >= 0:
            try:
                return json.loads(m.text[start + 6 : m.text.rfind("</data>")])
            except ValueError:
                return m.text
    return None


def write_report(data: Any) -> str:
    """Confirmed findings most confident first; refuted ones and cross-file finds apart."""
    verdicts = {v.get("id"): v for v in _dicts_with(data, "verdict")}
    across = {
        f["id"]: f
        for v in verdicts.values()
        for f in v.get("new_findings") or []
        if isinstance(f, dict) and f.get("id")
    }
    findings = [f for f in _dicts_with(data, "bug") if f.get("id") not in across]
    findings.sort(key=lambda f: (-float(f.get("confidence") or 0), str(f.get("id"))))

    def verdict(f: dict[str, Any]) -> str | None:
        return verdicts.get(f.get("id"), {}).get("verdict")

    # a claim whose reviewer could not run is neither confirmed nor refuted: kept apart
    unverified = [f for f in findings if verdict(f) == "unverified"]
    kept = [f for f in findings if verdict(f) not in ("refuted", "unverified")]
    refuted = [f for f in findings if verdict(f) == "refuted"]
    head = f"# Report: {len(kept)} confirmed finding(s), {len(refuted)} refuted"
    lines = [head + (f", {len(unverified)} unverified" if unverified else ""), ""]
    lines += [_finding_line(f, verdicts.get(f.get("id"))) for f in kept] or ["(none)"]
    if refuted:
        lines += ["", "## Refuted by reviewers"]
        lines += [
            f"- [{f['id']}] {f.get('file')}: {verdicts[f['id']].get('reason', '')}" for f in refuted
        ]
    if across:
        lines += ["", "## Found across files by reviewers"]
        lines += [
            f"- [{f['id']}] {f.get('file')} `{f.get('shared_state')}`: {f.get('bug')} "
            f"Fix: {f.get('fix')}"
            for f in across.values()
        ]
    if unverified:
        lines += ["", "## Unverified: the reviewer could not check these (not refuted)"]
        lines += [
            f"- [{f['id']}] {f.get('file')}: {verdicts[f['id']].get('reason', '')}"
            for f in unverified
        ]
    return "\n".join(lines)


def _finding_line(f: dict[str, Any], verdict: dict[str, Any] | None) -> str:
    tag = " (confirmed by review)" if verdict and verdict.get("verdict") == "confirmed" else ""
    return (
        f"- [{f.get('id')}] {f.get('file')}:{f.get('lines')} `{f.get('shared_state')}`: "
        f"{f.get('bug')} Fix: {f.get('fix')}{tag}"
    )


def _dicts_with(data: Any, key: str) -> Iterator[dict[str, Any]]:
    if isinstance(data, dict):
        if key in data:
            yield data
        for value in data.values():
            yield from _dicts_with(value, key)
    elif isinstance(data, list):
        for item in data:
            yield from _dicts_with(item, key)
