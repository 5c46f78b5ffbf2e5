"""A projection worker killed with SIGKILL in the middle of a batch loses nothing and applies
nothing twice: the batch's transaction dies with it, and a restarted worker carries on from the
last committed position to the same read models a clean rebuild gives."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Collection
from pathlib import Path

import asyncpg
import pytest

from ledger.application import EVENTS_TABLE, Ledger
from ledger.database import DATABASE_URL_VARIABLE
from projections.connection import connect_kwargs
from projections.rebuild import rebuild
from projections.runner import CATCH_UP_BATCH, Runner, all_projections
from projections.tracking import SCHEMA
from tests.read_models import (
    assert_every_event_once,
    assert_same_read_models,
    import_history,
    pool_on,
    read_models,
)

pytestmark = pytest.mark.database

ROOT = Path(__file__).resolve().parents[1]
DEADLINE = 60.0  # seconds a bounded wait may take before the test fails; never a measurement
HISTORY_EVENTS = 11_000  # three of the worker's batches: the kill lands in the second


async def eventually(check: Callable[[], Awaitable[bool]], what: str, log: Path) -> None:
    deadline = time.monotonic() + DEADLINE
    while not await check():
        assert time.monotonic() < deadline, f"within {DEADLINE:g} s: {what}\n{log.read_text()}"
        await asyncio.sleep(0.02)


# The worker process ---------------------------------------------------------------------------


def start_worker(database_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, DATABASE_URL_VARIABLE: database_url}
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "api.cli", "project"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)


def stop_worker(worker: subprocess.Popen[bytes]) -> int:
    if worker.poll() is None:
        worker.terminate()  # SIGTERM: the worker's own graceful stop
    return worker.wait(timeout=DEADLINE)


# Holding the worker inside its second batch ---------------------------------------------------


async def hold_second_batch(database_url: str, pool: asyncpg.Pool) -> asyncpg.Connection:
    """Opens a transaction that inserts, uncommitted, the commission_progress row of an event in
    the worker's second batch. The worker's copy of that row then waits on this transaction, so
    the kill is sure to land inside the batch, after it wrote audit trail and commission rows,
    however fast the machine. (commission_progress, because the worker's set-up creates no
    index on it: set-up would wait on this transaction too.)"""
    event = await pool.fetchrow(
        f"SELECT originator_id, notification_id FROM {EVENTS_TABLE}"
        " WHERE topic LIKE '%:Commission.ProgressReported' AND notification_id > $1"
        " ORDER BY notification_id LIMIT 1", CATCH_UP_BATCH)
    assert event is not None and event["notification_id"] <= 2 * CATCH_UP_BATCH
    blocker = await asyncpg.connect(**connect_kwargs(database_url))
    await blocker.execute("BEGIN")
    await blocker.execute(
        f"INSERT INTO {SCHEMA}.commission_progress (record_id, position, reported_on, note)"
        " VALUES ($1, $2, '2000-01-01', 'held by the test')",
        event["originator_id"], event["notification_id"])
    return blocker


async def positions(pool: asyncpg.Pool) -> set[int]:
    """The positions the projections stand at (the test's set-up made all their rows)."""
    rows = await pool.fetch(f"SELECT position FROM {SCHEMA}.tracking")
    assert len(rows) == len(all_projections())
    return {row["position"] for row in rows}


async def copy_waits(pool: asyncpg.Pool, but_in: Collection[int] = ()) -> bool:
    """The worker's copy of commission_progress rows waits for the test's transaction (in a
    session other than those given)."""
    return bool(await pool.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND query LIKE 'COPY %commission_progress%'"
        " AND pid <> ALL($1::int[])", list(but_in)))


# Comparing read models ------------------------------------------------------------------------


# The test -------------------------------------------------------------------------------------


async def test_a_worker_killed_mid_batch_resumes_without_losing_or_repeating_events(
    ledger: Ledger, database_url: str, tmp_path: Path
) -> None:
    head = import_history(ledger, HISTORY_EVENTS)
    assert head > 2 * CATCH_UP_BATCH
    log = tmp_path / "worker.log"
    async with pool_on(database_url) as pool:
        await Runner(pool, all_projections()).setup()
        blocker = await hold_second_batch(database_url, pool)
        worker = start_worker(database_url, log)
        try:
            await eventually(lambda: _mid_catch_up(pool, head), "the first batch is committed", log)
            await eventually(lambda: copy_waits(pool), "the worker waits in batch two", log)
            worker.send_signal(signal.SIGKILL)
            assert worker.wait(timeout=DEADLINE) == -signal.SIGKILL
            stood_at = await positions(pool)
            assert stood_at == {CATCH_UP_BATCH}  # batch two is not committed
            await blocker.execute("ROLLBACK")  # the dead worker's session may now end
            await blocker.close()

            # It stands by until the dead worker's session ends and lets go of the locks.
            worker = start_worker(database_url, log)
            await eventually(lambda: _all_at(pool, head), "the restarted worker catches up", log)
            assert stop_worker(worker) == 0, log.read_text()
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
            if not blocker.is_closed():
                await blocker.close()

        async with pool.acquire() as conn:
            await assert_every_event_once(conn)
            resumed = await read_models(conn)
            await rebuild(pool, all_projections())
            assert_same_read_models(resumed, await read_models(conn))


async def _mid_catch_up(pool: asyncpg.Pool, head: int) -> bool:
    return all(0 < position < head for position in await positions(pool))


async def _all_at(pool: asyncpg.Pool, head: int) -> bool:
    return await positions(pool) == {head}
