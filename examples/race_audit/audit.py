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
audits = [
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
]

phase("review")


async def reviewed(audit):
    # A file's weak findings go to reviewers as soon as its audit is in, while
    # other files are still being audited: no phase waits for the slowest file.
    report = await audit
    weak = [f for f in report["findings"] if f["confidence"] < 0.7]
    verdicts = await gather(
        [
            spawn(
                "reviewer",
                prompt=f"Try to refute this claim about {f['file']}; read what guards it "
                f"and what else touches the same state:\n{json.dumps(f)}",
                tools=["read", "grep"],
                max_tokens=2000,
                schema=VERDICT,
                label=f["id"],
            )
            for f in weak
        ]
    )
    # a reviewer that could not run (None) leaves its claim unverified, never refuted
    checked = [
        verdicts[i]
        or {"id": f["id"], "verdict": "unverified", "reason": "the reviewer could not run"}
        for i, f in enumerate(weak)
    ]
    return {"findings": report["findings"], "verdicts": checked}


files_done = [r for r in await gather([reviewed(a) for a in audits]) if r]

phase("report")
await synthesize(
    {
        "findings": [f for r in files_done for f in r["findings"]],
        "refutations": [v for r in files_done for v in r["verdicts"]],
    },
    instructions="One report of confirmed race conditions, most severe first. Drop findings "
    "the reviewers refuted and list them apart; add what reviewers found across files.",
)
