"""Budgets: a run never spends more than it was given.

A budget is tokens (`--budget 2M`, every token a call is billed for: input,
output, cache writes and cache reads) and/or dollars (`--budget-usd 50`).
Before a run starts, its estimate is checked against it (refused, exit 3).
While it runs, `check_before_request` is called before every model request:
once spend reaches the budget no new request starts, so the overshoot is at
most the requests already in flight. The run ends `budget_exceeded` and can
be resumed with a larger budget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ._errors import ConfigError, RunError
from ._models import Usage
from ._models._base import billed_tokens

_AMOUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)\s*$")
_SCALE = {"": 1, "k": 1_000, "m": 1_000_000, "g": 1_000_000_000}


class BudgetExceeded(RunError):
    """Spend reached the run's budget; no new model request is started."""

    exit_code = 3


def parse_tokens(text: str | int | None, flag: str = "--budget") -> int | None:
    """`2M`, `500k`, `120000` -> tokens; None stays None."""
    if text is None or isinstance(text, int):
        return text
    match = _AMOUNT.match(str(text))
    if not match or float(match[1]) <= 0:
        raise ConfigError(f"{flag} {text!r} is not a token count; use e.g. 500k, 2M or 120000")
    return int(float(match[1]) * _SCALE[match[2].lower()])


def parse_usd(text: str | float | None, flag: str = "--budget-usd") -> float | None:
    if text is None:
        return None
    try:
        value = float(str(text).lstrip("$"))
    except ValueError:
        raise ConfigError(
            f"{flag} {text!r} is not an amount of dollars; use e.g. 50 or 2.5"
        ) from None
    if value <= 0:
        raise ConfigError(f"{flag} must be more than 0 (got {text!r})")
    return value


@dataclass(kw_only=True)
class Budget:
    """What a run may spend, and what it has spent so far (earlier attempts included)."""

    tokens: int | None = None
    """Billed tokens the run may use; None: no token limit."""

    usd: float | None = None
    """Dollars the run may spend; None: no dollar limit."""

    spent_tokens: int = 0
    spent_usd: float = 0.0
    unpriced_calls: int = field(default=0)

    @property
    def limited(self) -> bool:
        return self.tokens is not None or self.usd is not None

    def add(self, usage: Usage, cost: float | None) -> None:
        self.spent_tokens += billed_tokens(usage)
        if cost is None:
            self.unpriced_calls += 1
        else:
            self.spent_usd += cost

    def check_before_request(self) -> None:
        """Raise `BudgetExceeded` when no new request may start."""
        if self.tokens is not None and self.spent_tokens >= self.tokens:
            raise BudgetExceeded(
                f"token budget of {self.tokens:,} reached "
                f"({self.spent_tokens:,} spent); resume with a larger --budget"
            )
        if self.usd is not None and self.spent_usd >= self.usd:
            raise BudgetExceeded(
                f"budget of ${self.usd:,.2f} reached (${self.spent_usd:,.2f} "
                "spent); resume with a larger --budget-usd"
            )

    def over_by(self, tokens: int, usd: float | None) -> str | None:
        """Why an estimate does not fit, or None when it does."""
        if self.tokens is not None and tokens > self.tokens:
            return (
                f"the estimate of {tokens:,} tokens is over the budget of {self.tokens:,} "
                f"by {tokens - self.tokens:,}"
            )
        if self.usd is not None:
            if usd is None:
                return (
                    "the estimate has no dollar figure (no price for the model); set [prices] "
                    "in .fanflow/config.toml or use --budget in tokens"
                )
            if usd > self.usd:
                return (
                    f"the estimate of ${usd:,.2f} is over the budget of ${self.usd:,.2f} "
                    f"by ${usd - self.usd:,.2f}"
                )
        return None
