meta = {
    "name": "local-docs-summary",
    "description": "A two-sentence summary of each file of docs/, then one overview of them all.",
}

# The model behind `make demo-local` has a 2,048-token context per slot, so each agent
# gets the opening of its file, not all of it; the report says how much.
EXCERPT = int(args.get("excerpt_chars", "3000"))
files = sorted(await tools.glob(args.get("glob", "docs/*.md")))

phase("summarize")
texts = [await tools.read(f) for f in files]
summaries = await gather(
    [
        spawn(
            "general",
            f"Here is the start of the file {f}:\n\n{texts[i][:EXCERPT]}\n\n"
            "Summarize what this file is about in two plain sentences.",
            tools=[],
            max_tokens=90,
            label=f,
        )
        for i, f in enumerate(files)
    ],
    concurrency=4,
)

phase("synthesize")
overview = await synthesize(
    {f: summaries[i] for i, f in enumerate(files) if summaries[i]},
    instructions="In three sentences, say what these documents describe together.",
)
{
    "excerpt_chars": EXCERPT,
    "summaries": {f: summaries[i] for i, f in enumerate(files)},
    "overview": overview,
}
