"""Helpers for the projection tests: pools, a generated history through the real import path,
and the read models' tables compared row by row."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from bench.generate import generate_commands
from ledger import commands as c
from ledger.application import EVENTS_TABLE, Ledger
from ledger.errors import LedgerError
from ledger.importer import import_lines
from projections.connection import create_pool
from projections.queries.audit import event_counts
from projections.runner import Runner, all_projections
from projections.tracking import SCHEMA
from tests.ledger_setup import run

Tables = dict[str, list[dict[str, Any]]]
HISTORY_EVENTS = 3000  # the generator's smallest country records about this many anyway
_fresh = itertools.count()


@asynccontextmanager
async def pool_on(database_url: str, max_size: int = 10) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, max_size=max_size)
    try:
        yield pool
    except BaseException:
        pool.terminate()  # a failed test may leave tasks holding connections: wait for none
        raise
    await pool.close()


def import_history(ledger: Ledger, events: int = HISTORY_EVENTS, seed: int = 3) -> int:
    """A generated history through the real import path; returns the ledger's head."""
    lines = (json.dumps(line) for line in generate_commands(events, seed))
    unexpected = [o for o in import_lines(ledger, lines, actor="test", correlation_id="test")
                  if isinstance(o.outcome, LedgerError) and not o.as_expected]
    assert unexpected == []
    return ledger.position()


async def project(pool: asyncpg.Pool, batch_size: int = 5000) -> None:
    """Every projection brought up to the ledger's head, batch by batch, as a runner would."""
    runner = Runner(pool, all_projections(), batch_size=batch_size)
    await runner.setup()
    while await runner.catch_up() > 0:
        pass


def write_fresh_event(ledger: Ledger) -> int:
    """One more accepted command, whatever the ledger holds; returns its position."""
    n = next(_fresh)
    return run(ledger, c.EstablishJurisdiction(code=f"nieuw-{n}", title=f"Nieuw {n}",
                                               kind="municipality")).position


async def table_rows(db: asyncpg.Pool | asyncpg.Connection, table: str) -> list[dict[str, Any]]:
    """Every row, ordered by the primary key (by all columns where there is none)."""
    qualified = f"{SCHEMA}.{table}"
    key = await db.fetchval(
        "SELECT array_agg(a.attname ORDER BY array_position(i.indkey::int2[], a.attnum))"
        " FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
        " AND a.attnum = ANY(i.indkey::int2[]) WHERE i.indrelid = $1::regclass AND i.indisprimary",
        qualified)
    if not key:
        key = [row["attname"] for row in await db.fetch(
            "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0"
            " AND NOT attisdropped ORDER BY attnum", qualified)]
    order = ", ".join(f'"{column}"' for column in key)
    return [dict(row) for row in await db.fetch(f"SELECT * FROM {qualified} ORDER BY {order}")]


async def read_models(db: asyncpg.Pool | asyncpg.Connection) -> Tables:
    """Every table of every projection."""
    return {table: await table_rows(db, table)
            for projection in all_projections() for table in projection.tables}


def assert_same_read_models(found: Tables, expected: Tables) -> None:
    assert found.keys() == expected.keys()
    for table, rows in expected.items():
        first_difference = next((i for i, (a, b) in enumerate(zip(found[table], rows, strict=False))
                                 if a != b), None)
        assert first_difference is None, (
            f"{table} row {first_difference}: {found[table][first_difference]}"
            f" != {rows[first_difference]}")
        assert len(found[table]) == len(rows), table


async def assert_every_event_once(db: asyncpg.Pool | asyncpg.Connection) -> None:
    """The audit trail holds every position of the ledger once, and the counts per type agree."""
    ledger_rows = await db.fetch(f"SELECT notification_id, topic FROM {EVENTS_TABLE}"
                                 " ORDER BY notification_id")
    trail = await db.fetch(f"SELECT position FROM {SCHEMA}.audit_trail ORDER BY position")
    assert [r["position"] for r in trail] == [r["notification_id"] for r in ledger_rows]
    assert [r["position"] for r in trail] == list(range(1, len(trail) + 1))
    assert Counter(await event_counts(db)) == Counter(
        r["topic"].rpartition(":")[2] for r in ledger_rows)
