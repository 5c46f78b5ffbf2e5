"""Ledger info: how many events of each type the ledger holds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import asyncpg

from projections.tracking import SCHEMA


class LedgerInfo:
    name = "ledger_info"

    async def setup(self, conn: asyncpg.Connection) -> None:
        await conn.execute(
            f"CREATE TABLE IF NOT EXISTS {SCHEMA}.ledger_info ("
            " event_type text PRIMARY KEY, events bigint NOT NULL)")

    async def apply(self, conn: asyncpg.Connection, events: Sequence[asyncpg.Record]) -> None:
        counts = Counter(event["topic"].rpartition(":")[2] for event in events)
        await conn.executemany(
            f"INSERT INTO {SCHEMA}.ledger_info (event_type, events) VALUES ($1, $2)"
            " ON CONFLICT (event_type) DO UPDATE SET events = ledger_info.events + EXCLUDED.events",
            list(counts.items()))


async def event_counts(conn: asyncpg.Connection) -> dict[str, int]:
    rows = await conn.fetch(f"SELECT event_type, events FROM {SCHEMA}.ledger_info")
    return {row["event_type"]: row["events"] for row in rows}
