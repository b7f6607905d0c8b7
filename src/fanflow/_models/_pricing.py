"""USD prices per million tokens. Unknown model: no price, so cost is null, never a guess.

Shipped defaults cover models whose list prices were published when this
table was written; `.fanflow/config.toml` adds or overrides entries:

    [prices."anthropic:claude-opus-4-8"]
    input = 5.0
    output = 25.0
    cache_write = 6.25
    cache_read = 0.5
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._base import Usage


@dataclass(frozen=True)
class Price:
    input: float
    output: float
    cache_write: float
    cache_read: float

    def cost(self, usage: Usage) -> float:
        return (
            usage.input_tokens * self.input
            + usage.output_tokens * self.output
            + usage.cache_creation_input_tokens * self.cache_write
            + usage.cache_read_input_tokens * self.cache_read
        ) / 1_000_000


def _anthropic(inp: float, out: float) -> Price:
    return Price(inp, out, inp * 1.25, inp * 0.1)  # 5-minute cache write, cache read


DEFAULT_PRICES: dict[str, Price] = {
    "anthropic:claude-opus-4-5": _anthropic(5.0, 25.0),
    "anthropic:claude-opus-4-1": _anthropic(15.0, 75.0),
    "anthropic:claude-sonnet-4-5": _anthropic(3.0, 15.0),
    "anthropic:claude-haiku-4-5": _anthropic(1.0, 5.0),
    "openai:gpt-4o": Price(2.5, 10.0, 2.5, 1.25),
    "openai:gpt-4o-mini": Price(0.15, 0.6, 0.15, 0.075),
    "openai:gpt-4.1": Price(2.0, 8.0, 2.0, 0.5),
    "openai:gpt-4.1-mini": Price(0.4, 1.6, 0.4, 0.1),
    "openai:gpt-5": Price(1.25, 10.0, 1.25, 0.125),
    "openai:gpt-5-mini": Price(0.25, 2.0, 0.25, 0.025),
}

_DATED = re.compile(r"-\d{8}$")


def price_for(model_id: str, overrides: dict[str, Price] | None = None) -> Price | None:
    """The price of `provider:name`, trying the name without a date suffix too."""
    table = {**DEFAULT_PRICES, **(overrides or {})}
    return table.get(model_id) or table.get(_DATED.sub("", model_id))
