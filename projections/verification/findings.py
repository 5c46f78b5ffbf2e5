"""What a verification found: the first difference of each kind between what is stored and what
the stored events give, each placed at a ledger position where it can be."""

from __future__ import annotations

import base64
import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

Check = Literal["chain", "tiles", "bundles", "offsets", "signature", "fork", "checkpoint",
                "consistency", "projection"]
CHECKS: tuple[Check, ...] = ("chain", "tiles", "bundles", "offsets", "signature", "fork",
                             "checkpoint", "consistency", "projection")
"""In the order in which differences without a position are told."""


@dataclass(frozen=True)
class Difference:
    check: Check
    what: str
    position: int | None = None
    """The ledger position (notification id) of the first event whose data differs, if known."""
    size: int | None = None  # the tree size of the checkpoint concerned
    between: tuple[int, int] | None = None
    """The first and last position among which an event differs, when only a range is known."""
    table: str | None = None  # of a projection
    source: str | None = None  # the checkpoint from elsewhere (its file) that the events fail
    leaf: int | None = None  # the leaf index of `position` in the tree

    def as_json(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}

    def order(self) -> tuple[float, int, float]:
        position = math.inf if self.position is None else self.position
        size = math.inf if self.size is None else self.size
        return position, CHECKS.index(self.check), size


class Findings:
    """The first difference of each check (of each projection's table, of each checkpoint from
    elsewhere): the first in ledger order, or the one of the smallest tree size."""

    def __init__(self) -> None:
        self._first: dict[tuple[Check, str | None, str | None], Difference] = {}

    def add(self, difference: Difference) -> None:
        key = (difference.check, difference.table, difference.source)
        known = self._first.get(key)
        if known is None or difference.order() < known.order():
            self._first[key] = difference

    def found(self, check: Check) -> bool:
        return any(found == check for found, _, _ in self._first)

    def differences(self) -> list[Difference]:
        return sorted(self._first.values(), key=Difference.order)


def short_hash(value: bytes) -> str:
    """A hash as a difference tells it: base64, as checkpoints write hashes."""
    return base64.b64encode(value).decode()
