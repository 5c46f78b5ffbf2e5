"""What a projection is: tables of its own (created in any schema, so a rebuild can fill shadow
copies) and a function applying a batch of events to them inside the runner's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import asyncpg

from projections.events import LedgerEvent


class Projection(Protocol):
    name: str
    version: int
    """Raised when the tables change shape: a runner then rebuilds the projection from the start."""
    tables: tuple[str, ...]

    def create_tables(self, schema: str) -> list[str]:
        """CREATE TABLE statements (with primary keys) for the projection's tables in `schema`."""
        ...

    def create_indexes(self, schema: str) -> list[str]:
        """Secondary indexes, created after a rebuild has loaded the tables."""
        ...

    async def apply(self, conn: asyncpg.Connection, schema: str,
                    events: Sequence[LedgerEvent]) -> None: ...
