"""Signed checkpoints of the transparency log (C2SP tlog-checkpoint in a C2SP signed note): the
tree's size and root hash, signed with the log's key whenever the tree has grown, at most once
per SIGN_SECONDS. Every checkpoint signed is kept: a verifier checks each against the tree and
each against the one before it (consistency), and anyone who kept one can hold the log to it.

The signing key is given by configuration, never read from the database (ledger/transparency/
keys.py). Several processes may run a Checkpointer; one signs at a time, holding an advisory
lock on the connection it signs on, and the others stand by. A signer whose connection is gone can
sign nothing more, as the lock went with it. Whoever signs, a size is kept once.

Where the primary names synchronous standbys, a tree is signed only once they have it: a failover
promotes one of them, and whatever it lacks is gone, so a checkpoint of it would be one the log
after the failover cannot keep."""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from ledger.application import EVENTS_TABLE
from ledger.transparency.checkpoint import Checkpoint, sign_checkpoint
from ledger.transparency.note import Signer
from projections.health import Health, first_of, retry_delay
from projections.queries.log import tree_head
from projections.queries.sql import NEVER
from projections.tracking import PROJECTED_CHANNEL, SETUP_LOCK
from projections.waiting import ProjectionWatch

CHECKPOINTS_TABLE = "bevoegd_checkpoints"
SIGN_SECONDS = 1.0
SIGNER_LOCK = zlib.crc32(b"bevoegd-checkpoint-signer")
"""The advisory lock the one signing Checkpointer holds."""
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignedCheckpoint:
    size: int
    root_hash: bytes
    note: str  # the signed note, as served
    signed_at: datetime


async def setup_checkpoints(conn: asyncpg.Connection) -> None:
    """Creates the checkpoints' table if it is not there. Processes starting together (`serve
    --workers`) take turns on the set-up lock: CREATE TABLE IF NOT EXISTS alone lets two of them
    both create it, and one fail."""
    if await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", CHECKPOINTS_TABLE):
        return
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", SETUP_LOCK)
        await conn.execute(
            f"CREATE TABLE IF NOT EXISTS {CHECKPOINTS_TABLE} ("
            " size bigint PRIMARY KEY, root_hash bytea NOT NULL, note text NOT NULL,"
            " signed_at timestamptz NOT NULL DEFAULT now())")


async def latest_checkpoint(db: asyncpg.Pool | asyncpg.Connection,
                            size: int | None = None) -> SignedCheckpoint | None:
    """The latest checkpoint signed, or the one of this tree size; None if there is none."""
    row = await db.fetchrow(
        f"SELECT size, root_hash, note, signed_at FROM {CHECKPOINTS_TABLE}"
        " WHERE size = coalesce($1, size) ORDER BY size DESC LIMIT 1", size)
    return None if row is None else SignedCheckpoint(**row)


async def checkpoint_until(db: asyncpg.Pool | asyncpg.Connection,
                           position: int | None) -> SignedCheckpoint | None:
    """The latest checkpoint of a tree whose events all lie at or before `position` (the latest
    of all if None)."""
    row = await db.fetchrow(
        f"SELECT size, root_hash, note, signed_at FROM {CHECKPOINTS_TABLE} WHERE size <= ("
        f" SELECT count(*) FROM {EVENTS_TABLE} WHERE notification_id <= coalesce($1, {NEVER}))"
        " ORDER BY size DESC LIMIT 1", position)
    return None if row is None else SignedCheckpoint(**row)


async def recent_checkpoints(db: asyncpg.Pool | asyncpg.Connection,
                             limit: int) -> list[SignedCheckpoint]:
    """The `limit` latest checkpoints signed, newest first: what a visitor compares one kept
    earlier with."""
    rows = await db.fetch(f"SELECT size, root_hash, note, signed_at FROM {CHECKPOINTS_TABLE}"
                          " ORDER BY size DESC LIMIT $1", limit)
    return [SignedCheckpoint(**row) for row in rows]


async def all_checkpoints(db: asyncpg.Pool | asyncpg.Connection) -> list[SignedCheckpoint]:
    rows = await db.fetch(f"SELECT size, root_hash, note, signed_at FROM {CHECKPOINTS_TABLE}"
                          " ORDER BY size")
    return [SignedCheckpoint(**row) for row in rows]


