"""The projection runner follows the ledger exactly once; the API reports health and readiness."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from ledger.application import Ledger
from projections.connection import create_pool
from projections.ledger_info import LedgerInfo, event_counts
from projections.runner import Runner, statuses
from tests.ledger_setup import build_world

pytestmark = pytest.mark.database


def counts_in_the_ledger(ledger: Ledger) -> Counter[str]:
    return Counter(row["topic"].rpartition(":")[2] for row in ledger.store.chain_rows())


async def test_every_event_is_projected_exactly_once(ledger: Ledger, database_url: str) -> None:
    build_world(ledger)
    pool = await create_pool(database_url)
    try:
        runner = Runner(pool, [LedgerInfo()], batch_size=7)
        await runner.setup()
        applied = 0
        while (batch := await runner.catch_up()) > 0:
            applied += batch
        assert applied == len(ledger.store.chain_rows())
        assert await runner.catch_up() == 0  # caught up: nothing is applied twice
        async with pool.acquire() as conn:
            assert Counter(await event_counts(conn)) == counts_in_the_ledger(ledger)
        (status,) = await statuses(pool, [LedgerInfo()])
        assert status.lag == 0 and status.position == ledger.position()
    finally:
        await pool.close()


def test_the_api_is_healthy_and_ready_once_projections_caught_up(
    ledger: Ledger, database_url: str
) -> None:
    build_world(ledger)
    with TestClient(create_app(database_url)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 200  # a lag within the bound still serves reads
        deadline = time.monotonic() + 30
        while (ready.json()["projections"] != {"ledger_info": ledger.position()}
               and time.monotonic() < deadline):
            time.sleep(0.1)
            ready = client.get("/readyz")
        assert ready.json() == {"status": "ready", "lag": 0,
                                "projections": {"ledger_info": ledger.position()}}
