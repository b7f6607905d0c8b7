"""The `sim` model as a lead model: it writes a workflow for the tasks it knows.

Deterministic and small on purpose: an audit task over a folder gets an
audit-and-review workflow over that folder's files; a per-file task gets a
fan-out with a synthesis; anything else is answered directly, as a task that
does not split into units should be.
"""

from __future__ import annotations

import json
import re
from collections import Counter

_LISTED = re.compile(r"^  (\S+) \d+$", re.MULTILINE)
_AUDIT = re.compile(r"\b(audit|race|concurren\w*|bugs?|vulnerab\w*|security)\b", re.IGNORECASE)
_PER_FILE = re.compile(r"\b(each|every|all|summari[sz]e|describe|document)\b", re.IGNORECASE)

_AUDIT_SCRIPT = """meta = {{"name": "audit", "description": {task}}}

FINDING = {{"type": "object", "required": ["id", "file", "lines", "bug", "fix", "confidence"],
           "properties": {{"id": {{"type": "string"}}, "file": {{"type": "string"}},
                          "lines": {{"type": "string"}}, "shared_state": {{"type": "string"}},
                          "bug": {{"type": "string"}}, "fix": {{"type": "string"}},
                          "confidence": {{"type": "number", "minimum": 0, "maximum": 1}}}}}}
AUDIT = {{"type": "object", "required": ["findings"],
         "properties": {{"findings": {{"type": "array", "items": FINDING}}}}}}

files = await tools.glob({pattern})
phase("audit")
reports = await gather(
    [spawn("auditor", f"Read {{f}} and report: " + {task}, tools=["read", "grep"],
           schema=AUDIT, label=f) for f in files])
findings = [x for r in reports if r for x in r["findings"]]

phase("review")
verdicts = await gather(
    [spawn("reviewer", f"Try to refute this claim about {{f['file']}}:\\n{{json.dumps(f)}}",
           tools=["read", "grep"], label=f["id"]) for f in findings if f["confidence"] < 0.7])

phase("report")
await synthesize({{"findings": findings, "refutations": [v for v in verdicts if v]}},
                 instructions="One report, most severe first; list refuted claims apart.")
"""

_FAN_OUT_SCRIPT = """meta = {{"name": "per-file", "description": {task}}}

files = await tools.glob({pattern})
phase("units")
answers = await gather([spawn("general", f"{{f}}: " + {task}, tools=["read"], label=f)
                        for f in files])
phase("merge")
await synthesize(answers, instructions={task})
"""


def plan_reply(prompt: str) -> str:
    """The lead model's answer to a planning prompt (see `fanflow._planner`)."""
    task = prompt.split("\n\n", 1)[0].removeprefix("Task: ").strip()
    files = _LISTED.findall(prompt)
    root = _root(task, files)
    under = [f for f in files if root == "." or f.startswith(root.rstrip("/") + "/")]
    if not under:
        return (
            "ANSWER: This does not split into independent units over files in the "
            f"workspace, so no workflow is needed. The task was: {task}"
        )
    ext = Counter(f.rsplit(".", 1)[-1] for f in under if "." in f).most_common(1)
    pattern = f"{root.rstrip('/')}/**/*.{ext[0][0]}" if ext else f"{root.rstrip('/')}/**/*"
    pattern = pattern.removeprefix("./")
    if _AUDIT.search(task):
        body = _AUDIT_SCRIPT
    elif _PER_FILE.search(task):
        body = _FAN_OUT_SCRIPT
    else:
        return f"ANSWER: This is one coherent piece of work, best done directly: {task}"
    return "```python\n" + body.format(task=json.dumps(task), pattern=json.dumps(pattern)) + "```"


def _root(task: str, files: list[str]) -> str:
    for token in re.findall(r"[\w./-]+", task):
        token = token.strip("./") if token not in (".", "./") else "."
        if token and any(f == token or f.startswith(token + "/") for f in files):
            return token
    return "."
