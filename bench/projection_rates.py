"""Projection figures: a full rebuild from position 0, and the time from a commit until the
projections show it."""

from __future__ import annotations

import asyncio
import json
import statistics
import time

import asyncpg

from bench.metrics import Metric, Spread, measured
from ledger import commands as c
from ledger.application import EVENTS_TABLE, CommandContext, Ledger
from ledger.database import eventsourcing_env
from projections.connection import create_pool
from projections.ledger_info import LedgerInfo
from projections.runner import Runner
from projections.tracking import SCHEMA

READ_BATCH = 2000
POSITION = f"SELECT position FROM {SCHEMA}.tracking WHERE projection = 'ledger_info'"


async def reset(conn: asyncpg.Connection) -> None:
    await conn.execute(f"DELETE FROM {SCHEMA}.ledger_info")
    await conn.execute(f"UPDATE {SCHEMA}.tracking SET position = 0")


async def rebuild_once(pool: asyncpg.Pool) -> float:
    runner = Runner(pool, [LedgerInfo()], batch_size=READ_BATCH)
    await runner.setup()
    async with pool.acquire() as conn:
        await reset(conn)
    began = time.perf_counter()
    applied = 0
    while (batch := await runner.catch_up()) > 0:
        applied += batch
    return applied / (time.perf_counter() - began)


async def read_and_decode_once(pool: asyncpg.Pool) -> float:
    began, position, count = time.perf_counter(), 0, 0
    async with pool.acquire() as conn:
        while rows := await conn.fetch(
                f"SELECT notification_id, originator_id, originator_version, topic, state"
                f" FROM {EVENTS_TABLE} WHERE notification_id > $1 ORDER BY notification_id"
                f" LIMIT $2", position, READ_BATCH):
            for row in rows:
                json.loads(row["state"])
            count += len(rows)
            position = rows[-1]["notification_id"]
    return count / (time.perf_counter() - began)


def rebuild_rate(url: str, rounds: int) -> Metric:
    async def measure() -> tuple[Spread, Spread]:
        pool = await create_pool(url, max_size=4)
        try:
            ours = [await rebuild_once(pool) for _ in range(rounds)]
            bare = [await read_and_decode_once(pool) for _ in range(rounds)]
        finally:
            await pool.close()
        return (Spread(statistics.median(ours), min(ours), max(ours)),
                Spread(statistics.median(bare), min(bare), max(bare)))

    ours, bare = asyncio.run(measure())
    return measured("rebuild_rate", "events/s", ours,
                    "reading and decoding the whole event log", bare)


def visible_latency(url: str, commands: int, rounds: int) -> Metric:
    """p99 of commit → visible, with the runner live (woken by NOTIFY)."""
    ledger = Ledger(env=eventsourcing_env(url))

    async def one_round(number: int) -> float:
        pool = await create_pool(url, max_size=4)
        stop = asyncio.Event()
        runner = asyncio.create_task(Runner(pool, [LedgerInfo()]).run(stop))
        latencies: list[float] = []
        try:
            async with pool.acquire() as conn:
                while await conn.fetchval(POSITION) != ledger.position():
                    await asyncio.sleep(0.05)  # the runner catches up first
                for n in range(commands):
                    command = c.EstablishJurisdiction(code=f"bench-lat-{number}-{n}",
                                                      title="Latency", kind="municipality")
                    result = await asyncio.to_thread(
                        ledger.execute, command, CommandContext(f"lat-{number}-{n}"))
                    committed = time.perf_counter()
                    while await conn.fetchval(POSITION) < result.position:
                        await asyncio.sleep(0.0005)
                    latencies.append((time.perf_counter() - committed) * 1000)
        finally:
            stop.set()
            await runner
            await pool.close()
        return statistics.quantiles(latencies, n=100)[98]

    try:
        return measured("visible_latency_p99", "ms",
                        Spread.of(lambda r: asyncio.run(one_round(r)), rounds))
    finally:
        ledger.close()
