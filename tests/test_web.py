"""`fanflow ui`: the web view reads the journal and streams a live run."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys

from aiohttp.test_utils import TestClient, TestServer
from helpers import EXAMPLE, REPO, journal_run, run

from fanflow._journal import Journal
from fanflow._web import make_app


async def client_for(journal: Journal) -> TestClient:
    client = TestClient(TestServer(make_app(journal), host="127.0.0.1"))
    await client.start_server()
    return client


async def test_runs_details_and_page_come_from_the_journal():
    journal = Journal()
    report = await run(EXAMPLE.read_text(), journal=journal)
    client = await client_for(journal)
    try:
        page = await client.get("/")
        assert page.status == 200 and "<title>fanflow</title>" in await page.text()
        runs = (await (await client.get("/api/runs")).json())["runs"]
        assert runs[0]["id"] == report["run_id"] and runs[0]["status"] == "succeeded"
        assert runs[0]["agents"] == report["agents"]["spawned"]
        details = await (await client.get(f"/api/runs/{report['run_id'][:12]}")).json()
        assert details["report"]["result"] == report["result"]
        assert [p["name"] for p in details["snapshot"]["phases"]] == ["audit", "review", "report"]
        assert len(details["agents"]) == report["agents"]["spawned"]
        assert details["script"] == EXAMPLE.read_text()
        missing = await client.get("/api/runs/no-such-run")
        assert missing.status == 404 and "is not a run id" in await missing.text()
    finally:
        await client.close()


async def test_only_loopback_names_are_answered():
    client = await client_for(Journal())
    try:
        rebound = await client.get("/api/runs", headers={"Host": "evil.example:8765"})
        assert rebound.status == 403
        local = await client.get("/api/runs", headers={"Host": "localhost:8765"})
        assert local.status == 200
    finally:
        await client.close()


async def test_a_live_run_streams_until_it_ends():
    journal = Journal()
    release, started = asyncio.Event(), asyncio.Event()

    async def slow(req):
        started.set()
        await release.wait()
        return '{"ok": 1}'

    script = "await gather([spawn('general', f'u{i}') for i in range(3)])"
    task = asyncio.create_task(run(script, model=slow, journal=journal))
    await asyncio.wait_for(started.wait(), 10)
    run_id = journal.list_runs(1)[0]["id"]
    client = await client_for(journal)
    try:
        response = await client.get(f"/api/runs/{run_id}/live")
        assert response.headers["Content-Type"].startswith("text/event-stream")
        events = []
        while True:
            line = (await asyncio.wait_for(response.content.readline(), 10)).decode().strip()
            if line.startswith("event:"):
                events.append(line.split(":", 1)[1].strip())
            elif line.startswith("data:") and events[-1] == "run":
                status = json.loads(line[5:])["snapshot"]["status"]
                if status == "running":
                    release.set()  # seen live: let the agents finish
            if events and events[-1] == "end":
                break
        assert events.count("run") >= 2 and events[-1] == "end"
        assert (await task)["status"] == "succeeded"
    finally:
        release.set()
        await client.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cli_ui_serves_then_stops_on_ctrl_c():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "fanflow", "ui", "--port", str(port)],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        line = proc.stderr.readline()
        assert f"http://127.0.0.1:{port}/" in line
        busy = subprocess.run(
            [sys.executable, "-m", "fanflow", "ui", "--port", str(port)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert busy.returncode == 2
        assert busy.stderr.startswith("fanflow: error: cannot listen on 127.0.0.1")
        assert len(busy.stderr.strip().splitlines()) == 1
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0


async def test_cancel_from_the_page_stops_a_live_run_and_only_with_the_header():
    journal = Journal()
    finished = await run("await spawn('general', 'x')", journal=journal)
    live_id = "20990101-000000-live"
    journal_run(journal, live_id, script="x", script_path="s.py", workspace=str(REPO))
    journal.start_run(live_id)
    sleeper = "import time; time.sleep(60)"
    worker = await asyncio.create_subprocess_exec(sys.executable, "-c", sleeper)
    journal.db.execute("UPDATE runs SET pid=? WHERE id=?", (worker.pid, live_id))
    client = await client_for(journal)
    try:
        forged = await client.post(f"/api/runs/{live_id}/cancel")
        assert forged.status == 403 and worker.returncode is None
        header = {"X-Fanflow-Action": "cancel"}
        done = await client.post(f"/api/runs/{finished['run_id']}/cancel", headers=header)
        assert done.status == 409 and "already ended succeeded" in await done.text()
        stop = await client.post(f"/api/runs/{live_id}/cancel", headers=header)
        assert stop.status == 200 and (await stop.json()) == {"run_id": live_id, "stopping": True}
        assert journal.cancel_requested(live_id)
        assert await asyncio.wait_for(worker.wait(), 10) == -signal.SIGTERM  # it was told
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
        await client.close()
