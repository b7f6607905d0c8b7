"""Issue 14, class 13: untrusted text on the terminal is shown, never obeyed.

Every view passes text from scripts and models through `fanflow._views.plain`
/ `visible`: Rich markup is not parsed (so `[/x]` cannot crash a view, nor
`[bold]` or `[link=...]` restyle it), and control characters (ANSI, OSC 52,
OSC 8 hyperlinks, C1, `\\r`, bidi overrides) are printed as their escapes.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import journal_run
from rich.console import Console

from fanflow._journal import Journal
from fanflow._views import (
    follow_run,
    plain,
    print_result,
    render_card,
    render_snapshot,
    take_snapshot,
    visible,
)
from fanflow._views._snapshot import PhaseRow, RunSnapshot

MARKUP = ["[/x]", "[bold red]LOUD[/]", "[link=https://evil.example]click[/link]", "[/]"]
CONTROL = {
    "sgr": "\x1b[31mRED\x1b[0m",
    "osc52": "\x1b]52;c;ZXZpbA==\x07",
    "osc8": "\x1b]8;;https://evil.example\x1b\\text\x1b]8;;\x1b\\",
    "cr": "safe\rEVIL",
    "bidi": "abc\u202edcba",
    "c1 csi": "\x9b31mX",
    "bell": "ding\x07",
    "backspace": "abc\x08\x08\x08xyz",
}
ATTACK = " ".join(MARKUP) + " " + " ".join(CONTROL.values())
RAW = ["\x1b", "\x07", "\x9b", "\r", "\u202e", "\x08"]


def capture(renderable, width: int = 400) -> str:
    """Render at a fixed width with no colour: any control byte came from the input."""
    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None, force_terminal=True)
    console.print(renderable)
    return out.getvalue()


def assert_inert(text: str) -> None:
    for raw in RAW:
        assert raw not in text, f"{raw!r} reached the terminal"
    for markup in MARKUP:
        assert markup in text, f"{markup!r} was parsed as markup"
    assert "\\x1b[31mRED" in text and "\\u202e" in text and "\\x9b" in text


def test_visible_escapes_every_unsafe_character_and_keeps_the_rest():
    assert visible("tab\tnew\nline ok é 漢") == "tab\tnew\nline ok é 漢"
    for name, value in CONTROL.items():
        shown = visible(value)
        assert not any(raw in shown for raw in RAW), name


def test_the_progress_table_and_its_event_lines():
    snap = RunSnapshot(
        run_id="r",
        status="running",
        elapsed_s=1.0,
        concurrency_cap=4,
        running=1,
        phases=[PhaseRow(ATTACK, 2, 1, 0, 1, 10, 5, 0)],
        recent_events=[f"log: {ATTACK}"[:160], f"log: {' '.join(MARKUP)} {CONTROL['osc52']}"],
    )
    text = capture(render_snapshot(snap))
    assert_inert(text)


def test_the_approval_card():
    estimate = {
        "phases": [
            {"name": ATTACK, "agents": 3, "input_tokens": 1, "output_tokens": 2, "cost_usd": None}
        ],
        "agents": 3,
        "input_tokens": 1,
        "output_tokens": 2,
        "cost_usd": None,
        "assumptions": [ATTACK],
        "note": ATTACK,
    }
    card = render_card(
        estimate,
        title=f"workflow {ATTACK}",
        model="m",
        agent_effort="low",
        permission_mode="auto",
        concurrency=4,
        budget_note=None,
    )
    assert_inert(capture(card))


@pytest.mark.parametrize(
    "result",
    [
        ATTACK,
        f"# heading\n\n{ATTACK}\n\n[{CONTROL['sgr']}](https://evil.example)",
        [{"name": ATTACK, ATTACK: 1}],
        {"deep": [ATTACK]},
    ],
    ids=["text", "markdown", "rows", "json"],
)
def test_a_result_in_every_shape(result):
    out = io.StringIO()
    console = Console(file=out, width=400, color_system=None, force_terminal=True)
    print_result(result, console)
    text = out.getvalue()
    for raw in RAW:
        assert raw not in text
    assert "\x1b]8;;https://evil.example" not in text  # no hyperlink, from markdown either


def test_plain_text_is_never_markup():
    for markup in MARKUP:
        assert capture(plain(markup)).strip() == markup


def _journal_with_hostile_run() -> str:
    journal = Journal()
    journal_run(
        journal,
        "hostile",
        script=f"# {ATTACK}\nreturn 1",
        script_path=f"/tmp/{ATTACK}.py",
        workflow_name=f"wf {ATTACK}",
        workspace="/tmp/ws",
        settings={"concurrency": 2},
    )
    journal.start_run("hostile")
    journal.add_phase("hostile", 0, ATTACK)
    journal.add_agent(
        "hostile",
        1,
        phase=ATTACK,
        seq_in_phase=0,
        agent_type="general",
        label=ATTACK,
        model="m",
        tools=[],
        prompt="p",
        prompt_hash="ph",
        identity="id",
    )
    journal.finish_agent("hostile", 1, "failed", error=f"model said {ATTACK}")
    journal.event("hostile", "log", ATTACK, phase=ATTACK)
    journal.event("hostile", "unit_failed", ATTACK, phase=ATTACK)
    journal.finish_run("hostile", "partial", result=ATTACK, error=ATTACK)
    journal.close()
    return "hostile"


async def test_watch_without_a_terminal_prints_inert_lines():
    run_id = _journal_with_hostile_run()
    out = io.StringIO()
    console = Console(file=out, width=400, color_system=None, force_terminal=False)
    await follow_run(Journal(), run_id, console)
    assert_inert(out.getvalue())


def test_show_renders_the_snapshot_of_a_hostile_run():
    run_id = _journal_with_hostile_run()
    text = capture(render_snapshot(take_snapshot(Journal(), run_id, events=5)))
    assert_inert(text)


def _fanflow(*args: str, terminal: bool) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "400", "NO_COLOR": "1"}
    if terminal:
        env["TTY_COMPATIBLE"] = "1"  # Rich draws as for a terminal though stdout is a pipe
    else:
        env.pop("TTY_COMPATIBLE", None)
    return subprocess.run(
        [sys.executable, "-m", "fanflow", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


@pytest.mark.slow
@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "pipe"])
@pytest.mark.parametrize(
    "args",
    [
        ("show", "hostile"),
        ("show", "hostile", "--agents"),
        ("ls",),
        ("watch", "hostile"),
        ("show", "hostile", "--script"),
    ],
    ids=["show", "show-agents", "ls", "watch", "show-script"],
)
def test_cli_views_survive_and_stay_inert(args: tuple[str, ...], terminal: bool):
    _journal_with_hostile_run()
    done = _fanflow(*args, terminal=terminal)
    assert done.returncode == 0, done.stderr
    if args[-1] == "--script" and not terminal:
        return  # `show --script > file` gives the exact script back, byte for byte
    text = done.stdout + done.stderr
    for raw in ("\x1b]", "\x07", "\x9b", "\u202e", "\x1b[31mRED"):
        assert raw not in text, (raw, text[:400])
    assert "Traceback" not in text and "MarkupError" not in text


@pytest.mark.slow
def test_an_error_line_from_a_script_is_inert(tmp_path: Path):
    script = tmp_path / "bad.py"
    script.write_text(f"x = 1\nraise ValueError({ATTACK!r})\n")
    done = _fanflow("run", str(script), "--model", "test", "--yes", terminal=True)
    text = done.stdout + done.stderr
    for raw in ("\x1b]", "\x07", "\x9b", "\u202e", "\x1b[31mRED"):
        assert raw not in text, (raw, text[-600:])
    assert "Traceback" not in text and "MarkupError" not in text
