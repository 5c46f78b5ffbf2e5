"""Reading from a hot standby: where the primary's write-ahead log stands, whether a standby has
replayed up to a point of it, and how far behind it is.

A read database that is a streaming standby shows what the primary had some moments ago. What
the read side learns from the primary (a notification that the projections moved) must
therefore wait until the standby has replayed as far as the primary had written when it was
heard: only then do reads of the standby show it."""

from __future__ import annotations

import asyncpg


async def is_standby(pool: asyncpg.Pool) -> bool:
    """Whether the database is a standby replaying another's log (a hot standby)."""
    return bool(await pool.fetchval("SELECT pg_is_in_recovery()"))


async def written_to(primary: asyncpg.Pool) -> int:
    """How far the primary has written its log (a log sequence number): every transaction
    committed before this call, a notification's among them, lies before it."""
    return int(await primary.fetchval("SELECT pg_current_wal_lsn()"))


async def has_replayed(standby: asyncpg.Pool, position: int) -> bool:
    """Whether the standby has replayed its log up to `position` (see `written_to`), so that
    what was committed before it is visible there."""
    return bool(await standby.fetchval(
        "SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false)", position))


async def replay_lag(primary: asyncpg.Pool, standby: asyncpg.Pool) -> int:
    """How much of the primary's log, in bytes, the standby has yet to replay."""
    return int(await standby.fetchval(
        "SELECT coalesce(greatest(pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn()), 0), 0)"
        "::bigint", await written_to(primary)))
