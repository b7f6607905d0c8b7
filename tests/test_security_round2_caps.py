"""Issue 14, class 10: every channel from a script or a model into memory or the journal
has a cap, checked before the data is stored.

Channels: exception text of gathered units, the run's own error, agent errors
(model and provider text), spawn prompts (one, and those of spawns never
awaited), schemas, names and other spawn arguments, `log()` lines in total,
script tool results in total, tool calls per model reply, tool-result text per
agent, the size of one reply, and the reply parser's work. Each test shows the
cap by counts and sizes in the journal or the report, never by time.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run

import fanflow._admission as admission
import fanflow._agents._parse as parse
from fanflow import ModelError, ModelRequest, ModelResponse
from fanflow._agents._reply import DROPPED, TOO_MANY, TOOLS_FULL
from fanflow._journal import Journal
from fanflow._limits import (
    MAX_AGENT_TOOL_CHARS,
    MAX_LOG_CHARS,
    MAX_MESSAGE_CHARS,
    MAX_PROMPT_CHARS,
    MAX_REPLY_CHARS,
    MAX_SCHEMA_CHARS,
    MAX_TOOL_CALLS_PER_REPLY,
    MAX_UNIT_FAILURES,
)
from fanflow._models import ToolCall, Usage
from fanflow._report import report_json
from fanflow._script import _channels

CUT = MAX_MESSAGE_CHARS + 400  # a cut message, its marker and a prefix naming the unit


def _journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "journal.db")


def _events(journal: Journal, run_id: str) -> list[dict]:
    return journal.events(run_id, limit=100_000)


def _errors(report: dict) -> str:
    return " | ".join(str(e["error"]) for e in report["errors"])


# exception text of gathered units, the run's error, agent errors ---------------------------


@pytest.mark.parametrize(
    "raiser",
    [
        'raise ValueError("x" * 1_000_000)',
        'raise RuntimeError("y" * 1_000_000)',
        'raise KeyError("k" * 1_000_000)',
        'raise ValueError("é" * 500_000 + "\\n" * 500_000)',
    ],
)
async def test_exception_text_of_gathered_units_is_cut(raiser, tmp_path):
    journal = _journal(tmp_path)
    script = f"async def boom(i):\n    {raiser}\nawait gather([boom(i) for i in range(40)])\n1\n"
    report = await run(script, journal=journal)
    failures = [e for e in report["errors"] if "gathered unit" in e["error"]]
    assert len(failures) == 40
    assert all(len(e["error"]) <= CUT for e in failures)
    assert len(report_json(report)) < 6 * 40 * CUT + 10_000  # was 40 MB (6: "\u00e9")
    stored = _events(journal, report["run_id"])
    assert sum(len(e["message"]) for e in stored) < 40 * CUT + 10_000


async def test_unit_failures_past_the_cap_are_counted_not_recorded(tmp_path):
    journal = _journal(tmp_path)
    script = (
        "async def boom(i):\n    raise ValueError('bad ' + str(i))\n"
        f"await gather([boom(i) for i in range({MAX_UNIT_FAILURES + 500})])\n1\n"
    )
    report = await run(script, journal=journal)
    assert report["status"] == "failed"  # the uncounted failures still count for the status
    kinds = [e for e in _events(journal, report["run_id"]) if e["kind"] == "unit_failed"]
    assert len(kinds) == MAX_UNIT_FAILURES + 1  # the recorded ones and one line saying so
    assert "later failures are counted" in kinds[-1]["message"]


async def test_a_script_calling_the_host_function_itself_is_cut_too(tmp_path):
    # eval reaches _ff_unit_failed directly: no prelude cut, odd types, a huge int index
    journal = _journal(tmp_path)
    script = (
        "f = eval('_ff_unit_failed')\n"
        "f(10 ** 5000, 'K' * 1_000_000, 'm' * 3_000_000)\n"
        "f([1], None, {'a': 1})\n"
        "f(3, 'ValueError', 'plain')\n"
        "1\n"
    )
    report = await run(script, journal=journal)
    failures = [e["error"] for e in report["errors"] if "gathered unit" in e["error"]]
    assert len(failures) == 3, _errors(report)
    assert all(len(text) <= CUT for text in failures)
    assert failures[0].startswith("gathered unit ? raised ")
    assert failures[2] == "gathered unit 3 raised ValueError: plain"


@pytest.mark.parametrize("kind", ["ValueError", "Exception", "AssertionError"])
async def test_the_scripts_own_uncaught_exception_is_cut_in_the_run_error(kind, tmp_path):
    report = await run(f"raise {kind}('z' * 20_000_000)\n", journal=_journal(tmp_path))
    assert report["status"] == "failed"
    (error,) = [e["error"] for e in report["errors"] if kind in e["error"]]
    assert len(error) <= CUT
    assert "more characters cut" in error


@pytest.mark.parametrize(
    "failure",
    [
        ModelError("m" * 2_000_000),  # the model misbehaved: its text in the message
        RuntimeError("c" * 2_000_000),  # a provider or plugin bug: crashed, with its text
    ],
)
async def test_agent_errors_are_cut_and_still_recorded_once(failure, tmp_path):
    def model(req: ModelRequest) -> str:
        raise failure

    journal = _journal(tmp_path)
    script = "r = await gather([spawn('general', 'p' + str(i)) for i in range(5)])\nr\n"
    report = await run(script, model=model, journal=journal)
    agent_errors = [e for e in report["errors"] if e["agent"] is not None]
    assert len(agent_errors) == 5
    assert all(len(e["error"]) <= CUT for e in agent_errors)
    assert len(report["errors"]) == 5  # no second copy as a unit failure
    stored = _events(journal, report["run_id"])
    assert sum(len(e["message"]) for e in stored) < 5 * 2 * CUT


async def test_an_awaited_agents_huge_error_reaches_the_script_cut(tmp_path):
    def model(req: ModelRequest) -> str:
        raise ModelError("q" * 3_000_000)

    script = (
        "try:\n    await spawn('general', 'p')\nexcept RuntimeError as e:\n    n = len(str(e))\nn\n"
    )
    report = await run(script, model=model, journal=_journal(tmp_path))
    assert report["result"] <= CUT


# spawn prompts, schemas, names -------------------------------------------------------------


async def test_a_prompt_over_the_cap_is_refused_before_it_is_journaled(tmp_path):
    script = (
        f"try:\n    spawn('general', 'p' * {MAX_PROMPT_CHARS + 1})\n"
        "except ValueError as e:\n    log(str(e))\n"
        f"a = await spawn('general', 'p' * {MAX_PROMPT_CHARS})\n'ok'\n"
    )
    journal = _journal(tmp_path)
    report = await run(script, journal=journal)
    assert report["agents"]["spawned"] == 1, _errors(report)  # the one at the cap ran
    logs = [e["message"] for e in _events(journal, report["run_id"]) if e["kind"] == "log"]
    assert any("at most 2,000,000" in line for line in logs), logs


async def test_prompts_of_spawns_never_awaited_are_capped_in_total(monkeypatch, tmp_path):
    monkeypatch.setattr(admission, "MAX_PENDING_PROMPT_CHARS", 1_000_000)
    journal = _journal(tmp_path)
    script = (
        "made = 0\nerror = None\nfor i in range(100):\n    try:\n"
        "        spawn('general', str(i) + 'p' * 100_000)\n        made += 1\n"
        "    except RuntimeError as e:\n        error = str(e)\n        break\n[made, error]\n"
    )
    report = await run(script, journal=journal)
    made, error = report["result"]
    assert made == 9  # 9 x 100,001 fit under 1,000,000; the 10th is refused
    assert "await or gather the spawns" in error
    rows = journal.agents(report["run_id"])
    assert len(rows) == 9
    assert sum(len(r["prompt"]) for r in rows) <= 1_000_000


@pytest.mark.parametrize("how", ["await", "gather", "strict-gather"])
async def test_starting_spawns_frees_their_share(how, monkeypatch, tmp_path):
    monkeypatch.setattr(admission, "MAX_PENDING_PROMPT_CHARS", 1_000_000)
    settle = {
        "await": "    for s in batch:\n        await s\n",
        "gather": "    await gather(batch)\n",
        "strict-gather": "    await gather(batch, strict=True)\n",
    }[how]
    script = (
        "for round in range(5):\n"
        "    batch = [spawn('general', str(round) + str(i) + 'p' * 100_000) for i in range(9)]\n"
        f"{settle}'done'\n"
    )
    report = await run(script, journal=_journal(tmp_path))
    assert report["status"] == "succeeded", _errors(report)
    assert report["agents"]["spawned"] == 45  # 5 x 9, though 45 prompts pass the total


@pytest.mark.parametrize(
    "schema",
    [
        "{'type': 'object', 'description': 'd' * 300_000}",
        "{'type': 'object', 'properties': {str(i): {'type': 'string'} for i in range(30_000)}}",
        "{'enum': list(range(100_000))}",
    ],
)
async def test_a_schema_over_the_cap_is_refused(schema, tmp_path):
    script = (
        f"try:\n    spawn('general', 'p', schema={schema})\n    r = 'admitted'\n"
        "except ValueError as e:\n    r = str(e)\nr\n"
    )
    report = await run(script, journal=_journal(tmp_path))
    assert f"over {MAX_SCHEMA_CHARS:,} characters" in report["result"]
    assert report["agents"]["spawned"] == 0


@pytest.mark.parametrize(
    "call",
    [
        "spawn('g' * 5_000_000, 'p')",
        "spawn('general', 'p', model='m' * 5_000_000)",
        "spawn('general', 'p', tools=['read'] * 100_000)",
        "spawn('general', 'p', tools=['r' * 5_000_000])",
        "spawn('general', 'p', effort=eval(\"'e' * 5_000_000\"))",
        "spawn('general', 'p', max_tokens=10 ** 5000)",
    ],
)
async def test_oversized_spawn_arguments_get_a_short_error(call, tmp_path):
    script = f"try:\n    {call}\n    r = 'admitted'\nexcept Exception as e:\n    r = str(e)\nr\n"
    report = await run(script, journal=_journal(tmp_path))
    assert report["result"] != "admitted"
    assert len(report["result"]) < 300, report["result"][:300]
    assert report["agents"]["spawned"] == 0


async def test_synthesize_still_fits_its_data_under_the_prompt_cap(tmp_path):
    script = "data = ['x' * 1000 for i in range(3000)]\nawait synthesize(data)\n"
    report = await run(script, journal=_journal(tmp_path))
    assert report["status"] == "succeeded", _errors(report)


# log() and script tool results, per run -----------------------------------------------------


@pytest.mark.parametrize("how", ["log('w' * 5000)", "eval('_ff_log')('v' * 3_000_000)"])
async def test_log_text_per_run_is_capped(how, tmp_path):
    journal = _journal(tmp_path)
    report = await run(f"for i in range(1500):\n    {how}\n1\n", journal=journal)
    logs = [e["message"] for e in _events(journal, report["run_id"]) if e["kind"] == "log"]
    assert sum(len(m) for m in logs) <= MAX_LOG_CHARS + len(_channels.LOG_CUT)
    assert len(logs) <= MAX_LOG_CHARS // 2000 + 1
    assert logs[-1] == _channels.LOG_CUT
    assert max(len(m) for m in logs) <= 2000


async def test_script_tool_results_per_run_are_capped_before_the_next_call(monkeypatch, tmp_path):
    monkeypatch.setattr(_channels, "MAX_SCRIPT_TOOL_CHARS", 100_000)
    (tmp_path / "big.txt").write_text("a" * 30_000)
    journal = _journal(tmp_path)
    script = (
        "n = 0\nerror = None\nfor i in range(50):\n    try:\n"
        "        await tools.read('big.txt')\n        n += 1\n"
        "    except OSError as e:\n        error = str(e)\n        break\n[n, error]\n"
    )
    report = await run(script, journal=journal, workspace=str(tmp_path))
    n, error = report["result"]
    assert n == 4  # 4 x 30,000 passes 100,000: the fifth call is refused before it runs
    assert "read fewer or smaller files" in error
    assert len(journal.tool_calls(report["run_id"])) == 4


# tool calls per reply, tool text per agent, one reply's size ---------------------------------


class Replies:
    """A model function: each reply in turn, then a final answer; keeps every request."""

    def __init__(self, *replies: ModelResponse) -> None:
        self.replies, self.requests = list(replies), []

    def __call__(self, req: ModelRequest) -> ModelResponse | str:
        self.requests.append(req)
        if len(self.requests) <= len(self.replies):
            return self.replies[len(self.requests) - 1]
        return '"done"'


def _calls(n: int, name: str = "read", **args) -> ModelResponse:
    calls = [ToolCall(f"c{i}", name, {k: v.format(i=i) for k, v in args.items()}) for i in range(n)]
    return ModelResponse(tool_calls=calls, usage=Usage(input_tokens=1, output_tokens=1))


@pytest.mark.parametrize("count", [2000, MAX_TOOL_CALLS_PER_REPLY + 1])
async def test_tool_calls_past_the_cap_get_an_error_and_do_not_run(count, tmp_path):
    model = Replies(_calls(count, "write", path="f{i}.txt", text="x"))
    report = await run(
        "r = await spawn('general', 'p', tools=['write'])\nr\n",
        model=model,
        workspace=str(tmp_path),
        journal=_journal(tmp_path),
    )
    assert report["status"] == "succeeded", _errors(report)
    written = sorted(tmp_path.glob("f*.txt"))
    assert len(written) == MAX_TOOL_CALLS_PER_REPLY  # only the first ones ran
    results = model.requests[1].messages[-1].tool_results
    assert [r.call_id for r in results] == [f"c{i}" for i in range(count)]  # one per call
    refused = [r for r in results if r.content == TOO_MANY]
    assert len(refused) == count - MAX_TOOL_CALLS_PER_REPLY
    assert all(r.is_error for r in refused)


async def test_tool_text_per_agent_is_capped_and_later_calls_do_not_run(tmp_path):
    (tmp_path / "big.txt").write_text("b\n" * 40_000)  # each read is cut at 60,000
    reads = _calls(MAX_TOOL_CALLS_PER_REPLY, path="big.txt")
    writes = _calls(3, "write", path="late{i}.txt", text="x")
    model = Replies(reads, writes)
    report = await run(
        "r = await spawn('general', 'p', tools=['read', 'write'])\nr\n",
        model=model,
        workspace=str(tmp_path),
        journal=_journal(tmp_path),
    )
    assert report["status"] == "succeeded", _errors(report)
    first = model.requests[1].messages[-1].tool_results
    assert sum(len(r.content) for r in first) <= MAX_AGENT_TOOL_CHARS
    assert any(r.content == DROPPED for r in first)
    second = model.requests[2].messages[-1].tool_results
    assert [r.content for r in second] == [TOOLS_FULL] * 3
    assert not list(tmp_path.glob("late*.txt"))  # refused before they ran
    held = sum(len(r.content) for m in model.requests[2].messages for r in m.tool_results)
    assert held <= MAX_AGENT_TOOL_CHARS + 10_000


@pytest.mark.parametrize(
    "reply",
    [
        ModelResponse(text="t" * (MAX_REPLY_CHARS + 1)),
        ModelResponse(
            text="calling",
            tool_calls=[ToolCall("a", "read", {"path": "x" * (MAX_REPLY_CHARS + 1)})],
        ),
        ModelResponse(
            tool_calls=[ToolCall(f"c{i}", "read", {"path": "p" * 1000}) for i in range(3000)]
        ),
    ],
    ids=["text", "one-argument", "many-arguments"],
)
async def test_a_reply_over_the_cap_fails_the_agent_before_any_tool_runs(reply, tmp_path):
    model = Replies(reply)
    report = await run(
        "r = await gather([spawn('general', 'p', tools=['read'])])\nr\n",
        model=model,
        workspace=str(tmp_path),
        journal=_journal(tmp_path),
    )
    assert report["agents"]["failed"] == 1
    assert f"over {MAX_REPLY_CHARS:,} characters" in _errors(report)
    assert len(model.requests) == 1  # no tool result went back: nothing ran


# the reply parser's work ------------------------------------------------------------------


class _CountingDecoder:
    def __init__(self) -> None:
        self.calls = 0

    def raw_decode(self, text: str, start: int):
        self.calls += 1
        return json.JSONDecoder().raw_decode(text, start)


@pytest.mark.parametrize(
    "text",
    [
        "[1," * 200_000 + "x]]] tail",
        '{"a":' * 200_000 + "x}} tail",
        "[" * 200_000 + " tail",
        "[1,1,1,1,1 x " * 100_000 + "end",
    ],
    ids=["nested-lists", "nested-objects", "brackets", "many-broken"],
)
def test_parsing_a_reply_costs_at_most_linear_work(text, monkeypatch):
    decoder = _CountingDecoder()
    monkeypatch.setattr(parse, "_DECODER", decoder)
    assert isinstance(parse.parse_reply(text), str)
    parse.looks_like_truncated_json(text)
    assert decoder.calls <= 2 * 200_000  # at most one try per bracket, in two passes
    if not text.startswith("[1,1"):
        assert decoder.calls <= 2 * 200  # nested: the shared budget ends the tries early


def test_a_reply_holding_json_after_prose_is_still_parsed():
    assert parse.parse_reply("prose " * 100_000 + '{"a": [1, 2]} end') == {"a": [1, 2]}


async def test_script_tool_errors_count_toward_the_same_total(monkeypatch, tmp_path):
    monkeypatch.setattr(_channels, "MAX_SCRIPT_TOOL_CHARS", 100_000)
    journal = _journal(tmp_path)
    script = (
        "n = 0\nlast = ''\nfor i in range(50):\n    try:\n"
        "        await tools.run('c' * 30_000 + str(i))\n    except Exception as e:\n"
        "        last = str(e)\n        n += 1\n[n, last]\n"
    )
    report = await run(script, journal=journal, workspace=str(tmp_path))
    n, last = report["result"]
    assert n == 50
    assert "read fewer or smaller files" in last
    assert len(journal.tool_calls(report["run_id"])) < 10  # not 50 long refusals


@pytest.mark.parametrize("units", ["[spawn('general', 'p')]", "[asyncio.sleep(0)]"])
async def test_a_huge_gather_concurrency_is_named_cut(units, tmp_path):
    script = (
        "import asyncio\n"
        f"try:\n    await gather({units}, concurrency=eval(\"'c' * 5_000_000\"))\n    r = 'ran'\n"
        "except ValueError as e:\n    r = str(e)\nr\n"
    )
    report = await run(script, journal=_journal(tmp_path))
    assert "must be a positive integer" in report["result"], report["result"][:200]
    assert len(report["result"]) < 200
