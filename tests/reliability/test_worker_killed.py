"""kill -9 of the projection worker during catch-up, again and again: each time a standby worker
takes over from the last committed batch, and the read models it arrives at, once the backlog
and new events are projected, are those `bevoegd projections rebuild` draws from the whole log."""

from __future__ import annotations

import asyncio
import functools
import random
from pathlib import Path

import asyncpg
import pytest

from ledger.application import Ledger
from projections.runner import all_projections
from projections.tracking import SCHEMA
from tests.read_models import (
    assert_every_event_once,
    assert_same_read_models,
    import_history,
    pool_on,
    read_models,
    write_fresh_event,
)
from tests.reliability.processes import Bevoegd, until
from tests.reliability.suite import Figures

pytestmark = [pytest.mark.database, pytest.mark.reliability, pytest.mark.timeout(300)]

HISTORY_EVENTS = 30_000  # six of the worker's catch-up batches
KILLS = 3
LIVE_EVENTS = 5
"""Written after the last kill: the surviving worker goes on from catching up to following."""


async def position(pool: asyncpg.Pool) -> int:
    """Where the projections stand together (0 before the first worker set them up)."""
    if await pool.fetchval("SELECT to_regclass($1)", f"{SCHEMA}.tracking") is None:
        return 0
    rows = await pool.fetch(f"SELECT position FROM {SCHEMA}.tracking")
    return min((row["position"] for row in rows), default=0) \
        if len(rows) == len(all_projections()) else 0


async def test_the_worker_killed_during_catch_up_converges_to_a_rebuild(
    ledger: Ledger, database_url: str, tmp_path: Path, figures: Figures
) -> None:
    head = import_history(ledger, HISTORY_EVENTS)
    chance = random.Random(11)
    logs = iter(tmp_path / f"worker-{n}.log" for n in range(KILLS + 1))
    workers = [Bevoegd(["project"], database_url, next(logs))]
    killed_at: list[int] = []
    async with pool_on(database_url) as pool:
        try:
            for _ in range(KILLS):
                # The active worker has committed a batch of its own; a standby waits for its
                # locks; the kill lands somewhere in the next batch.
                since = await position(pool)
                await until(functools.partial(_beyond, pool, since),
                            f"the active worker to commit a batch past {since}")
                workers.append(Bevoegd(["project"], database_url, next(logs)))
                await asyncio.sleep(chance.uniform(0.0, 0.3))
                workers.pop(0).kill()
                killed_at.append(await position(pool))
                assert killed_at[-1] < head, "the kill landed after the catch-up"
            for _ in range(LIVE_EVENTS):
                head = write_fresh_event(ledger)
            await until(lambda: _beyond(pool, head - 1), "the last worker to project everything")
            assert workers[0].stop() == 0, workers[0].output()
        finally:
            for worker in workers:
                if worker.alive:
                    worker.process.kill()
                    worker.process.wait()

        async with pool.acquire() as conn:
            await assert_every_event_once(conn)
            converged = await read_models(conn)
        rebuild = Bevoegd(["projections", "rebuild"], database_url, tmp_path / "rebuild.log")
        assert rebuild.wait() == 0, rebuild.output()
        async with pool.acquire() as conn:
            assert_same_read_models(converged, await read_models(conn))

    figures["projection worker killed (kill -9) during catch-up"] = {
        "events": head, "kills": KILLS, "positions at the kills": killed_at}


async def _beyond(pool: asyncpg.Pool, since: int) -> bool:
    return await position(pool) > since
