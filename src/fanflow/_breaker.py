"""The run-wide breaker for failures that stop a run (DESIGN §8).

The provider says the account cannot go on: credit or quota exhausted, a
usage or spend limit reached, the key revoked, billing required, or the
endpoint refusing connections 3 tries in a row (`_models._resilience` turns
each into `AccountStop`). The first one trips the breaker: from then on no
agent starts, no model request is sent (every agent's calls pass `gate`,
through its `CallWatch`), and the run ends `paused` with the cause in one line
(exit 3). `fanflow resume` continues it later; agents that finished are not
paid for again. An agent stopped this way did not fail: it is `not_run`, and
its unit's value is None, which a workflow reports as unverified, not refuted.
"""

from __future__ import annotations

from typing import Any

from ._errors import AccountStop

PAUSED = "paused"


class Breaker:
    """Closed until the first `AccountStop` of the run; open for good after it."""

    def __init__(self, journal: Any, run_id: str) -> None:
        self.journal, self.run_id = journal, run_id
        self.cause: AccountStop | None = None
        """The run's one-line reason, once tripped."""

    @property
    def tripped(self) -> bool:
        return self.cause is not None

    def trip(self, error: AccountStop, phase: str | None = None) -> AccountStop:
        """Open the breaker (the first error is the run's cause); the cause."""
        if self.cause is None:
            line = " ".join(str(error).split())
            self.cause = AccountStop(
                f"{line}; the run is paused: `fanflow resume {self.run_id}` continues it "
                "without paying again for finished agents"
            )
            self.journal.event(self.run_id, PAUSED, str(self.cause), phase=phase)
        return self.cause

    def gate(self) -> None:
        """Raise `AccountStop` once tripped: no new agent, no new request."""
        if self.cause is not None:
            raise AccountStop(str(self.cause))


def is_pause(error: object) -> bool:
    """Whether a run's stop error means `paused` (resumable), not `failed`."""
    return isinstance(error, AccountStop)
