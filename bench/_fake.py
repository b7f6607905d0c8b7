"""The fake provider server for the benches; it lives with the tests, in tests/fakeapi."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from fakeapi import FakeAPI, Faults  # noqa: E402  (importable only once tests/ is on the path)

__all__ = ["FakeAPI", "Faults"]
