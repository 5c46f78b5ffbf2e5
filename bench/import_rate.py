"""Import rate: a generated history through the real import path (batched), next to a batched raw
INSERT of the same rows with asyncpg."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bench.metrics import Metric, Spread, measured
from ledger.application import Ledger
from ledger.database import eventsourcing_env
from ledger.errors import LedgerError
from ledger.importer import import_lines
from projections.connection import create_pool

BATCH = 500


def import_history(url: str, history: Path) -> tuple[float, int]:
    """Imports the file; returns events/s and how many lines were refused unexpectedly."""
    ledger = Ledger(env=eventsourcing_env(url))
    unexpected = 0
    try:
        began = time.perf_counter()
        with history.open(encoding="utf-8") as lines:
            for outcome in import_lines(ledger, lines, actor="bench", correlation_id="bench",
                                        batch_size=BATCH):
                if isinstance(outcome.outcome, LedgerError) and not outcome.as_expected:
                    unexpected += 1
        elapsed = time.perf_counter() - began
        return ledger.position() / elapsed, unexpected
    finally:
        ledger.close()


async def raw_insert_rate(url: str, batch_events: int) -> float:
    """Copies the stored rows into a plain table by batched INSERTs; events/s."""
    pool = await create_pool(url, max_size=2)
    try:
        async with pool.acquire() as conn:
            await conn.execute("DROP TABLE IF EXISTS bench_raw_events")
            await conn.execute(
                "CREATE TABLE bench_raw_events (originator_id uuid, originator_version bigint,"
                " topic text, state bytea, PRIMARY KEY (originator_id, originator_version))")
            rows = await conn.fetch("SELECT originator_id, originator_version, topic, state"
                                    " FROM bevoegd_events ORDER BY notification_id")
            began = time.perf_counter()
            for start in range(0, len(rows), batch_events):
                chunk = rows[start:start + batch_events]
                async with conn.transaction():
                    await conn.execute(
                        "INSERT INTO bench_raw_events SELECT * FROM"
                        " unnest($1::uuid[], $2::bigint[], $3::text[], $4::bytea[])",
                        [r[0] for r in chunk], [r[1] for r in chunk], [r[2] for r in chunk],
                        [r[3] for r in chunk])
            elapsed = time.perf_counter() - began
            await conn.execute("DROP TABLE bench_raw_events")
        return len(rows) / elapsed
    finally:
        await pool.close()


def import_rate(url: str, history: Path, rounds: int) -> tuple[Metric, int]:
    """The import runs once (it fills the database the other figures read); the baseline runs
    `rounds` times over the same rows."""
    rate, unexpected = import_history(url, history)
    events_per_batch = 3 * BATCH  # a decision command records three events
    baseline = Spread.of(lambda _: asyncio.run(raw_insert_rate(url, events_per_batch)), rounds)
    return measured("import_rate", "events/s", Spread(rate, rate, rate),
                    "batched raw INSERT of the same rows (asyncpg)", baseline), unexpected
