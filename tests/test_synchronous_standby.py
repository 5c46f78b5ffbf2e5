"""Checkpoints on a primary with a synchronous standby: a tree is signed only once the standby
has it, since a failover promotes the standby and whatever it lacks is gone.

Tree rows the primary committed without waiting for the standby (as a rebuild commits them,
synchronous_commit off) while the standby hangs (SIGSTOP: it keeps its connection and is still
listed as synchronous) are not signed, even by a signer whose own commits do not wait; once the
standby is back, they are, and the standby has the tree signed."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from ledger.application import Ledger
from ledger.database import DATABASE_NAME, ensure_database, eventsourcing_env
from ledger.transparency.note import Signer
from projections.checkpoints import (
    SignedCheckpoint,
    latest_checkpoint,
    setup_checkpoints,
    sign_if_grown,
)
from projections.queries.log import tree_head
from projections.tracking import SCHEMA
from projections.transparency_log import tree_size
from tests.read_models import pool_on, project, write_fresh_event
from tests.reliability.postgres_server import PostgresServer, postgres_server
from tests.reliability.processes import until

pytestmark = [pytest.mark.database, pytest.mark.timeout(300)]

ORIGIN = "bevoegd.test/log"
EVENTS = 3  # written before each signing
HASTY = "hasty"
"""A role whose commits do not wait for the standby."""


@pytest.fixture
def replicated() -> Iterator[tuple[PostgresServer, PostgresServer]]:
    """A primary with the ledger's database, and its synchronous standby."""
    with tempfile.TemporaryDirectory(prefix="bevoegd-synchronous-") as name:
        folder = Path(name)
        (folder / "primary").mkdir()
        (folder / "standby").mkdir()
        with postgres_server(folder / "primary") as primary:
            ensure_database(primary.url(), DATABASE_NAME)
            with postgres_server(folder / "standby", standby_of=primary,
                                 synchronous=True) as standby:
                yield primary, standby


def write_events(url: str) -> None:
    ledger = Ledger(env=eventsourcing_env(url))
    try:
        for _ in range(EVENTS):
            write_fresh_event(ledger)
    finally:
        ledger.close()


async def test_a_tree_the_synchronous_standby_lacks_is_signed_only_once_it_has_it(
        replicated: tuple[PostgresServer, PostgresServer]) -> None:
    primary, standby = replicated
    url = primary.url(DATABASE_NAME)
    signer = Signer.generate(ORIGIN)
    write_events(url)
    async with pool_on(url) as pool:
        async with pool.acquire() as conn:
            await setup_checkpoints(conn)
        await project(pool)
        first = await sign_if_grown(pool, signer)
    assert first is not None, "a tree the standby has was not signed"
    write_events(url)  # committed, so on the standby; the tree of them is not drawn yet
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {HASTY} SUPERUSER LOGIN")
        conn.execute(f"ALTER ROLE {HASTY} SET synchronous_commit = local")

    standby.pause()
    try:
        async with pool_on(url.replace("postgres@", f"{HASTY}@")) as not_waiting:
            await project(not_waiting)
            size, _ = await tree_head(not_waiting)
            assert size == first.size + EVENTS
            assert await sign_if_grown(not_waiting, signer) is None
            assert await latest_checkpoint(not_waiting) == first
    finally:
        standby.resume()

    signed: list[SignedCheckpoint] = []

    async with pool_on(url) as pool:
        async def signs() -> bool:
            checkpoint = await sign_if_grown(pool, signer)
            signed.extend([checkpoint] if checkpoint else [])
            return bool(signed)

        await until(signs, "a checkpoint once the standby is back")
    assert signed[0].size == size
    async with pool_on(standby.url(DATABASE_NAME)) as on_standby:
        assert await tree_size(on_standby, SCHEMA) >= size
