"""Failover with nothing lost (tests/patroni.py): under steady writes, the primary's node is
killed (SIGKILL to its Patroni, its postmaster and every backend at once); Patroni promotes the
synchronous standby and HAProxy sends the processes' new connections there. The writes resume
through HAProxy, every acknowledged write is in the ledger exactly once, `bevoegd verify` finds
nothing wrong on the new primary, and every checkpoint signed before the kill is still stored and
consistent with the tree after it: a commit is acknowledged, and a tree signed, only once the
synchronous standby has it (projections/checkpoints.py)."""

from __future__ import annotations

import asyncio
import time

import psycopg
import pytest

from ledger.application import EVENTS_TABLE, Ledger
from ledger.database import eventsourcing_env
from ledger.transparency.keys import SIGNING_KEY_VARIABLE
from ledger.transparency.note import Signer
from projections.checkpoints import CHECKPOINTS_TABLE
from projections.verification import verify
from projections.verification.checkpoints import given_claim
from tests.patroni import failover_cluster, failover_installed
from tests.reliability.processes import until
from tests.reliability.suite import Figures
from tests.reliability.writers import (
    WRITE_DEADLINE,
    Tally,
    assert_each_acknowledged_write_once,
    griffies,
    summary,
    write_all,
)

pytestmark = [
    pytest.mark.database, pytest.mark.reliability, pytest.mark.timeout(600),
    pytest.mark.skipif(not failover_installed(),
                       reason="needs Debian's haproxy, patroni and etcd-server")]

CLIENTS = 16
WRITES_PER_CLIENT = 100  # enough to still be writing when three checkpoints are signed
KILL_AFTER = 80  # acknowledged writes before the primary is killed
SIGNED_BEFORE_KILL = 3  # checkpoints of some of the writes before the primary is killed
ORIGIN = "bevoegd.test/log"
KEPT = "a checkpoint kept before the kill"


def signed_notes(database_url: str) -> list[str]:
    """The checkpoints signed so far, as served; none before the signer set up its table."""
    with psycopg.connect(database_url) as conn:
        if conn.execute("SELECT to_regclass(%s)", (CHECKPOINTS_TABLE,)).fetchone() == (None,):
            return []
        return [note for note, in conn.execute(
            f"SELECT note FROM {CHECKPOINTS_TABLE} ORDER BY size").fetchall()]


def signed_during_the_writes(database_url: str, events_before: int) -> int:
    """How many checkpoints of some of the writes (events after the position `events_before`)
    are signed."""
    with psycopg.connect(database_url) as conn:
        return conn.execute(  # type: ignore[index]
            f"SELECT count(*) FROM {CHECKPOINTS_TABLE} WHERE size >"
            f" (SELECT count(*) FROM {EVENTS_TABLE} WHERE notification_id <= %s)",
            (events_before,)).fetchone()[0]


def signed_the_whole_log(database_url: str) -> bool:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            f"SELECT (SELECT count(*) FROM {EVENTS_TABLE})"
            f" = (SELECT max(size) FROM {CHECKPOINTS_TABLE})").fetchone() == (True,)


async def test_the_primary_killed_under_writes_fails_over_with_nothing_lost(
        figures: Figures) -> None:
    with failover_cluster() as failover:
        running = failover.cluster
        url = running.write_url
        signer = Signer.generate(ORIGIN)
        api = await asyncio.to_thread(running.start_api)
        await asyncio.to_thread(running.start_worker, {SIGNING_KEY_VARIABLE: signer.text()})
        ledger = Ledger(env=eventsourcing_env(url))
        try:
            writing = await griffies(ledger, url, WRITES_PER_CLIENT, CLIENTS)
            events_before = ledger.position()
        finally:
            ledger.close()
        tally = Tally()
        load = asyncio.create_task(write_all(f"{api.url}/graphql", writing, tally))
        await until(lambda: tally.acknowledged >= KILL_AFTER or load.done(),
                    f"{KILL_AFTER} acknowledged writes")

        async def signed_enough() -> bool:
            signed = await asyncio.to_thread(signed_during_the_writes, url, events_before)
            return signed >= SIGNED_BEFORE_KILL or load.done()

        await until(signed_enough, f"{SIGNED_BEFORE_KILL} checkpoints of the writes")
        assert not load.done(), tally.unexpected

        kept = await asyncio.to_thread(signed_notes, url)
        primary, standby = failover.nodes
        assert failover.primary() is primary
        acknowledged_before = tally.acknowledged
        killed = time.monotonic()
        await asyncio.to_thread(primary.kill)
        await until(lambda: asyncio.to_thread(lambda: failover.primary() is standby),
                    "Patroni to promote the synchronous standby")
        promoted_after = time.monotonic() - killed

        await asyncio.wait_for(load, WRITE_DEADLINE)  # the writes resumed: each was acknowledged
        assert tally.unexpected == [], tally.unexpected[:5]
        await asyncio.to_thread(assert_each_acknowledged_write_once, url, writing, events_before)
        await until(lambda: asyncio.to_thread(signed_the_whole_log, url),
                    "a checkpoint of the whole log, signed on the new primary")
        stored = await asyncio.to_thread(signed_notes, url)
        assert set(kept) <= set(stored), "a checkpoint signed before the kill is gone"
        report = await verify(url, verifiers=[signer.verifier], given=[
            given_claim(KEPT, note.encode(), [signer.verifier]) for note in kept])
        assert report.ok, [difference.as_json() for difference in report.differences[:5]]

    figures["Primary killed (kill -9 of its node) under writes: Patroni fails over"] = {
        **summary(writing, tally), "acknowledged before the kill": acknowledged_before,
        "seconds from the kill to the standby's promotion": round(promoted_after, 1),
        "checkpoints kept before the kill": len(kept),
        "checkpoints stored after": len(stored)}
