"""The lead model writes the workflow: `fanflow plan` and the first half of `fanflow do`.

The lead model (effort xhigh) gets the API stubs that scripts are checked
against, a compact view of the workspace, the limits, and example scripts.
It answers with a script, or, when the task does not split into independent
units, with the answer itself. A script that does not check goes back to the
model with the errors, a bounded number of times; then the plan fails (exit 2).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from ._agents import AgentRegistry
from ._agents._definitions import PLANNER_OPENING
from ._errors import ScriptError
from ._limits import Limits
from ._models import Message, Model, ModelRequest, Usage
from ._script import STUBS, Sandbox, check_syntax_and_names
from ._workspace import Workspace

MAX_ATTEMPTS = 3
SCRIPT_REPLY = "Answer with exactly one ```python fenced script."
"""How the lead model must reply with a workflow (`extract_script` reads it). The
protocol is the planner's own; fanflow's `test` model answers it with a trivial plan."""
DIRECT_ANSWER = "ANSWER:"
"""How the lead model replies instead when the task does not split into units."""
_FENCE = re.compile(r"```(?:python|py)?\s*\n(.*?)```", re.DOTALL)
_VIEW_FILES = 200

EXAMPLE_AUDIT = """meta = {"name": "sql-audit", "description": "SQL injection audit."}
FINDINGS = {"type": "object", "required": ["findings"], "properties": {"findings": {
    "type": "array", "items": {"type": "object", "required": ["id", "file", "bug", "confidence"],
    "properties": {"id": {"type": "string"}, "file": {"type": "string"},
                   "bug": {"type": "string"}, "confidence": {"type": "number"}}}}}}
files = await tools.glob("src/**/*.py")
phase("audit")
reports = await gather([spawn("auditor", f"Read {f} and list SQL injection risks.",
                              tools=["read", "grep"], schema=FINDINGS, label=f)
                        for f in files])
findings = [x for r in reports if r for x in r["findings"]]
phase("review")
verdicts = await gather([spawn("reviewer", f"Try to refute this claim:\\n{json.dumps(f)}",
                               tools=["read", "grep"]) for f in findings
                         if f["confidence"] < 0.7])
phase("report")
await synthesize({"findings": findings, "refutations": verdicts},
                 instructions="One report; drop what reviewers refuted.")
"""

EXAMPLE_MIGRATION = """meta = {"name": "rename-api", "description": "Test-gated API move."}
files = await tools.grep(r"old_api\\(", "src/**/*.py")
paths = sorted({hit["file"] for hit in files})
phase("migrate")
await gather([spawn("migrator", f"In {p}, replace old_api(x) with new_api(x). Write the file.",
                    tools=["read", "write"], label=p) for p in paths])
phase("test")
rows = []
for p in paths:
    result = await tools.run("test", p)
    if result["code"] != 0:
        await tools.git_restore(p)
    rows.append({"file": p, "kept": result["code"] == 0})
rows
"""


def planner_system(limits: Limits) -> str:
    return f"""{PLANNER_OPENING} You turn a task into a short Python workflow script that \
fanflow runs in a sandbox: it fans the work out to subagents, one per independent unit (a \
file, a module, an issue), each with a fresh context and only the tools it needs, then fans \
the answers back in.

Rules:
- Use only the API below (checked against these stubs before anything runs). Top-level await \
is allowed; json, re and asyncio are available; no other imports, no classes with bases, no \
file or network access except through tools.*.
- Start with meta = {{"name": ..., "description": ...}}. Use phase() before each stage.
- Give agents a JSON schema when later code reads fields of their answers.
- Limits: at most {limits.concurrency} agents at once and {limits.max_agents} per run; \
filter or chunk before spawning. Agent types: general, auditor, reviewer, synthesizer, migrator.
- Prefer adversarial review for findings, and per-unit tests with git_restore for changes.
- The script's last expression (or the last synthesize) is the result.

{SCRIPT_REPLY} If the task does not split into independent units (one file, one \
coherent piece of writing, a question), do not write a workflow: answer "{DIRECT_ANSWER}" \
followed by the answer itself.

API stubs:
```python
{STUBS}
```

Example (audit):
```python
{EXAMPLE_AUDIT}```

Example (test-gated change):
```python
{EXAMPLE_MIGRATION}```"""


def workspace_view(workspace: Workspace) -> str:
    """A compact view: file tree with sizes (cut), languages by extension, totals."""
    files = workspace.glob("**/*")
    sizes = {}
    for rel in files:
        try:
            sizes[rel] = (workspace.root / rel).stat().st_size
        except OSError:
            continue
    languages = Counter((rel.rsplit(".", 1)[-1] if "." in rel else "(none)") for rel in sizes)
    lines = [
        f"Workspace: {len(sizes)} files, {sum(sizes.values()):,} bytes.",
        "By extension: " + ", ".join(f".{ext} {n}" for ext, n in languages.most_common(12)),
        "Files (path, bytes):",
    ]
    lines += [f"  {rel} {size}" for rel, size in list(sizes.items())[:_VIEW_FILES]]
    if len(sizes) > _VIEW_FILES:
        lines.append(f"  ... and {len(sizes) - _VIEW_FILES} more")
    return "\n".join(lines)


@dataclass
class Plan:
    """What the lead model decided: a checked script, or a direct answer."""

    script: str | None = None
    answer: str | None = None
    attempts: int = 0
    usage: list[Usage] = field(default_factory=list)


async def make_plan(
    task: str,
    model: Model,
    workspace: Workspace,
    sandbox: Sandbox,
    *,
    limits: Limits | None = None,
    effort: str = "xhigh",
    max_attempts: int = MAX_ATTEMPTS,
) -> Plan:
    """Ask the lead model for a script and check it; feed errors back, bounded."""
    registry = AgentRegistry(workspace.root)
    system = planner_system(limits or Limits())
    messages = [Message("user", f"Task: {task}\n\n{workspace_view(workspace)}")]
    plan = Plan()
    problem = ""
    for attempt in range(1, max_attempts + 1):
        plan.attempts = attempt
        reply = await model.request(
            ModelRequest(
                system=system,
                messages=list(messages),
                tools=[],
                max_tokens=16_000,
                effort=effort,
            )
        )
        plan.usage.append(reply.usage)
        text = reply.text.strip()
        if text.upper().startswith(DIRECT_ANSWER):
            plan.answer = text[len(DIRECT_ANSWER) :].strip()
            return plan
        script = extract_script(text)
        try:
            check_syntax_and_names(script, "plan.py", registry)
            await sandbox.check(script, "plan.py")
        except ScriptError as exc:
            problem = "\n".join(exc.details) or str(exc)
            messages += [
                Message("assistant", text),
                Message(
                    "user",
                    f"The script does not check:\n{problem}\nFix it and answer with the "
                    "whole script in one ```python block.",
                ),
            ]
            continue
        plan.script = script
        return plan
    raise ScriptError(
        f"the lead model wrote no script that checks in {max_attempts} attempts; "
        f"last problem: {problem.splitlines()[0] if problem else 'none'}; "
        "rephrase the task or write the script yourself",
        path="plan.py",
    )


def extract_script(text: str) -> str:
    """The fenced script in a reply (the longest, if several), else the reply itself."""
    blocks = _FENCE.findall(text)
    return max(blocks, key=len).strip() + "\n" if blocks else text.strip() + "\n"
