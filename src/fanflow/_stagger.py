"""Prefix stagger: a shared prompt prefix is written to the provider's cache once a wave.

A provider's prompt cache holds an entry only from the start of the response
that wrote it. Sixteen agents that share a system prompt and tools and start
together would each miss it and each pay a cache write. So calls that share a
cacheable prefix (same model, system prompt and tools) take turns: the first
goes alone, as the prefix's leader, and the others wait until its response
begins (its first streamed event) or `window_ms` passes, whichever is first
(DESIGN §9). Then they all go, and read the prefix from cache.

A prefix whose response began recently is warm: its calls go at once. A leader
that fails before its response begins hands the lead to the next waiter.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ._models import Model, ModelRequest, estimate_tokens

DEFAULT_STAGGER_MS = 5000
MIN_PREFIX_TOKENS = 1024
"""The smallest prefix a provider caches (Anthropic: 1,024-4,096 tokens by model; OpenAI:
1,024). A shorter one is never cached, so staggering it would only cost time."""
WARM_S = 240.0
"""How long a prefix stays warm after a response that used it began. Provider caches
keep an entry 5 minutes from its last use; this leaves a minute of margin."""


@dataclass
class PrefixTurn:
    """One call's place in its prefix's turn-taking."""

    key: str
    leader: bool
    begun: bool = False


@dataclass
class _Prefix:
    warm_until: float = 0.0
    leader: PrefixTurn | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class Stagger:
    """The run's turn-taking over shared prefixes; `window_ms=0` turns it off."""

    def __init__(
        self, window_ms: int = DEFAULT_STAGGER_MS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if window_ms < 0:
            raise ValueError("the stagger window cannot be negative")
        self.window_s = window_ms / 1000
        self._clock = clock
        self._prefixes: dict[str, _Prefix] = {}
        self.waited = 0
        """Calls that waited for a leader's response to begin."""

    def key(self, model: Model, name: str, req: ModelRequest) -> str | None:
        """The identity of `req`'s cacheable prefix, or None when staggering cannot help."""
        if self.window_s <= 0 or not getattr(model, "caches_prompts", False):
            return None
        tools = json.dumps(
            [[t.name, t.description, t.input_schema] for t in req.tools], sort_keys=True
        )
        if estimate_tokens(req.system + tools) < MIN_PREFIX_TOKENS:
            return None
        return hashlib.sha256(json.dumps([name, req.system, tools]).encode()).hexdigest()

    async def turn(self, key: str | None) -> PrefixTurn | None:
        """Wait for this call's turn; the lease to report its response with."""
        if key is None:
            return None
        deadline = self._clock() + self.window_s
        prefix = self._prefixes.setdefault(key, _Prefix())
        waited = False
        while True:
            now = self._clock()
            if prefix.warm_until > now:
                return PrefixTurn(key, leader=False)
            if prefix.leader is None:
                prefix.leader = PrefixTurn(key, leader=True)
                return prefix.leader
            if now >= deadline:  # the leader is slow to begin: go anyway
                return PrefixTurn(key, leader=False)
            if not waited:
                waited = True
                self.waited += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(prefix.changed.wait(), deadline - now)

    def began(self, lease: PrefixTurn | None) -> None:
        """The call's response began: the prefix is in the cache from now on."""
        if lease is None or lease.begun:
            return
        lease.begun = True
        prefix = self._prefixes[lease.key]
        prefix.warm_until = self._clock() + WARM_S
        if prefix.leader is lease:
            prefix.leader = None
        self._wake(prefix)

    def ended(self, lease: PrefixTurn | None, answered: bool) -> None:
        """The call ended; an answer means its response began, if nothing said so yet."""
        if lease is None:
            return
        if answered:
            lease.begun = False  # an answer also refreshes the prefix's warmth
            self.began(lease)
            return
        prefix = self._prefixes[lease.key]
        if prefix.leader is lease:  # failed before its response began: the next one leads
            prefix.leader = None
            self._wake(prefix)

    @staticmethod
    def _wake(prefix: _Prefix) -> None:
        prefix.changed.set()
        prefix.changed = asyncio.Event()
