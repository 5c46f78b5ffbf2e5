"""Ledger info: how many events of each type the ledger holds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import asyncpg

from projections.events import LedgerEvent


class LedgerInfo:
    name = "ledger_info"
    version = 2
    tables = ("ledger_info",)

    def create_tables(self, schema: str) -> list[str]:
        return [f"CREATE TABLE IF NOT EXISTS {schema}.ledger_info ("
                " event_type text PRIMARY KEY, events bigint NOT NULL)"]

    def create_indexes(self, schema: str) -> list[str]:
        return []

    async def apply(self, conn: asyncpg.Connection, schema: str,
                    events: Sequence[LedgerEvent]) -> None:
        counts = Counter(f"{event.record}.{event.type}" for event in events)
        await conn.executemany(
            f"INSERT INTO {schema}.ledger_info (event_type, events) VALUES ($1, $2)"
            " ON CONFLICT (event_type) DO UPDATE SET events = ledger_info.events + EXCLUDED.events",
            list(counts.items()))
