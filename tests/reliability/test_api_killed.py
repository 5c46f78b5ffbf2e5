"""kill -9 of the API under 32 writing clients: every write the server acknowledged is in the
ledger exactly once, at the position it was acknowledged at; the writes cut off by the kill,
sent again with their keys to the restarted server, are stored once (or answered as replays when
the dead server had stored them), and every acknowledged write sent again is replayed."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from ledger.application import Ledger
from tests.reliability.processes import Server, until
from tests.reliability.suite import Figures
from tests.reliability.writers import (
    WRITE_DEADLINE,
    Tally,
    assert_each_acknowledged_write_once,
    every_write,
    griffies,
    replay_all,
    summary,
    write_all,
)

pytestmark = [pytest.mark.database, pytest.mark.reliability, pytest.mark.timeout(300)]

WRITES_PER_CLIENT = 20
KILL_AFTER = 160
"""Acknowledged writes before the kill: it lands under full load, with most writes to come."""


async def test_the_api_killed_under_load_loses_and_repeats_nothing(
    ledger: Ledger, database_url: str, tmp_path: Path, figures: Figures
) -> None:
    writing = await griffies(ledger, database_url, WRITES_PER_CLIENT)
    events_before = ledger.position()
    tally = Tally()
    server = Server(database_url, tmp_path / "serve.log")
    await asyncio.to_thread(server.start)
    try:
        began = time.monotonic()
        load = asyncio.create_task(write_all(server.graphql, writing, tally))
        await until(lambda: tally.acknowledged >= KILL_AFTER or load.done(),
                    f"{KILL_AFTER} acknowledged writes")
        assert not load.done(), tally.unexpected
        server.kill()
        acknowledged_at_kill = tally.acknowledged
        await asyncio.to_thread(server.start)  # same port: the clients keep their URL
        await asyncio.wait_for(load, WRITE_DEADLINE)
        elapsed = time.monotonic() - began
        assert tally.unexpected == []
        await replay_all(server.graphql, writing, tally)
        assert tally.unexpected == []
    finally:
        server.close()

    assert_each_acknowledged_write_once(database_url, writing, events_before)
    cut_off = [w for w in every_write(writing) if w.unanswered]
    assert cut_off, "the kill cut no write off: it did not land under load"
    figures["API killed (kill -9) under load"] = {
        **summary(writing, tally), "acknowledged before the kill": acknowledged_at_kill,
        "writes cut off by the kill": len(cut_off),
        "seconds of load, the kill and the restart included": round(elapsed, 1)}
