"""Issue 15 item 5: prices and estimates without a key.

Every model the docs name has a price that says where its figures come from;
config overrides it; `--dry-run` and the approval card need no API key, and
the card shows each phase's cost and the run's worst case under the budget.
A real run without the key still stops before anything is journaled or spent.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fanflow._journal import Journal
from fanflow._models import Usage
from fanflow._models._pricing import PRICE_TABLE, price_for

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
NAMED = re.compile(r"\b(anthropic|openai):([a-z0-9][a-z0-9.\-]*[a-z0-9])")
OPUS = "anthropic:claude-opus-4-8"
SCRIPT = "examples/race_audit/audit.py"


def _named_models() -> set[str]:
    names = set()
    for doc in DOCS:
        for provider, model in NAMED.findall(doc.read_text()):
            if not model.endswith("-"):
                names.add(f"{provider}:{model}")
    return names


def test_the_docs_name_models():
    assert OPUS in _named_models() and "openai:gpt-5" in _named_models()


@pytest.mark.parametrize("name", sorted(_named_models()))
def test_every_model_the_docs_name_has_a_sourced_price(name):
    price = price_for(name)
    assert price is not None, f"{name} is named in the docs but has no price"
    listed = PRICE_TABLE.get(name)
    assert listed is not None
    assert listed.source.startswith("https://") and "pricing" in listed.source
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", listed.checked)
    assert price.input > 0 and price.output > price.input
    assert 0 < price.cache_read < price.input


def test_the_published_figures():
    million = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert price_for(OPUS).cost(million) == 30.0  # $5 in + $25 out per MTok
    cached = Usage(cache_read_input_tokens=1_000_000, cache_creation_input_tokens=1_000_000)
    assert price_for(OPUS).cost(cached) == pytest.approx(0.5 + 6.25)
    assert price_for("openai:gpt-5").cost(million) == 11.25


def fanflow(*args: str, cwd: Path = REPO, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    return subprocess.run(
        [sys.executable, "-m", "fanflow", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**environment, "COLUMNS": "200", **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def test_dry_run_json_needs_no_key_and_prices_every_phase():
    proc = fanflow("run", SCRIPT, "--model", OPUS, "--dry-run", "--json")
    assert proc.returncode == 0, proc.stderr
    estimate = json.loads(proc.stdout)
    assert estimate["cost_usd"] is not None and estimate["cost_usd"] > 0
    assert estimate["phases"] and all(p["cost_usd"] is not None for p in estimate["phases"])
    worst = estimate["worst_case"]
    assert worst["tokens"] > estimate["input_tokens"] + estimate["output_tokens"]
    assert worst["cost_usd"] > estimate["cost_usd"]


@pytest.mark.parametrize("model", [OPUS, "openai:gpt-5"])
def test_the_card_shows_phase_costs_and_the_worst_case_under_the_budget(model):
    proc = fanflow("run", SCRIPT, "--model", model, "--dry-run", "--budget", "5k")
    assert proc.returncode == 0, proc.stderr
    card = proc.stdout
    for phase in ("audit", "review", "report"):
        row = next(line for line in card.splitlines() if line.strip("│ ").startswith(phase))
        assert re.search(r"\$\d+\.\d{4}", row) and "?" not in row, row
    assert "Worst case:" in card
    assert "under the budget: at most 5,000 tokens" in card


def test_a_config_price_overrides_the_table(tmp_path):
    workspace = tmp_path / "ws"
    (workspace / ".fanflow").mkdir(parents=True)
    (workspace / ".fanflow" / "config.toml").write_text(
        f'[prices."{OPUS}"]\ninput = 0\noutput = 0\ncache_write = 0\ncache_read = 0\n'
    )
    (workspace / "a.txt").write_text("hello\n")
    script = workspace / "w.py"
    script.write_text("await spawn('general', 'Read a.txt and summarize it.', tools=['read'])\n")
    proc = fanflow(
        "run", str(script), "--model", OPUS, "--workspace", str(workspace), "--dry-run", "--json"
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["cost_usd"] == 0.0


def test_a_real_run_without_the_key_stops_before_spending(tmp_path):
    home = tmp_path / "home"
    proc = fanflow("run", SCRIPT, "--model", OPUS, "--yes", env={"FANFLOW_HOME": str(home)})
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines[-1].endswith(
        "ANTHROPIC_API_KEY is not set; export your API key, "
        "or use --model test to check the plumbing offline"
    )
    assert "Traceback" not in proc.stderr
    journal = Journal(home / "fanflow.db")
    assert journal.list_runs() == []  # nothing journaled, nothing spent
