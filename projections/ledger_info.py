"""Ledger info: how many events of each type the ledger holds."""

from __future__ import annotations

from collections import Counter

import asyncpg

from projections.events import LedgerEvent
from projections.projection import Batch, DeclaredProjection
from projections.tables import Column, Table

LEDGER_INFO = Table("ledger_info", key=("event_type",), columns=(
    Column("event_type", "text"), Column("events", "bigint")))


class _Counts(Batch):
    def __init__(self, schema: str) -> None:
        super().__init__(schema)
        self.counts: Counter[str] = Counter()

    def count(self, e: LedgerEvent) -> None:
        self.counts[f"{e.record}.{e.type}"] += 1

    async def save(self, conn: asyncpg.Connection) -> None:
        await conn.executemany(
            f"INSERT INTO {self.schema}.ledger_info (event_type, events) VALUES ($1, $2)"
            " ON CONFLICT (event_type) DO UPDATE SET events = ledger_info.events + EXCLUDED.events",
            list(self.counts.items()))


class LedgerInfo(DeclaredProjection[_Counts]):
    name = "ledger_info"
    version = 2
    declared = (LEDGER_INFO,)
    batch = _Counts
    handles_every_event = _Counts.count
