"""Finishing agents: each outcome journaled, and what it means for the rest of the run.

An agent's own failure fails that agent. A budget stop ends the run's spending
(`budget_exceeded`, resumable), and a failure no other agent can get past (a
bad key, an unknown model) makes every later host call raise (`fatal`). An
account that cannot go on trips the run's breaker (`_breaker`): the same stop,
but the run pauses and its stopped agents are `not_run`, not failed.
The envelopes returned, `{ok, value | error}`, are what the script sees.

Every message stored here is cut at `MAX_MESSAGE_CHARS` first: an agent's
error can carry a model's or a provider's text, and a gathered unit's
exception text is whatever the script raised (once 80 MB per report). Past
`MAX_UNIT_FAILURES`, failed units are counted, not recorded one by one.
"""

from __future__ import annotations

import contextlib
from typing import Any

from ._admission import Spawn
from ._agents import AgentOutcome
from ._agents._spec import ACCOUNT_STOP, BUDGET, CONTEXT, FATAL
from ._breaker import Breaker
from ._budget import BudgetExceeded
from ._errors import AccountStop, FanflowError
from ._journal import Journal
from ._limits import MAX_MESSAGE_CHARS, MAX_UNIT_FAILURES
from ._models import FatalModelError
from ._sizes import clip


class Outcomes:
    """The run's finished agents and failed units, and whether the run must stop."""

    def __init__(self, journal: Journal, run_id: str) -> None:
        self.journal, self.run_id = journal, run_id
        self.fatal: FanflowError | None = None
        self.budget_hit: BudgetExceeded | None = None
        self.failure_messages: set[str] = set()
        self.unit_failures: list[dict[str, Any]] = []
        """The first `MAX_UNIT_FAILURES` failed units; `units_failed` counts them all."""
        self.units_failed = 0
        self.breaker = Breaker(journal, run_id)
        self.splittable: set[int] = set()
        """Agents whose caller sends their data again in smaller parts if it did not fit
        the model's context (`synthesize`): such an agent is superseded, not failed."""
        self.overflowed: set[int] = set()
        """Splittable agents that did not fit: their caller splits their data now."""

    def stop(self, error: FanflowError, phase: str) -> None:
        """Nothing more may run: the first such error is the run's."""
        if self.fatal is None:
            self.fatal = error
            self.journal.event(
                self.run_id, "error", clip(str(error), MAX_MESSAGE_CHARS), phase=phase
            )

    def refusal(self, spawn: Spawn) -> dict[str, Any] | None:
        """The envelope of an agent that may not start now the run is stopping, else None."""
        if self.breaker.tripped:  # an account stop: nothing failed, the run pauses
            self.fatal = self.fatal or self.breaker.cause
            return self.failed(spawn, f"not run: {self.breaker.cause}", status="not_run")
        if self.fatal is not None:
            return self.failed(spawn, f"not run: {self.fatal}")
        if self.budget_hit is not None:
            return self.failed(spawn, f"not run: {self.budget_hit}", status="not_run")
        return None

    def settle(self, spawn: Spawn, outcome: AgentOutcome) -> dict[str, Any]:
        """Journal how the agent ended; the envelope the script gets."""
        spec = spawn.spec
        if outcome.ok:
            self.journal.finish_agent(
                self.run_id,
                spec.agent_id,
                "succeeded",
                result=outcome.value,
                turns=outcome.turns,
                attempts=outcome.attempts,
            )
            return {"ok": True, "value": outcome.value}
        error = clip(outcome.error or "failed", MAX_MESSAGE_CHARS)
        kind = outcome.error_kind
        done = {"attempts": outcome.attempts, "turns": outcome.turns}  # true for every ending
        if kind == BUDGET:
            if self.budget_hit is None:
                self.budget_hit = BudgetExceeded(error)
                self.journal.event(self.run_id, "budget", error, phase=spec.phase)
            return self.failed(spawn, f"stopped: {error}", status="not_run", **done)
        if kind == ACCOUNT_STOP:  # the account cannot go on: the run pauses, nothing failed
            self.fatal = self.fatal or self.breaker.trip(AccountStop(error), spec.phase)
            return self.failed(spawn, f"stopped: {error}", status="not_run", **done)
        if kind == FATAL:  # no other agent can get past this: stop spending
            self.stop(FatalModelError(error), spec.phase)
        if kind == CONTEXT and spec.agent_id in self.splittable:
            return self._superseded(spawn, error, done)
        return self.failed(spawn, error, **done)

    def _superseded(self, spawn: Spawn, error: str, done: dict[str, int]) -> dict[str, Any]:
        """A splittable agent's data did not fit: its caller splits it, so it is not a
        failure of the run (`not_run`, with why), and the split is an event."""
        spec = spawn.spec
        self.overflowed.add(spec.agent_id)
        why = f"split: its data did not fit the model's context ({error}); sent again in parts"
        self.journal.finish_agent(
            self.run_id, spec.agent_id, "not_run", error=clip(why, MAX_MESSAGE_CHARS), **done
        )
        self.journal.event(
            self.run_id,
            "split",
            f"agent {spec.agent_id} ({spec.label or spec.definition.name}): {why}",
            agent_id=spec.agent_id,
            phase=spec.phase,
        )
        return {"ok": False, "error": why}

    def cancelled(self, spawn: Spawn, progress: object, sent: int) -> None:
        """Journal an agent cancelled in flight with what it did: `progress` is the loop's
        (turns, calls) when it reached here, `sent` the attempts its watch counted."""
        turns, calls = progress if isinstance(progress, tuple) else (0, 0)
        # the cancellation must go on if this write is refused (a lost lease): the run's
        # end marks the agent cancelled anyway
        with contextlib.suppress(Exception):
            self.journal.finish_agent(
                self.run_id,
                spawn.spec.agent_id,
                "cancelled",
                attempts=max(sent, calls),
                turns=turns,
            )

    def failed(
        self,
        spawn: Spawn,
        error: str,
        status: str = "failed",
        attempts: int = 0,
        turns: int = 0,
    ) -> dict[str, Any]:
        spec = spawn.spec
        error = clip(error, MAX_MESSAGE_CHARS)
        who = f"agent {spec.agent_id} ({spec.definition.name}"
        who += f", {spec.label})" if spec.label else ")"
        message = f"{who} failed: {error}" if status == "failed" else f"{who} {error}"
        self.failure_messages.add(message)
        self.journal.finish_agent(
            self.run_id, spec.agent_id, status, error=error, turns=turns, attempts=attempts
        )
        if status == "failed":
            self.journal.event(
                self.run_id, "agent_failed", message, agent_id=spec.agent_id, phase=spec.phase
            )
        return {"ok": False, "error": message}

    def unit_failed(self, index: object, kind: object, message: object, phase: str) -> None:
        """A gathered unit raised; agent failures are already recorded, others are not.

        Everything here comes from the script (the prelude, or a script calling
        `_ff_unit_failed` itself), so each part is checked and cut before use.
        """
        if not isinstance(message, str):
            message = "?"
        if message in self.failure_messages:  # an agent's failure, recorded as the agent's
            return
        text = clip(message, MAX_MESSAGE_CHARS)
        name = clip(kind if isinstance(kind, str) else "Exception", 100)
        where = index if type(index) is int and 0 <= index < 10**9 else "?"
        text = f"{name}: {text}" if name != "RuntimeError" else text
        what = f"gathered unit {where} raised {text}"
        self.units_failed += 1
        if self.units_failed > MAX_UNIT_FAILURES:
            return
        self.unit_failures.append({"agent": None, "phase": phase, "error": what})
        self.journal.event(self.run_id, "unit_failed", what, phase=phase)
        if self.units_failed == MAX_UNIT_FAILURES:
            self.journal.event(
                self.run_id,
                "unit_failed",
                f"{MAX_UNIT_FAILURES:,} gathered units failed; later failures are "
                "counted in the run's status, not recorded one by one",
                phase=phase,
            )
