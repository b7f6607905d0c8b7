"""Foreground progress: a rich live table on a terminal, plain lines otherwise.

One task redraws from a journal snapshot at a fixed rate; the run never draws.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from .._journal import Journal, effective_status
from .._journal._lifecycle import LIVE
from .._report import attempt_first_event
from ._safe import plain
from ._snapshot import QUIET_EVENTS, RunSnapshot, event_line, take_snapshot

REFRESH_S = 0.25


def render_snapshot(snap: RunSnapshot) -> Group:
    """The progress table for one snapshot (also used by tests at a fixed width)."""
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("", no_wrap=True)
    for column, justify in [
        ("phase", "left"),
        ("agents", "right"),
        ("done", "right"),
        ("running", "right"),
        ("failed", "right"),
        ("in tok", "right"),
        ("out tok", "right"),
        ("cached", "right"),
    ]:
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for p in snap.phases:
        failed = Text(str(p.failed), style="red" if p.failed else "")
        table.add_row(
            ProgressBar(total=max(p.agents, 1), completed=p.succeeded + p.failed, width=16),
            plain(p.name),
            str(p.agents),
            str(p.succeeded),
            str(p.running),
            failed,
            f"{p.input_tokens:,}",
            f"{p.output_tokens:,}",
            f"{p.cache_read_input_tokens:,}",
        )
    head = Text.assemble(
        (f"run {snap.run_id} ", "bold"),
        (snap.status, _status_style(snap.status)),
        f"  {snap.elapsed_s:5.1f}s  in flight {snap.running}/{snap.concurrency_cap}"
        + (
            f" (adaptive limit {snap.adaptive_limit})"
            if snap.adaptive_limit is not None and snap.adaptive_limit < snap.concurrency_cap
            else ""
        )
        + (
            f" (paced to {snap.paced_per_minute:,}/min by the provider's headers)"
            if snap.paced_per_minute
            else ""
        )
        + f"  tokens {snap.total_tokens:,}"
        + (f"  retries {snap.retries} ({snap.retried} agent(s))" if snap.retried else ""),
    )
    parts: list = [head, table]
    if snap.paused:
        parts.append(plain(f"paused: {snap.paused}", style="yellow"))
    parts += [plain(line, style="yellow") for line in snap.holds]
    parts += [plain(line[:160], style="dim") for line in snap.recent_events]
    return Group(*parts)


def _status_style(status: str) -> str:
    styles = {"succeeded": "green", "partial": "yellow", "failed": "red", "cancelled": "magenta"}
    return {**styles, "paused": "yellow"}.get(status, "cyan")


@contextlib.asynccontextmanager
async def live_progress(
    journal: Journal, started: asyncio.Event, run_id_of: Callable[[], str], console: Console
) -> AsyncIterator[None]:
    """Redraw while the body runs (from when `started` is set); the last frame stays."""

    # What the journal holds before the body runs is an earlier attempt's (a resume):
    # it was shown then, so only this attempt's phases and events are printed.
    before = _shown_already(journal, run_id_of())

    async def draw() -> None:
        await started.wait()
        await _follow(journal, run_id_of(), console, until=lambda: False, shown=before)

    task = asyncio.create_task(draw())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def follow_run(
    journal: Journal, run_id: str, console: Console, *, quiet: bool = False
) -> None:
    """Draw a run's progress from the journal until it ends (any process, any terminal)."""

    def done() -> bool:
        return effective_status(journal.get_run(run_id)) not in LIVE

    if quiet:
        while not done():  # noqa: ASYNC110 - another process writes the journal: poll it
            await asyncio.sleep(REFRESH_S)
        return
    since = attempt_first_event(journal, run_id) - 1  # a resumed run: its latest attempt's
    await _follow(journal, run_id, console, until=done, shown=(set(), since))


def _shown_already(journal: Journal, run_id: str) -> tuple[set[str], int]:
    """The phases and the last event id a run's journal holds now."""
    last = journal.recent_events(run_id, 1)
    return {p["name"] for p in journal.phases(run_id)}, (last[-1]["id"] if last else 0)


async def _follow(
    journal: Journal,
    run_id: str,
    console: Console,
    *,
    until: Callable[[], bool],
    shown: tuple[set[str], int] = (set(), 0),
) -> None:
    """Redraw until `until()` or cancellation, then draw once more: a live table on a
    terminal, else one plain line per phase start and per event. `shown`: the phases
    and the last event not to print again (an earlier attempt's)."""
    if not console.is_terminal:
        seen, last = set(shown[0]), max(0, shown[1])
        try:
            while not until():
                last = _emit(journal, run_id, console, seen, last)
                await asyncio.sleep(REFRESH_S)
        finally:
            _emit(journal, run_id, console, seen, last)
        return
    with Live(console=console, auto_refresh=False, transient=False) as live:
        try:
            while not until():
                live.update(render_snapshot(take_snapshot(journal, run_id)), refresh=True)
                await asyncio.sleep(REFRESH_S)
        finally:
            live.update(render_snapshot(take_snapshot(journal, run_id)), refresh=True)


def _emit(journal: Journal, run_id: str, console: Console, seen: set[str], after: int) -> int:
    for phase in journal.phases(run_id):
        if phase["name"] not in seen:
            seen.add(phase["name"])
            console.print(plain(f"phase {phase['name']}"), highlight=False)
    for event in journal.events(run_id, after_id=after):
        after = event["id"]
        if event["kind"] not in QUIET_EVENTS:
            console.print(plain(event_line(event)), highlight=False)
    return after
