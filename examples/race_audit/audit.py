meta = {
    "name": "race-audit",
    "description": "Audit TypeScript files for race conditions; reviewers refute weak findings.",
}

FINDING = {
    "type": "object",
    "required": ["id", "file", "lines", "shared_state", "bug", "fix", "confidence"],
    "properties": {
        "id": {"type": "string"},
        "file": {"type": "string"},
        "lines": {"type": "string"},
        "shared_state": {"type": "string"},
        "bug": {"type": "string"},
        "fix": {"type": "string"},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
    },
}
AUDIT = {
    "type": "object",
    "required": ["file", "findings"],
    "properties": {"file": {"type": "string"}, "findings": {"type": "array", "items": FINDING}},
}
VERDICT = {
    "type": "object",
    "required": ["id", "verdict", "reason"],
    "properties": {
        "id": {"type": "string"},
        "verdict": {"enum": ["confirmed", "refuted", "unverified"]},
        "reason": {"type": "string"},
        "new_findings": {"type": "array", "items": FINDING},
    },
}

root = args.get("root", "examples/race_audit/sample")
files = await tools.glob(f"{root}/src/**/*.ts")
log(f"auditing {len(files)} files under {root}")

phase("audit")
reports = await gather(
    [
        spawn(
            "auditor",
            prompt=f"Read {f} and list its race conditions, each with the file, lines, "
            "shared state, what goes wrong, a fix hint and your confidence from 0 to 1.",
            tools=["read", "grep"],
            max_tokens=4000,
            schema=AUDIT,
            label=f,
        )
        for f in files
    ],
    concurrency=16,
)
findings = [finding for report in reports if report for finding in report["findings"]]

phase("review")
weak = [f for f in findings if f["confidence"] < 0.7]
verdicts = await gather(
    [
        spawn(
            "reviewer",
            prompt=f"Try to refute this claim about {f['file']}; read what guards it and "
            f"what else touches the same state:\n{json.dumps(f)}",
            tools=["read", "grep"],
            max_tokens=2000,
            schema=VERDICT,
            label=f["id"],
        )
        for f in weak
    ],
    concurrency=8,
)

phase("report")
await synthesize(
    {"findings": findings, "refutations": [v for v in verdicts if v]},
    instructions="One report of confirmed race conditions, most severe first. Drop findings "
    "the reviewers refuted and list them apart; add what reviewers found across files.",
)
