"""Printing and saving a bench's figures, the same way for every bench."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def publish(figures: dict, name: str) -> None:
    """Print `figures` as aligned lines and write them to bench/results/NAME.json."""
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(figures, indent=2))


def finish() -> None:
    """Exit without interpreter finalization (see fanflow._cli.main)."""
    sys.stdout.flush()
    os._exit(0)
