"""Import rate: a generated history through the real import path (batched) into an empty
database, next to a batched raw INSERT of the same rows with asyncpg."""

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
from tests.databases import fresh_database

BATCH = 500
EVENTS_PER_BATCH = 3 * BATCH  # a decision command records three events


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


def one_round(url: str, history: Path) -> tuple[float, int, float]:
    """The import into an empty database, then the baseline over the rows it stored."""
    rate, unexpected = import_history(url, history)
    return rate, unexpected, asyncio.run(raw_insert_rate(url, EVENTS_PER_BATCH))


def import_rate(server_url: str, history: Path, rounds: int, last: str) -> tuple[Metric, int]:
    """Imports the file `rounds` times, each time into an empty database of its own; the last
    time into `last`, which the later figures read. Returns the figure and the most lines
    refused unexpectedly in any round."""
    results: list[tuple[float, int, float]] = []
    for _ in range(rounds - 1):
        with fresh_database(server_url) as url:
            results.append(one_round(url, history))
    results.append(one_round(last, history))
    ours, unexpected, bare = zip(*results, strict=True)
    return measured("import_rate", "events/s", Spread.of_values(ours),
                    "batched raw INSERT of the same rows (asyncpg)",
                    Spread.of_values(bare)), max(unexpected)
