"""USD prices per million tokens. Unknown model: no price, so cost is null, never a guess.

Shipped defaults cover models whose list prices were published when this
table was written, each with the page its figures come from and the date they
were read there (`PRICE_TABLE`); `.fanflow/config.toml` adds or overrides entries:

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


@dataclass(frozen=True)
class Listed:
    """A shipped price and where its figures come from."""

    price: Price
    source: str
    """The provider's page the figures were read from."""
    checked: str
    """When they were read there (YYYY-MM-DD)."""


ANTHROPIC_PRICES_URL = "https://platform.claude.com/docs/en/about-claude/pricing"
OPENAI_PRICES_URL = "https://developers.openai.com/api/docs/pricing"
CHECKED = "2026-12-02"


def _anthropic(inp: float, out: float) -> Listed:
    # the page's "5m cache writes" (1.25x input) and "cache hits" (0.1x input) columns
    return Listed(Price(inp, out, inp * 1.25, inp * 0.1), ANTHROPIC_PRICES_URL, CHECKED)


def _openai(inp: float, out: float, cached: float) -> Listed:
    # caching is automatic on this API: writing costs the input price, a hit the cached one
    return Listed(Price(inp, out, inp, cached), OPENAI_PRICES_URL, CHECKED)


PRICE_TABLE: dict[str, Listed] = {
    # Anthropic, "Model pricing" table: base input / output per MTok
    "anthropic:claude-opus-4-8": _anthropic(5.0, 25.0),
    "anthropic:claude-opus-4-7": _anthropic(5.0, 25.0),
    "anthropic:claude-opus-4-6": _anthropic(5.0, 25.0),
    "anthropic:claude-opus-4-5": _anthropic(5.0, 25.0),
    "anthropic:claude-opus-4-1": _anthropic(15.0, 75.0),
    "anthropic:claude-sonnet-4-6": _anthropic(3.0, 15.0),
    "anthropic:claude-sonnet-4-5": _anthropic(3.0, 15.0),
    "anthropic:claude-haiku-4-5": _anthropic(1.0, 5.0),
    # OpenAI, standard tier: input / output / cached input per 1M tokens
    "openai:gpt-5": _openai(1.25, 10.0, 0.125),
    "openai:gpt-5-mini": _openai(0.25, 2.0, 0.025),
    "openai:gpt-4.1": _openai(2.0, 8.0, 0.5),
    "openai:gpt-4.1-mini": _openai(0.4, 1.6, 0.1),
    "openai:gpt-4o": _openai(2.5, 10.0, 1.25),
    "openai:gpt-4o-mini": _openai(0.15, 0.6, 0.075),
}
"""Every model the docs name has an entry (tests/test_prices.py checks it)."""

DEFAULT_PRICES: dict[str, Price] = {name: listed.price for name, listed in PRICE_TABLE.items()}

_DATED = re.compile(r"-\d{8}$")


def price_for(model_id: str, overrides: dict[str, Price] | None = None) -> Price | None:
    """The price of `provider:name`, trying the name without a date suffix too."""
    table = {**DEFAULT_PRICES, **(overrides or {})}
    return table.get(model_id) or table.get(_DATED.sub("", model_id))
