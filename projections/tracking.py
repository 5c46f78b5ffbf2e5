"""Where each projection stands in the event log. The position is written in the transaction
that changes the projection's tables, so every event is applied exactly once. The row also
holds the runner's last failure, for other processes to read (`bevoegd projections status`)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

SCHEMA = "projections"
SETUP_LOCK = 0x6265766F  # serialises schema set-up across processes
PROJECTED_CHANNEL = "bevoegd_projected"
"""Notified with the new position whenever a projection advances (see `wait_for`)."""


async def setup_tracking(conn: asyncpg.Connection) -> None:
    """Creates the schema and tracking table, or brings an older one to this shape. Call inside
    a transaction: the lock it takes makes concurrent set-ups safe (CREATE ... IF NOT EXISTS alone
    is not, in PostgreSQL)."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", SETUP_LOCK)
    if await conn.fetchval(
            "SELECT count(*) FROM pg_attribute WHERE attname = 'last_error_at'"
            f" AND attrelid = to_regclass('{SCHEMA}.tracking')"):
        # Already in shape (its last column is there): ALTER TABLE, even with nothing to add,
        # would wait for a running batch and hold up every read of the table behind it.
        return
    await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    await conn.execute(
        f"CREATE TABLE IF NOT EXISTS {SCHEMA}.tracking ("
        " projection text PRIMARY KEY,"
        " position bigint NOT NULL DEFAULT 0,"
        " updated_at timestamptz NOT NULL DEFAULT now())")
    await conn.execute(
        f"ALTER TABLE {SCHEMA}.tracking ADD COLUMN IF NOT EXISTS version integer NOT NULL DEFAULT 0,"
        " ADD COLUMN IF NOT EXISTS rate double precision,"
        " ADD COLUMN IF NOT EXISTS last_error text,"
        " ADD COLUMN IF NOT EXISTS last_error_at timestamptz")  # the last: see above


async def claim_position(conn: asyncpg.Connection, projection: str) -> int:
    """Locks the projection's tracking row for this transaction and returns its position."""
    await conn.execute(
        f"INSERT INTO {SCHEMA}.tracking (projection) VALUES ($1) ON CONFLICT DO NOTHING",
        projection)
    position = await conn.fetchval(
        f"SELECT position FROM {SCHEMA}.tracking WHERE projection = $1 FOR UPDATE", projection)
    return int(position)


async def advance(conn: asyncpg.Connection, projection: str, position: int,
                  rate: float | None = None) -> None:
    await conn.execute(
        f"UPDATE {SCHEMA}.tracking SET position = $2, rate = coalesce($3, rate), updated_at = now()"
        " WHERE projection = $1", projection, position, rate)
    await conn.execute("SELECT pg_notify($1, $2)", PROJECTED_CHANNEL, str(position))


async def record_failure(conn: asyncpg.Connection, projections: list[str], error: str,
                         at: datetime) -> None:
    await conn.execute(
        f"UPDATE {SCHEMA}.tracking SET last_error = $2, last_error_at = $3"
        " WHERE projection = ANY($1)", projections, error, at)


async def clear_failure(conn: asyncpg.Connection, projections: list[str]) -> None:
    """Call in a batch's transaction: a failure recorded before it is over once it commits.
    Writes nothing when there is nothing to clear, as in almost every batch."""
    await conn.execute(
        f"UPDATE {SCHEMA}.tracking SET last_error = NULL, last_error_at = NULL"
        " WHERE projection = ANY($1) AND last_error IS NOT NULL", projections)
