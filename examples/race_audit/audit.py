meta = {
    "name": "race-audit",
    "description": "Audit TypeScript files for race conditions; reviewers refute weak findings.",
}

root = args.get("root", "examples/race_audit/sample")
files = await tools.glob(f"{root}/src/**/*.ts")
log(f"auditing {len(files)} files under {root}")

phase("audit")
reports = await gather(
    [
        spawn(
            "auditor",
            prompt=f"Read {f} and list its race conditions. Output JSON: "
            '{"file", "confidence", "findings": [{"id", "file", "lines", "shared_state", '
            '"bug", "fix", "confidence"}]}.',
            tools=["read", "grep"],
            max_tokens=4000,
            label=f,
        )
        for f in files
    ],
    concurrency=16,
)
findings = [finding for report in reports if report for finding in report.get("findings", [])]

phase("review")
weak = [f for f in findings if f.get("confidence", 0) < 0.7]
verdicts = await gather(
    [
        spawn(
            "reviewer",
            prompt=f"Try to refute this claim about {f['file']}:\n{json.dumps(f)}",
            tools=["read", "grep"],
            max_tokens=2000,
            label=f["id"],
        )
        for f in weak
    ],
    concurrency=8,
)

phase("report")
await synthesize(
    {"findings": findings, "refutations": [v for v in verdicts if v]},
    instructions="One report of confirmed race conditions, most severe first. "
    "Drop findings the reviewers refuted and list them apart.",
)
