"""What the reliability suite's fixtures give its tests: a database holding a small world, and
the figures each test reports for the README."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Figures = dict[str, dict[str, Any]]
"""Per test that reports some: what load it held, which faults it survived, what it tried."""


@dataclass(frozen=True)
class World:
    """A database holding the small world of the GraphQL tests, and tokens to write and read."""

    database_url: str
    position: int
    clerk: str
    """A clerk of college-dordrecht."""
    auditor: str
