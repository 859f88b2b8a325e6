"""A bench's figures as data: each bench prints them for people and writes ``bench-results/NAME.json``.

The file holds ``{"figures": [{"name", "value", "unit", "target", "baseline", "ratio", "met"}]}``, one
entry a figure, so two runs (before and after a change) can be compared by a tool rather than by eye:

- ``target`` bounds ``value`` (in its unit), ``met`` says whether it held; both null for a figure
  without a target;
- ``baseline`` is a reference measured in the same run (same unit), ``ratio`` is ``value / baseline``;
  both null where there is none. A target on a ratio is a figure of its own, in the unit ``x``.

    >>> r = Results("demo")
    >>> r.add("import", 12.5, "s", at_most=20.0, baseline=6.25).to_json()
    {'name': 'import', 'value': 12.5, 'unit': 's', 'target': 20.0, 'baseline': 6.25, 'ratio': 2.0, 'met': True}
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).resolve().parents[2] / "bench-results"


@dataclass(frozen=True)
class Figure:
    name: str
    value: float | None  # None when the run could not measure it (e.g. nothing was seen)
    unit: str
    target: float | None = None
    baseline: float | None = None
    ratio: float | None = None
    met: bool | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _number(x: float | None) -> float | None:
    """JSON has no NaN or infinity: a figure that is not a finite number is written as null."""
    return None if x is None or not math.isfinite(x) else float(x)


def figure(
    name: str,
    value: float | None,
    unit: str,
    *,
    at_most: float | None = None,
    at_least: float | None = None,
    baseline: float | None = None,
    met: bool | None = None,
) -> Figure:
    """One figure; ``met`` is worked out from the bound unless the bench gives it (a verdict of several facts).

    Raises ValueError when both bounds are given: a figure has one target.
    """
    if at_most is not None and at_least is not None:
        raise ValueError(f"{name}: one target, at_most or at_least")
    v, b = _number(value), _number(baseline)
    target = _number(at_most if at_most is not None else at_least)
    if met is None and target is not None and v is not None:
        met = v <= target if at_most is not None else v >= target
    ratio = _number(v / b) if v is not None and b else None
    return Figure(name, v, unit, target, b, ratio, met)


class Results:
    """The figures of one bench, in the order it prints them."""

    def __init__(self, bench: str) -> None:
        self.bench = bench
        self.figures: list[Figure] = []

    def add(self, name: str, value: float | None, unit: str, **bounds: Any) -> Figure:
        """Add one figure (arguments as for ``figure``) and return it."""
        f = figure(name, value, unit, **bounds)
        self.figures.append(f)
        return f

    def extend(self, figures: Iterable[Figure]) -> None:
        self.figures.extend(figures)

    def write(self, folder: Path | None = None) -> Path:
        """Write ``folder/BENCH.json`` (default ``bench-results/``), replacing a previous run's file whole."""
        folder = folder or FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.bench}.json"
        partial = path.with_suffix(".json.partial")
        text = json.dumps({"figures": [f.to_json() for f in self.figures]}, ensure_ascii=False, indent=2)
        partial.write_text(text + "\n", encoding="utf-8")
        os.replace(partial, path)  # a reader never sees half a file
        return path


def read(path: Path) -> list[Figure]:
    """The figures of a file ``Results.write`` wrote (a step's figures, gathered by its parent process)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return [Figure(**entry) for entry in data["figures"]]
