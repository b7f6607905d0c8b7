"""The web view's server: JSON read from the journal, and a live stream of a run.

It only reads the journal, like every other view, so it shows runs started
from any terminal, in the foreground or background. It listens on 127.0.0.1
only and answers only requests addressed to it by a loopback name (prompts and
results are private; this also stops DNS-rebinding pages from reading them).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from importlib import resources
from typing import Any

from aiohttp import web
from aiohttp_sse import sse_response

from .._errors import ConfigError
from .._journal import Journal, effective_status
from .._journal._encode import finite_value
from .._journal._lifecycle import LIVE
from .._liveness import request_stop
from .._report import build_report
from .._views import take_snapshot

HOST = "127.0.0.1"
TICK_S = 0.5
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
JOURNAL = web.AppKey("journal", Journal)


def make_app(journal: Journal) -> web.Application:
    app = web.Application(middlewares=[_loopback_only])
    app[JOURNAL] = journal
    app.router.add_get("/", _page)
    app.router.add_get("/api/runs", _runs)
    app.router.add_get("/api/runs/{run}", _run)
    app.router.add_get("/api/runs/{run}/live", _live)
    app.router.add_post("/api/runs/{run}/cancel", _cancel)
    return app


async def serve(journal: Journal, port: int, on_ready: Any = None) -> None:
    """Serve until cancelled; `on_ready(url)` once listening."""
    runner = web.AppRunner(make_app(journal), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, HOST, port)
        try:
            await site.start()
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {HOST}:{port} ({exc.strerror}); pick another --port"
            ) from None
        bound = runner.addresses[0][1]
        if on_ready is not None:
            on_ready(f"http://{HOST}:{bound}/")
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


@web.middleware
async def _loopback_only(request: web.Request, handler: Any) -> web.StreamResponse:
    host = request.host or ""
    name = host.split("]")[0] + "]" if host.startswith("[") else host.rsplit(":", 1)[0]
    if name not in LOOPBACK_NAMES:
        raise web.HTTPForbidden(text="fanflow ui answers only http://127.0.0.1 or localhost")
    return await handler(request)


async def _page(request: web.Request) -> web.Response:
    html = resources.files(__package__).joinpath("page.html").read_text(encoding="utf-8")
    return web.Response(text=html, content_type="text/html")


async def _runs(request: web.Request) -> web.Response:
    journal = request.app[JOURNAL]
    rows = journal.list_runs(int(request.query.get("limit", "50")))
    runs = [
        {
            "id": r["id"],
            "status": effective_status(r),
            "workflow": r["workflow_name"] or r["script_path"],
            "agents": r["n_agents"],
            "succeeded": r["n_ok"],
            "failed": r["n_failed"],
            "tokens": r["tokens"],
            "created_at": r["created_at"],
        }
        for r in rows
    ]
    return web.json_response({"runs": runs}, dumps=_dumps)


def _details(journal: Journal, run_id: str) -> dict[str, Any]:
    row = journal.get_run(run_id)
    snapshot = dataclasses.asdict(take_snapshot(journal, row["id"], events=12))
    agents = [
        {
            "id": a["id"],
            "phase": a["phase"],
            "type": a["agent_type"],
            "label": a["label"],
            "status": a["status"],
            "turns": a["turns"],
            "attempts": a["attempts"],
            "seconds": (a["ended_at"] - a["started_at"])
            if a["ended_at"] and a["started_at"]
            else None,
            "error": a["error"],
        }
        for a in journal.agents(row["id"])
    ]
    return {
        "snapshot": snapshot,
        "report": build_report(journal, row["id"]),
        "script": row["script"],
        "workspace": row["workspace"],
        "agents": agents,
    }


def _find(request: web.Request) -> str:
    try:
        return request.app[JOURNAL].get_run(request.match_info["run"])["id"]
    except ConfigError as exc:
        raise web.HTTPNotFound(text=str(exc)) from None


async def _run(request: web.Request) -> web.Response:
    run_id = _find(request)
    return web.json_response(_details(request.app[JOURNAL], run_id), dumps=_dumps)


async def _live(request: web.Request) -> web.StreamResponse:
    """Server-sent events: the run's details every TICK_S while it is live, then once more."""
    journal, run_id = request.app[JOURNAL], _find(request)
    async with sse_response(request) as stream:
        while stream.is_connected():
            details = _details(journal, run_id)
            await stream.send(_dumps(details), event="run")
            if details["snapshot"]["status"] not in LIVE:
                await stream.send("{}", event="end")
                break
            await asyncio.sleep(TICK_S)
    return stream


ACTION_HEADER = "X-Fanflow-Action"


async def _cancel(request: web.Request) -> web.Response:
    """Stop a run, as `fanflow cancel` does.

    The custom header cannot be sent cross-origin without a CORS preflight,
    which this server never grants, so another site cannot make a browser
    cancel runs (the loopback Host check stops DNS rebinding).
    """
    if request.headers.get(ACTION_HEADER) != "cancel":
        raise web.HTTPForbidden(text=f"send the {ACTION_HEADER}: cancel header")
    try:
        run_id, stopping = request_stop(request.app[JOURNAL], request.match_info["run"])
    except ConfigError as exc:
        raise web.HTTPConflict(text=str(exc)) from None
    return web.json_response({"run_id": run_id, "stopping": stopping}, dumps=_dumps)


def _dumps(value: Any) -> str:
    return json.dumps(finite_value(value), allow_nan=False)
