"""Figures as the harness reports them: each next to its baseline from the same run."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Spread:
    """The median of several rounds, with the lowest and highest."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, measure: Callable[[int], float], rounds: int) -> Spread:
        values = [measure(r) for r in range(rounds)]
        return cls(statistics.median(values), min(values), max(values))


@dataclass(frozen=True)
class Metric:
    name: str
    value: float | None
    unit: str
    baseline_name: str | None = None
    baseline: float | None = None
    low: float | None = None
    high: float | None = None
    missing: str | None = None  # why there is no figure yet

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return round(self.value / self.baseline, 3)

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}


def measured(name: str, unit: str, ours: Spread, baseline_name: str | None = None,
             baseline: Spread | None = None) -> Metric:
    return Metric(name, round(ours.median, 1), unit, baseline_name,
                  round(baseline.median, 1) if baseline else None,
                  round(ours.low, 1), round(ours.high, 1))


def missing(name: str, unit: str, reason: str) -> Metric:
    return Metric(name, None, unit, missing=reason)


def markdown(metrics: list[Metric]) -> str:
    lines = ["| name | value | min | max | baseline | ratio |", "|---|---|---|---|---|---|"]
    for m in metrics:
        if m.missing:
            lines.append(f"| {m.name} | missing: {m.missing} | | | | |")
            continue
        baseline = f"{m.baseline} ({m.baseline_name})" if m.baseline is not None else "—"
        lines.append(f"| {m.name} | {m.value} {m.unit} | {m.low} | {m.high} | {baseline} | "
                     f"{m.ratio if m.ratio is not None else '—'} |")
    return "\n".join(lines)
