"""Two `bevoegd project` workers on one database, one leading and one standing by, as a
deployment runs them for the projections to outlive a worker: who leads, and kill -9 of the leader
timed until the spare has applied a batch of its own. The test and the benchmark share it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from ledger.application import Ledger
from ledger.transparency import TransparencyError
from ledger.transparency.note import Signer
from projections.checkpoints import latest_checkpoint
from projections.runner import all_projections, lock_key
from projections.tracking import SCHEMA
from projections.verification.checkpoints import open_signed
from tests.read_models import write_fresh_event
from tests.reliability.processes import DEADLINE, Bevoegd, until

LOCK_KEYS = [lock_key(p.name) for p in all_projections()]
WRITE_EVERY = 0.05
"""Seconds between the steady writer's commands: about the national design peak (25 events/s)."""


async def projection_leader(conn: asyncpg.Connection) -> int | None:
    """The session holding every projection's lock; None while no session holds any. Fails
    when they are split between sessions: exactly one runner leads them all."""
    rows = await conn.fetch(
        "SELECT DISTINCT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND ((classid::bigint << 32) | objid::bigint) = ANY($1::bigint[])", LOCK_KEYS)
    assert len(rows) <= 1, f"the projections' locks are held by sessions {rows}"
    return rows[0]["pid"] if rows else None


async def furthest(conn: asyncpg.Connection) -> int:
    """The furthest position a projection stands at: it moves with every batch committed (0
    before a leader set up the tracking table)."""
    if await conn.fetchval("SELECT to_regclass($1)", f"{SCHEMA}.tracking") is None:
        return 0
    return int(await conn.fetchval(f"SELECT coalesce(max(position), 0) FROM {SCHEMA}.tracking"))


async def standing_by(conn: asyncpg.Connection, leader: int) -> bool:
    """Two sessions other than the leader's ask for a lock: a spare worker's runner and its
    checkpoint signer, standing by. (The leader's signer, once it holds its lock, signs.)"""
    return await conn.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> $1 AND pid <> pg_backend_pid() AND query LIKE '%pg_try_advisory_lock%'",
        leader) >= 2


def signed_with(note: bytes, key: Signer) -> bool:
    """Whether `key` signed the checkpoint in this note."""
    try:
        open_signed(note, [key.verifier])
    except TransparencyError:
        return False
    return True


async def last_signed_with(conn: asyncpg.Connection, key: Signer) -> bool:
    """The latest checkpoint is signed with `key`: its worker signs."""
    latest = await latest_checkpoint(conn)
    return latest is not None and signed_with(latest.note.encode(), key)


def start_worker(database_url: str, log: Path, environ: Mapping[str, str] | None = None
                 ) -> Bevoegd:
    return Bevoegd(["project"], database_url, log, environ)


async def leads(conn: asyncpg.Connection, since: int) -> int:
    """Waits until some session leads and has committed a batch past `since`; returns it."""
    await until(lambda: _leading_past(conn, since), f"a worker to lead and project past {since}")
    leader = await projection_leader(conn)
    assert leader is not None
    return leader


async def kill_the_leader(conn: asyncpg.Connection, leader: Bevoegd,
                          seconds: float = DEADLINE) -> tuple[int, float]:
    """kill -9 of the leading worker, while a spare stands by and events keep coming; returns
    the spare's session and the seconds from the kill until it committed its first batch."""
    old = await projection_leader(conn)
    leader.kill()
    began = time.monotonic()
    since = await furthest(conn)  # the killed worker can commit nothing more
    await until(lambda: _taken_over(conn, old, since),
                "the spare to lead and apply a batch", seconds)
    took = time.monotonic() - began
    successor = await projection_leader(conn)
    assert successor is not None
    return successor, took


async def _leading_past(conn: asyncpg.Connection, since: int) -> bool:
    return await projection_leader(conn) is not None and await furthest(conn) > since


async def _taken_over(conn: asyncpg.Connection, old: int | None, since: int) -> bool:
    return await projection_leader(conn) not in {old, None} and await furthest(conn) > since


@dataclass
class SteadyWrites:
    """One command every WRITE_EVERY seconds until stopped, as the ledger's users keep writing
    whatever happens to the workers."""

    ledger: Ledger
    written: int = 0
    head: int = 0
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> SteadyWrites:
        self._task = asyncio.create_task(self._write())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._stop.set()
        assert self._task is not None
        await self._task

    async def _write(self) -> None:
        while not self._stop.is_set():
            self.head = await asyncio.to_thread(write_fresh_event, self.ledger)
            self.written += 1
            await asyncio.sleep(WRITE_EVERY)
