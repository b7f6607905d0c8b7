"""Budgets: a run never spends more than it was given, at any concurrency.

A budget is tokens (`--budget 2M`, every token a call is billed for: input,
output, cache writes and cache reads) and/or dollars (`--budget-usd 50`).
Before a run starts, its estimate is checked against it (refused, exit 3).

While it runs, the budget is a ceiling (DESIGN §9): before each model call
`reserve` sets aside the call's worst case (`input_bound` + max_tokens, and in
dollars the dearest way those input tokens can be billed), and `settle`
releases what the call did not use once its usage is known. A reservation that
does not fit waits for calls in flight to settle; one that can never fit (more
than the budget minus what is already billed) raises `BudgetExceeded`: the run
ends `budget_exceeded` and can be resumed with a larger budget. Billed tokens
stay within the budget as long as `input_bound` is an upper bound of what the
provider counts, which it is built to be.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ._errors import ConfigError, RunError
from ._models import ModelRequest, Usage
from ._models._base import billed_tokens

_AMOUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)\s*$")
_SCALE = {"": 1, "k": 1_000, "m": 1_000_000, "g": 1_000_000_000}

REQUEST_OVERHEAD_TOKENS = 2_048
"""Tokens a provider adds to every request around what we send: the tool-use system
prompt (Anthropic documents 313-346 tokens for it), role and turn markers, and the
rendering of tool definitions. Twice the largest documented figure, rounded up."""
PART_OVERHEAD_TOKENS = 16
"""Tokens of framing per message, tool definition, tool call and tool result."""


def input_bound(req: ModelRequest) -> int:
    """An upper bound of the input tokens a provider can bill for `req`.

    Every tokenizer in use (byte-level BPE: Claude's, tiktoken's) maps each token
    to at least one byte of UTF-8, so a text never has more tokens than bytes; the
    framing a provider adds is bounded by the overheads above. This is about four
    times the typical count of English text: a ceiling, not an estimate.
    """
    texts = [req.system, json.dumps(req.schema) if req.schema is not None else ""]
    parts = 0
    for tool in req.tools:
        texts += [tool.name, tool.description, json.dumps(tool.input_schema)]
        parts += 1
    for message in req.messages:
        texts.append(message.text)
        parts += 1 + len(message.tool_calls) + len(message.tool_results)
        texts += [c.id + c.name + json.dumps(c.input) for c in message.tool_calls]
        texts += [r.call_id + r.content for r in message.tool_results]
    size = sum(len(text.encode("utf-8", "surrogatepass")) for text in texts)
    return size + REQUEST_OVERHEAD_TOKENS + PART_OVERHEAD_TOKENS * parts


def follow_up_bound(earlier: ModelRequest, billed_input: int, req: ModelRequest) -> int | None:
    """A tighter bound for `req` when it extends `earlier`, a call of the same agent that
    was billed `billed_input` input tokens: that count, plus the bytes of what was added.
    None when `req` is not `earlier` with messages appended."""
    count = len(earlier.messages)
    if (
        req.system != earlier.system
        or req.tools != earlier.tools
        or req.schema != earlier.schema
        or req.messages[:count] != earlier.messages
    ):
        return None
    added = ModelRequest(system="", messages=req.messages[count:], tools=[], max_tokens=0)
    return billed_input + input_bound(added) - REQUEST_OVERHEAD_TOKENS


def worst_cost(price: Callable[[Usage], float | None], inputs: int, outputs: int) -> float | None:
    """The most `inputs` input tokens and `outputs` output tokens can cost: each input
    token at the dearest of its rates (plain, cache write, cache read); None: no price."""
    costs = [
        price(Usage(input_tokens=inputs, output_tokens=outputs)),
        price(Usage(cache_creation_input_tokens=inputs, output_tokens=outputs)),
        price(Usage(cache_read_input_tokens=inputs, output_tokens=outputs)),
    ]
    if any(cost is None for cost in costs):
        return None
    return max(c for c in costs if c is not None)


@dataclass
class Reservation:
    """What one call may still cost; set aside until the call settles."""

    tokens: int
    usd: float
    settled: bool = False


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
    reserved_tokens: int = 0
    """Worst cases of the calls in flight, set aside until they settle."""
    reserved_usd: float = 0.0
    overruns: int = 0
    """Calls billed more than their reservation (an input bound that did not hold)."""
    _waiters: list[asyncio.Future[None]] = field(default_factory=list, repr=False)

    @property
    def limited(self) -> bool:
        return self.tokens is not None or self.usd is not None

    def add(self, usage: Usage, cost: float | None) -> None:
        self.spent_tokens += billed_tokens(usage)
        if cost is None:
            self.unpriced_calls += 1
        else:
            self.spent_usd += cost

    async def reserve(self, tokens: int, usd: float | None) -> Reservation:
        """Set aside a call's worst case, waiting for calls in flight to settle while it
        does not fit; `BudgetExceeded` when it can never fit. `usd`: None, no price."""
        if not self.limited:
            return Reservation(0, 0.0)
        if self.usd is None:
            usd = 0.0
        elif usd is None:
            raise BudgetExceeded(
                "the model has no price, so --budget-usd cannot bound its calls; set "
                "[prices] in .fanflow/config.toml or use --budget in tokens"
            )
        while True:
            # what is billed only grows: a call over the budget minus it never fits
            self._check_can_fit(tokens, usd)
            if self._fits(tokens, usd):
                self.reserved_tokens += tokens
                self.reserved_usd += usd
                return Reservation(tokens, usd)
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)

    def settle(self, held: Reservation, usage: Usage | None, cost: float | None) -> None:
        """The call ended: bill what it used and release the rest of its reservation.

        `usage` None: the call was cancelled in flight and what it was billed is not
        known, so its whole reservation counts as spent (for the rest of this process).
        """
        if held.settled:
            return
        held.settled = True
        self.reserved_tokens -= held.tokens
        self.reserved_usd -= held.usd
        if usage is None:
            self.spent_tokens += held.tokens
            self.spent_usd += held.usd
        else:
            over_tokens = self.tokens is not None and billed_tokens(usage) > held.tokens
            over_usd = self.usd is not None and (cost or 0.0) > held.usd + 1e-9
            if over_tokens or over_usd:
                self.overruns += 1
            self.add(usage, cost)
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _fits(self, tokens: int, usd: float) -> bool:
        if self.tokens is not None and self.spent_tokens + self.reserved_tokens + tokens > (
            self.tokens
        ):
            return False
        return self.usd is None or self.spent_usd + self.reserved_usd + usd <= self.usd

    def _check_can_fit(self, tokens: int, usd: float) -> None:
        if self.tokens is not None and self.spent_tokens + tokens > self.tokens:
            if tokens > self.tokens:
                raise BudgetExceeded(
                    f"one call may use {tokens:,} tokens (its input bound + max_tokens), more "
                    f"than the whole token budget of {self.tokens:,}; raise --budget or "
                    "lower max_tokens"
                )
            raise BudgetExceeded(
                f"token budget of {self.tokens:,} reached ({self.spent_tokens:,} spent; the "
                f"next call may use up to {tokens:,}); resume with a larger --budget"
            )
        if self.usd is not None and self.spent_usd + usd > self.usd:
            if usd > self.usd:
                raise BudgetExceeded(
                    f"one call may cost ${usd:,.2f} (its input bound + max_tokens), more "
                    f"than the whole budget of ${self.usd:,.2f}; raise --budget-usd or "
                    "lower max_tokens"
                )
            raise BudgetExceeded(
                f"budget of ${self.usd:,.2f} reached (${self.spent_usd:,.2f} spent; the next "
                f"call may cost up to ${usd:,.2f}); resume with a larger --budget-usd"
            )

    def remaining(self) -> float | None:
        """Tokens left to bill (reservations of calls in flight not deducted); None: no limit."""
        return None if self.tokens is None else max(0, self.tokens - self.spent_tokens)

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