async def sign_if_grown(db: asyncpg.Pool | asyncpg.Connection, signer: Signer
                        ) -> SignedCheckpoint | None:
    """Signs the current tree if no checkpoint has its size yet; returns what it signed."""
    size, root = await tree_head(db)
    latest = await latest_checkpoint(db)
    if size == 0 or (latest is not None and latest.size >= size):
        return None
    if not await synchronous_standbys_have_read(db):
        return None  # signed once they have it: the signer looks again within a second
    note = sign_checkpoint(Checkpoint(signer.name, size, root), signer).decode()
    row = await db.fetchrow(
        f"INSERT INTO {CHECKPOINTS_TABLE} (size, root_hash, note) VALUES ($1, $2, $3)"
        " ON CONFLICT (size) DO NOTHING RETURNING size, root_hash, note, signed_at",
        size, root, note)
    if row is not None:  # answers that name the latest checkpoint are out of date now
        await db.execute("SELECT pg_notify($1, $2)", PROJECTED_CHANNEL, str(size))
    return None if row is None else SignedCheckpoint(**row)


_LOG_WRITTEN = """
SELECT current_setting('synchronous_standby_names') <> '' AS named,
       pg_has_role('pg_read_all_stats', 'USAGE') AS seen,
       pg_current_wal_insert_lsn() AS written"""
"""The log as far as it is written now lies after every commit already read. Tree rows committed
without waiting for the standbys (a rebuild's, synchronous_commit off; a commit whose wait was
cancelled, which stays committed) are visible before the standbys have them, and not one of them
may be signed. The checkpoint's own commit waiting for the standbys is not enough: the note is
signed before, and a cancelled wait leaves it committed all the same."""
_FLUSHED = """
SELECT coalesce(bool_and(flush_lsn >= $1::pg_lsn), false) FROM pg_stat_replication
WHERE sync_state IN ('sync', 'quorum')"""
"""Whether every synchronous standby has flushed the log that far; a standby that lost its
connection is no longer listed, and then none has."""
STANDBY_POLL_SECONDS = 0.02


async def synchronous_standbys_have_read(db: asyncpg.Pool | asyncpg.Connection) -> bool:
    """Whether every synchronous standby has flushed the primary's log as far as it is written
    now (True where none are named), waiting up to SIGN_SECONDS: what was read before is then
    safe from a failover. Under steady writes the log always runs ahead of the standbys: they
    are waited for up to where it was, not where it has got to since."""
    named, seen, written = await db.fetchrow(_LOG_WRITTEN)
    if not named:
        return True
    if not seen:
        raise PermissionError("Synchronous standbys are named, and the signer cannot see how far "
                              "they are (pg_stat_replication): grant it pg_monitor.")
    deadline = time.monotonic() + SIGN_SECONDS
    while not await db.fetchval(_FLUSHED, written):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(STANDBY_POLL_SECONDS)
    return True


class Checkpointer:
    """Signs checkpoints as the projections move, until stopped; outlives database failures as
    the runner does."""

    def __init__(self, pool: asyncpg.Pool, signer: Signer) -> None:
        self.pool = pool
        self.signer = signer
        self.health = Health("Signing checkpoints", log)

    async def run(self, stop: asyncio.Event) -> None:
        watch = ProjectionWatch(self.pool)
        await watch.start()
        try:
            while not stop.is_set():
                try:
                    await self._lead_and_sign(stop, watch)
                except Exception as error:  # whatever failed, signing goes on once it can
                    failure = self.health.failed(error)
                    await first_of(stop, timeout=retry_delay(failure.attempts))
        finally:
            await watch.stop()

    async def _lead_and_sign(self, stop: asyncio.Event, watch: ProjectionWatch) -> None:
        """Stands by until this Checkpointer holds the signing lock, then signs on the lock's
        connection until `stop` is set; the pool lets go of the lock when the connection goes
        back to it."""
        async with self.pool.acquire() as conn:
            await setup_checkpoints(conn)
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", SIGNER_LOCK):
                self.health.succeeded()  # another process signs: nothing fails here while it does
                await first_of(stop, timeout=SIGN_SECONDS)
                if stop.is_set():
                    return
            while not stop.is_set():
                began = time.monotonic()
                await sign_if_grown(conn, self.signer)
                self.health.succeeded()
                await watch.next_change(timeout=SIGN_SECONDS)
                await first_of(stop, timeout=max(0.0, SIGN_SECONDS - (time.monotonic() - began)))
