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
from ledger.transparency.note import Signer
from projections.checkpoints import Checkpointer, setup_checkpoints
from projections.connection import create_pool
from projections.events import read_events
from projections.queries.audit import projected_position
from projections.rebuild import connections_needed, rebuild
from projections.runner import CATCH_UP_BATCH, Runner, all_projections
from projections.transparency_log import TransparencyLog

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
    """p99 of commit → visible in every projection, with the runner live (woken by NOTIFY) and
    a checkpointer signing the tree as it grows. Its baseline, in rounds interleaved with it,
    does the same without the transparency log: no tree drawn, no checkpoint signed."""
    ledger = Ledger(env=eventsourcing_env(url))

    async def one_round(number: int, with_log: bool) -> float:
        projections = [p for p in all_projections() if with_log or p.name != TransparencyLog.name]
        names = [p.name for p in projections]
        pool = await create_pool(url, max_size=6)
        stop = asyncio.Event()
        async with pool.acquire() as conn:
            await setup_checkpoints(conn)
        live = [asyncio.create_task(Runner(pool, projections).run(stop))]
        if with_log:
            signer = Signer.generate("bench.bevoegd.example/log")
            live.append(asyncio.create_task(Checkpointer(pool, signer).run(stop)))
        latencies: list[float] = []
        try:
            async with pool.acquire() as conn:
                while await projected_position(conn, names) < ledger.position():
                    await asyncio.sleep(0.05)  # the runner catches up first
                for n in range(commands):
                    code = f"bench-lat-{'log' if with_log else 'bare'}-{number}-{n}-{time.time_ns()}"
                    command = c.EstablishJurisdiction(code=code, title="Latency",
                                                      kind="municipality")
                    result = await asyncio.to_thread(ledger.execute, command, CommandContext(code))
                    committed = time.perf_counter()
                    while await projected_position(conn, names) < result.position:
                        await asyncio.sleep(0.0005)
                    latencies.append((time.perf_counter() - committed) * 1000)
        finally:
            stop.set()
            await asyncio.gather(*live)
            await pool.close()
        return p99(latencies)

    try:
        ours, bare = [], []
        # interleaved, the baseline first: a round with the log ends with every projection at
        # the head, as the figures after this one need (a server is ready only then)
        for number in range(rounds):
            bare.append(asyncio.run(one_round(number, with_log=False)))
            ours.append(asyncio.run(one_round(number, with_log=True)))
        return measured("visible_latency_p99", "ms", Spread.of_values(ours),
                        "the same without the transparency log (no tree, no checkpoints)",
                        Spread.of_values(bare))
    finally:
        ledger.close()
