"""Where each projection stands in the event log. The position is written in the transaction
that changes the projection's tables, so every event is applied exactly once."""

from __future__ import annotations

import asyncpg

SCHEMA = "projections"
SETUP_LOCK = 0x6265766F  # serialises schema set-up across processes
PROJECTED_CHANNEL = "bevoegd_projected"
"""Notified with the new position whenever a projection advances (see `wait_for`)."""


async def setup_tracking(conn: asyncpg.Connection) -> None:
    """Creates the schema and tracking table. Call inside a transaction: the lock it takes makes
    concurrent set-ups safe (CREATE ... IF NOT EXISTS alone is not, in PostgreSQL)."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", SETUP_LOCK)
    await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    await conn.execute(
        f"CREATE TABLE IF NOT EXISTS {SCHEMA}.tracking ("
        " projection text PRIMARY KEY,"
        " position bigint NOT NULL DEFAULT 0,"
        " updated_at timestamptz NOT NULL DEFAULT now())")
    await conn.execute(
        f"ALTER TABLE {SCHEMA}.tracking ADD COLUMN IF NOT EXISTS version integer NOT NULL DEFAULT 0,"
        " ADD COLUMN IF NOT EXISTS rate double precision")


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
