"""One leader per projection runner and per checkpoint signer, across processes: a leader whose
lock's connection is gone applies (or signs) nothing more, before another can take the lock. The
leader's batch runs on the session that holds the locks, so when that session is terminated the
batch in flight dies with it; a batch on some other session would go on and commit after a
standby had taken over."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest

from ledger.application import EVENTS_TABLE, Ledger
from ledger.transparency.note import Signer
from projections.checkpoints import SIGNER_LOCK, Checkpointer, all_checkpoints, setup_checkpoints
from projections.connection import connect_kwargs
from projections.runner import CATCH_UP_BATCH, Runner, all_projections
from tests.ledger_setup import build_world
from tests.read_models import import_history, pool_on, write_fresh_event
from tests.reliability.handover import projection_leader, signed_with
from tests.test_projection_crash import hold_second_batch, positions
from tests.test_projection_runner import caught_up, eventually, live_runner
from tests.test_runner_heals import assert_same_as_rebuilt, one_leader, terminate

pytestmark = [pytest.mark.database, pytest.mark.timeout(300)]

HISTORY_EVENTS = 11_000  # three of the runner's batches: the test holds the second
ORIGIN = "bevoegd.test/log"


async def batch_sessions(conn: asyncpg.Connection) -> set[int]:
    """The sessions whose batch waits on the test's transaction (see `hold_second_batch`)."""
    rows = await conn.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND query LIKE 'COPY %commission_progress%'")
    return {row["pid"] for row in rows}


async def test_a_leader_whose_lock_session_ends_has_no_batch_left_to_commit(
    ledger: Ledger, database_url: str
) -> None:
    head = import_history(ledger, HISTORY_EVENTS)
    assert head > 2 * CATCH_UP_BATCH
    async with pool_on(database_url, max_size=1) as probe:
        await Runner(probe, all_projections()).setup()
        admin = await asyncpg.connect(**connect_kwargs(database_url))
        blocker = await hold_second_batch(database_url, probe)
        try:
            # Separate pools stand for separate processes: advisory locks belong to sessions.
            async with pool_on(database_url) as pool_a, pool_on(database_url) as pool_b, \
                    live_runner(pool_a):
                try:
                    await eventually(lambda: _batch_waits(admin), "the leader waits in batch two")
                    leader = await one_leader(admin)
                    assert await batch_sessions(admin) == {leader}  # the batch is the lock's own

                    async with live_runner(pool_b):
                        await terminate(admin, {leader})
                        # Nothing of the old leader's is left to commit: the batch in flight
                        # ended with the locks, and a batch waits only in a leader's session.
                        await eventually(lambda: _only_a_leader_waits(admin), "the batch ended")
                        assert await positions(probe) == {CATCH_UP_BATCH}

                        await eventually(lambda: _batch_waits(admin), "a new leader is in batch two")
                        successor = await one_leader(admin)
                        assert successor != leader
                        assert await batch_sessions(admin) == {successor}
                        await blocker.execute("ROLLBACK")
                        await eventually(lambda: caught_up(probe), "the new leader catches up")
                        assert await positions(probe) == {head}
                finally:  # before the runners halt: a halt waits for their batch
                    await blocker.close()
        finally:
            await admin.close()
    await assert_same_as_rebuilt(database_url)


async def _batch_waits(conn: asyncpg.Connection) -> bool:
    return bool(await batch_sessions(conn))


async def _only_a_leader_waits(conn: asyncpg.Connection) -> bool:
    return await batch_sessions(conn) <= {await projection_leader(conn)}


# Checkpoint signers ---------------------------------------------------------------------------


@asynccontextmanager
async def signing(pool: asyncpg.Pool, signer: Signer) -> AsyncIterator[asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(Checkpointer(pool, signer).run(stop))
    try:
        yield task
    finally:
        stop.set()
        await task


async def signer_session(conn: asyncpg.Connection) -> int | None:
    return await conn.fetchval(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND ((classid::bigint << 32) | objid::bigint) = $1", SIGNER_LOCK)


async def signed_by(pool: asyncpg.Pool, keys: dict[str, Signer]) -> list[str]:
    """Which of the keys signed each stored checkpoint, in the order of their sizes."""
    found = []
    for checkpoint in await all_checkpoints(pool):
        (who,) = [name for name, key in keys.items()
                  if signed_with(checkpoint.note.encode(), key)]
        found.append(who)
    return found


async def test_one_checkpointer_signs_and_a_standby_signs_once_its_session_ends(
    ledger: Ledger, database_url: str
) -> None:
    """Each signer has a key of its own (same origin), so that the test can tell who signed."""
    build_world(ledger)
    keys = {"first": Signer.generate(ORIGIN), "second": Signer.generate(ORIGIN)}
    async with pool_on(database_url) as pool_a, pool_on(database_url) as pool_b, \
            pool_on(database_url) as probe, probe.acquire() as admin, live_runner(probe):
        await eventually(lambda: caught_up(probe), "the runner catches up")
        await setup_checkpoints(admin)  # to watch from the start
        async with signing(pool_a, keys["first"]):
            await eventually(lambda: _signed(probe), "the first signer signs")
            first = await signer_session(admin)
            async with signing(pool_b, keys["second"]):
                for _ in range(3):
                    position = await asyncio.to_thread(write_fresh_event, ledger)
                    await eventually(lambda p=position: _signed_up_to(probe, p),
                                     "the tree is signed at its new size")
                assert set(await signed_by(probe, keys)) == {"first"}  # the standby stood by
                assert first is not None and await signer_session(admin) == first

                await terminate(admin, {first})
                position = await asyncio.to_thread(write_fresh_event, ledger)
                await eventually(lambda: _signed_up_to(probe, position), "the standby signs")
                assert await signer_session(admin) not in {first, None}
        # One handover at most (the first may take the lock again before the standby does),
        # never signers taking turns.
        order = await signed_by(probe, keys)
        terms = [who for n, who in enumerate(order) if n == 0 or order[n - 1] != who]
        assert terms in (["first"], ["first", "second"]), order


async def _signed(pool: asyncpg.Pool) -> bool:
    return bool(await all_checkpoints(pool))


async def _signed_up_to(pool: asyncpg.Pool, position: int) -> bool:
    """A checkpoint covers the ledger up to `position` (each event is one leaf)."""
    count = await pool.fetchval(
        f"SELECT count(*) FROM {EVENTS_TABLE} WHERE notification_id <= $1", position)
    return any(c.size >= count for c in await all_checkpoints(pool))
