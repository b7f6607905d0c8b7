"""Views of runs: live progress, results, summaries. They only read the journal."""

from ._card import render_card
from ._progress import follow_run, live_progress, render_snapshot
from ._result import EXIT_CODES, print_result, rows_table, summary_line, warning_line
from ._safe import plain, visible
from ._snapshot import RunSnapshot, take_snapshot

__all__ = [
    "EXIT_CODES",
    "RunSnapshot",
    "follow_run",
    "live_progress",
    "plain",
    "print_result",
    "render_card",
    "render_snapshot",
    "rows_table",
    "summary_line",
    "take_snapshot",
    "visible",
    "warning_line",
]
