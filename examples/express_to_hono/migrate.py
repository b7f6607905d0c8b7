import re

meta = {
    "name": "express-to-hono",
    "description": "Migrate Express route files to Hono, one subagent per file; "
    "keep a file only when its test passes, roll it back otherwise.",
}

root = args.get("root", ".")
prefix = "" if root in ("", ".") else root.rstrip("/") + "/"
routes = await tools.glob(f"{prefix}server/routes/*.js")
log(f"migrating {len(routes)} route files under {root}")
if routes:
    # Rollback needs git: fail now, before any agent is spent, if it cannot work.
    try:
        await tools.git_restore(routes[0])
    except OSError as exc:
        raise RuntimeError(f"commit the route files to git first; {exc}") from None


def test_for(route):
    name = route.rsplit("/", 1)[-1].removesuffix(".js")
    return f"{prefix}__tests__/{name}.test.js"


def count(label, stdout):
    found = re.search(rf"(?m)^# {label} (\d+)", stdout)
    return int(found.group(1)) if found else 0


phase("migrate")
answers = await gather(
    [
        spawn(
            "migrator",
            prompt=f"Migrate {route} from Express to Hono and update its test "
            f"{test_for(route)}; write both files. Keep the behaviour identical. "
            'Answer JSON {"file", "test", "changed"}.',
            tools=["read", "write"],
            max_tokens=8000,
            label=route,
        )
        for route in routes
    ],
    concurrency=16,
)


async def check(route, answer):
    """Run one migrated file's test; the row says whether the change may stay."""
    row = {"file": route, "tests": "not run", "committed": False}
    if not isinstance(answer, dict) or not answer.get("changed"):
        return row
    try:
        result = await tools.run("test", test_for(route))
    except (OSError, ValueError) as exc:
        log(f"{route}: test did not run: {exc}")
        return row
    row["tests"] = f"{count('pass', result['stdout'])}/{count('tests', result['stdout'])}"
    row["committed"] = result["code"] == 0
    return row


phase("test")
rows = await gather([check(route, answers[i]) for i, route in enumerate(routes)])
results, stuck = [], []
for i, route in enumerate(routes):
    row = rows[i] or {"file": route, "tests": "not run", "committed": False}
    results.append(row)
    if row["committed"]:
        continue
    # one file at a time: concurrent `git checkout`s fight over .git/index.lock
    for path in (route, test_for(route)):
        try:
            await tools.git_restore(path)
        except OSError as exc:
            stuck.append(path)
            log(f"{path}: could not roll back: {exc}")
    log(f"{route}: rolled back (tests: {row['tests']})")

log(f"kept {sum(1 for r in results if r['committed'])} of {len(results)} migrations")
if stuck:
    raise RuntimeError(f"could not roll back {', '.join(stuck)}; restore them by hand")
results
