"""Nothing under src/fanflow knows the bundled examples or exists only for a fake.

The examples' scripted models and the fake provider server live outside the
package (examples/*/oracle, examples/*/scripted, tests/fakeapi); these checks
fail if their domain knowledge creeps back in.
"""

from __future__ import annotations

import re

from helpers import REPO

SRC = REPO / "src" / "fanflow"
SAMPLE = REPO / "examples" / "race_audit" / "sample"
WORDS = ["fanflow-sim", "planted", "Hono", "Express", "webhooks.js", "FANFLOW_SIM", "SimModel"]


def planted_ids() -> set[str]:
    """The ids the race-audit sample plants (R1, FP1, X1, ...), read from the sample."""
    text = "\n".join(p.read_text() for p in SAMPLE.rglob("*.ts"))
    return set(re.findall(r"planted:\s*\w+\s+id=(\S+)", text))


def source_texts() -> dict[str, str]:
    return {
        str(p.relative_to(REPO)): p.read_text(encoding="utf-8", errors="replace")
        for p in SRC.rglob("*")
        if p.is_file() and p.suffix in (".py", ".pyi", ".md", ".toml", ".html", ".js", ".css")
    }


def test_the_sample_plants_the_ids_this_check_looks_for():
    ids = planted_ids()
    assert {"R1", "FP1", "X1"} <= ids and len(ids) == 9


def test_no_source_file_names_an_example_or_its_answers():
    pattern = re.compile(
        "|".join(
            [re.escape(w) for w in WORDS] + [rf"\b{re.escape(i)}\b" for i in sorted(planted_ids())]
        )
    )
    found = {
        path: sorted(set(pattern.findall(text)))
        for path, text in source_texts().items()
        if pattern.search(text)
    }
    assert found == {}


def test_the_fake_api_and_the_scripted_models_are_not_in_the_package():
    assert not (SRC / "_fakeapi").exists()
    assert not list(SRC.rglob("_sim*.py"))
    assert not [p for p, text in source_texts().items() if "infer_agent_type" in text]
