"""Figures as the harness reports them: each next to its baseline from the same run."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
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
        return cls.of_values([measure(r) for r in range(rounds)])

    @classmethod
    def of_values(cls, values: Sequence[float]) -> Spread:
        return cls(statistics.median(values), min(values), max(values))


def interleaved(ours: Callable[[int], float], baseline: Callable[[int], float], rounds: int
                ) -> tuple[Spread, Spread]:
    """Both measured in turns (ours, baseline, ours, ...), so that a machine busy with other
    work for a while weighs on both alike."""
    mine: list[float] = []
    theirs: list[float] = []
    for round_ in range(rounds):
        mine.append(ours(round_))
        theirs.append(baseline(round_))
    return Spread.of_values(mine), Spread.of_values(theirs)


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
             baseline: Spread | None = None, digits: int = 1) -> Metric:
    return Metric(name, round(ours.median, digits), unit, baseline_name,
                  round(baseline.median, digits) if baseline else None,
                  round(ours.low, digits), round(ours.high, digits))


def p99(values: Sequence[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


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
