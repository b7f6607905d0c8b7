"""An agent's model calls as the journal sees them: attempts, retries, holds.

The scheduler sets an `AgentWatch` for each agent's task (`watching`); the
retry policy (`_models._resilience.with_retries`) tells it of every attempt
sent and every failed attempt with the wait before the next one. Each retry
is a `retry` event of the agent, in one fixed shape the views read back:

    holding 12.0 s: 429 retry-after; attempt 2 failed: Anthropic API 429: ...

The agent's `attempts` column gets the number of attempts sent, whether the
agent succeeded or not; its `error` column keeps the last error.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Iterator
from typing import Any

from ._agents import AgentOutcome, AgentSpec
from ._breaker import Breaker
from ._errors import AccountStop, ModelError
from ._models._resilience import WATCH

RETRY = "retry"
RETRY_LINE = re.compile(r"^holding ([\d.]+) s: ([^;]+); attempt (\d+) failed: (.*)$", re.DOTALL)
"""How a `retry` event reads: (wait seconds, why, attempt number, error)."""


class AgentWatch:
    """One agent's `CallWatch`: counts attempts, journals retries, trips the breaker."""

    def __init__(self, journal: Any, spec: AgentSpec, breaker: Breaker) -> None:
        self.journal, self.spec, self.breaker = journal, spec, breaker
        self.sent = 0

    def gate(self) -> None:
        self.breaker.gate()

    def sending(self) -> None:
        self.sent += 1

    def retrying(self, error: ModelError, wait_s: float, why: str) -> None:
        text = " ".join(str(error).split())[:500]
        self.journal.event(
            self.spec.run_id,
            RETRY,
            f"holding {wait_s:.1f} s: {why}; attempt {self.sent} failed: {text}",
            agent_id=self.spec.agent_id,
            phase=self.spec.phase,
        )

    def stopped(self, error: AccountStop) -> None:
        self.breaker.trip(error, self.spec.phase)

    def note(self, kind: str, message: str) -> None:
        """An event of this agent from its calls: `waiting`, `timeout`, `api_error` (the
        whole error body), `tools_ignored`, ... (`_models._resilience.note`)."""
        self.journal.event(
            self.spec.run_id, kind, message, agent_id=self.spec.agent_id, phase=self.spec.phase
        )

    def amend(self, outcome: AgentOutcome) -> AgentOutcome:
        """The outcome with the attempts this agent really sent (a failure's too)."""
        if self.sent and self.sent != outcome.attempts:
            return dataclasses.replace(outcome, attempts=self.sent)
        return outcome


@contextlib.contextmanager
def watching(watch: AgentWatch) -> Iterator[None]:
    """Every model call of the current task (the agent's) reports to `watch`."""
    token = WATCH.set(watch)
    try:
        yield
    finally:
        WATCH.reset(token)
