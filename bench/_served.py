"""The fake API in its own process, as a real API is: its CPU is not the client's.

    with served(Faults(latency=0.2)) as server:
        ... talk to server.url ...
    server.stats   # {"requests": ..., "by_status": {"200": ..., "429": ...}, ...}

The server process prints its URL, serves until its stdin closes, then prints
what it answered as one JSON line.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator

from _fake import FakeAPI, Faults

KEY = "bench-key-0123456789abcdef"


class Served:
    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process, self.url = process, url
        self.stats: dict = {}


@contextlib.contextmanager
def served(faults: Faults) -> Iterator[Served]:
    process = subprocess.Popen(
        [sys.executable, __file__, json.dumps(dataclasses.asdict(faults))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin and process.stdout
    server = Served(process, process.stdout.readline().strip())
    try:
        yield server
    finally:
        process.stdin.close()
        last = process.stdout.read().strip().splitlines()
        process.wait(timeout=30)
        server.stats = json.loads(last[-1]) if last else {}


async def _serve(faults: Faults) -> None:
    async with FakeAPI(api_key=KEY, faults=faults) as api:
        print(api.url, flush=True)
        # serve until the bench closes our stdin
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        statuses = Counter(str(r.status) for r in api.requests)
        print(
            json.dumps(
                {
                    "requests": len(api.requests),
                    "by_status": dict(statuses),
                    "peak_in_flight": api.peak_in_flight,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    asyncio.run(_serve(Faults(**json.loads(sys.argv[1]))))
