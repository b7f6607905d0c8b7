"""The run's phases and its accounting: names in order of first use, each spawn's
position in its phase, and how many agents are in flight."""

from __future__ import annotations

from ._journal import Journal


class Phases:
    """`phase()` calls, the spawn positions they number, agents in flight."""

    def __init__(self, journal: Journal, run_id: str) -> None:
        self.journal, self.run_id = journal, run_id
        self.current = "main"
        self._seq: dict[str, int] = {}
        self._rank: dict[str, int] = {}
        self.in_flight = self.peak_in_flight = 0

    def set(self, name: object) -> None:
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise TypeError("phase() takes a non-empty name of at most 100 characters")
        self.current = name.strip()
        self._ensure(self.current)

    def next_position(self) -> int:
        """The next spawn's position in the current phase (journaling the phase on first use)."""
        self._ensure(self.current)
        seq = self._seq[self.current]
        self._seq[self.current] = seq + 1
        return seq

    def rank(self, name: str) -> int:
        """0 for the first phase, 1 for the next, ...: later phases get free slots first."""
        return self._rank[name]

    def took_off(self) -> None:
        """One more agent in flight (a pair with `landed`; no context manager: per agent)."""
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def landed(self) -> None:
        self.in_flight -= 1

    def _ensure(self, name: str) -> None:
        if name not in self._seq:
            self._seq[name] = 0
            self._rank[name] = len(self._rank)
            self.journal.add_phase(self.run_id, len(self._seq) - 1, name)
