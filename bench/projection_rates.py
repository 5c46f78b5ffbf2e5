"""Projection figures: a full rebuild of every projection from position 0, and the time from a
commit until every projection shows it."""

from __future__ import annotations

import asyncio
import time

import asyncpg

from bench.metrics import Metric, Spread, measured, p99
from ledger import commands as c
from ledger.application import Ledger
from ledger.database import eventsourcing_env
from ledger.pipeline import CommandContext
from projections.connection import create_pool
from projections.events import read_events
from projections.queries.audit import projected_position
from projections.rebuild import connections_needed, rebuild
from projections.runner import CATCH_UP_BATCH, Runner, all_projections

READ_BATCH = CATCH_UP_BATCH
"""The baseline reads in the live runner's batches: reading alone is faster in these than in the
rebuild's larger ones (their decoded events keep more objects alive for the garbage collector)."""


async def rebuild_once(pool: asyncpg.Pool) -> float:
    """The whole rebuild as `bevoegd projections rebuild` runs it: replay into shadow tables,
    indexes, ANALYZE, catch-up and swap."""
    began = time.perf_counter()
    position = await rebuild(pool, all_projections())
    return position / (time.perf_counter() - began)


async def read_and_decode_once(pool: asyncpg.Pool) -> float:
    """The rebuild's reading and decoding (the same query and decoder) without projecting."""
    began, position = time.perf_counter(), 0
    async with pool.acquire() as conn:
        while events := await read_events(conn, position, READ_BATCH):
            position = events[-1].position
    return position / (time.perf_counter() - began)


def rebuild_rate(url: str, rounds: int) -> Metric:
    async def measure() -> tuple[Spread, Spread]:
        pool = await create_pool(url, max_size=connections_needed(len(all_projections())))
        try:
            await Runner(pool, all_projections()).setup()  # as the CLI does before a rebuild
            ours: list[float] = []
            bare: list[float] = []
            for _ in range(rounds):  # interleaved, so both see the same state of the machine
                ours.append(await rebuild_once(pool))
                bare.append(await read_and_decode_once(pool))
        finally:
            await pool.close()
        return Spread.of_values(ours), Spread.of_values(bare)

    ours, bare = asyncio.run(measure())
    return measured("rebuild_rate", "events/s", ours,
                    "reading and decoding the whole event log", bare)


def visible_latency(url: str, commands: int, rounds: int) -> Metric:
    """p99 of commit → visible in every projection, with the runner live (woken by NOTIFY)."""
    ledger = Ledger(env=eventsourcing_env(url))
    names = [p.name for p in all_projections()]

    async def one_round(number: int) -> float:
        pool = await create_pool(url, max_size=4)
        stop = asyncio.Event()
        runner = asyncio.create_task(Runner(pool, all_projections()).run(stop))
        latencies: list[float] = []
        try:
            async with pool.acquire() as conn:
                while await projected_position(conn, names) < ledger.position():
                    await asyncio.sleep(0.05)  # the runner catches up first
                for n in range(commands):
                    command = c.EstablishJurisdiction(code=f"bench-lat-{number}-{n}",
                                                      title="Latency", kind="municipality")
                    result = await asyncio.to_thread(
                        ledger.execute, command, CommandContext(f"lat-{number}-{n}"))
                    committed = time.perf_counter()
                    while await projected_position(conn, names) < result.position:
                        await asyncio.sleep(0.0005)
                    latencies.append((time.perf_counter() - committed) * 1000)
        finally:
            stop.set()
            await runner
            await pool.close()
        return p99(latencies)

    try:
        return measured("visible_latency_p99", "ms",
                        Spread.of(lambda r: asyncio.run(one_round(r)), rounds))
    finally:
        ledger.close()
