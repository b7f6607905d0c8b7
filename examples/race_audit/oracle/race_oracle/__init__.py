"""The race-audit example's scripted model, registered as `--model race-oracle`.

It is not an LLM. The sample's files carry `planted:` comments that state the
answers (which lines race, which claims are false); this model reads them
through the agents' `read` tool and answers as the example's auditors,
reviewers and synthesizer would, so the workflow can be shown end to end with
no API key. It knows this example and nothing else.
"""

from __future__ import annotations

import os

from fanflow import ConfigError

from ._model import OracleModel

__all__ = ["OracleModel", "factory"]

LATENCY_VAR = "RACE_ORACLE_LATENCY"
UNREACHABLE_VAR = "RACE_ORACLE_UNREACHABLE"


def factory(model: str, options: dict[str, str]) -> OracleModel:
    """`--model race-oracle`: `[models.race-oracle] latency = "0.3"` (or $RACE_ORACLE_LATENCY)
    makes every call take that many seconds, so the fan-out can be watched;
    `unreachable = "R4,FP2"` (or $RACE_ORACLE_UNREACHABLE) makes the reviewers of those
    claims get no answer, so the report shows them unverified."""
    unreachable = options.get("unreachable", os.environ.get(UNREACHABLE_VAR, ""))
    raw = options.get("latency", os.environ.get(LATENCY_VAR, "0"))
    try:
        latency = float(raw)
    except ValueError:
        latency = -1.0
    if not 0 <= latency <= 60:
        raise ConfigError(
            f"race-oracle latency {raw!r} is not a number of seconds from 0 to 60; "
            f'set [models.race-oracle] latency = "0.3" or {LATENCY_VAR}=0.3'
        )
    return OracleModel(
        latency=latency,
        name="race-oracle" + (f":{model}" if model else ""),
        unreachable=frozenset(i.strip() for i in unreachable.split(",") if i.strip()),
    )
