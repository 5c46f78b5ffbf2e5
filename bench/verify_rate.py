"""How fast `bevoegd verify` checks the chain, the tree and the checkpoints (the projections left
out: their replay is the rebuild's, measured there), next to the least such a check can do:
reading the same events in the same batches and hashing each one's chain input once with
hashlib. Rounds interleaved, ours first."""

from __future__ import annotations

import asyncio
import hashlib
import time

from bench.metrics import Metric, Spread, measured
from ledger.application import EVENTS_TABLE
from projections.connection import create_pool
from projections.verification import verify

BATCH = 2000  # as verify reads them


async def _ours(url: str) -> tuple[int, float]:
    began = time.perf_counter()
    report = await verify(url, read_models=False)
    if not report.ok:
        raise RuntimeError(f"The benchmark's ledger does not verify: {report.differences[:1]}")
    return report.log.events, time.perf_counter() - began


async def _baseline(url: str) -> tuple[int, float]:
    pool = await create_pool(url, max_size=1)
    try:
        began = time.perf_counter()
        events, after, previous = 0, 0, bytes(32)
        async with pool.acquire() as conn:
            while rows := await conn.fetch(
                    f"SELECT notification_id, originator_id, originator_version, topic, state"
                    f" FROM {EVENTS_TABLE} WHERE notification_id > $1 ORDER BY notification_id"
                    f" LIMIT {BATCH}", after):
                for row in rows:
                    topic = row["topic"].encode()
                    previous = hashlib.sha256(
                        previous + row["notification_id"].to_bytes(8, "big")
                        + row["originator_id"].bytes + row["originator_version"].to_bytes(8, "big")
                        + len(topic).to_bytes(4, "big") + topic
                        + len(row["state"]).to_bytes(4, "big") + row["state"]).digest()
                events += len(rows)
                after = rows[-1]["notification_id"]
        return events, time.perf_counter() - began
    finally:
        await pool.close()


def verify_rate(url: str, rounds: int) -> Metric:
    ours, baseline = [], []
    for _ in range(rounds):
        for measure, into in ((_ours, ours), (_baseline, baseline)):
            events, seconds = asyncio.run(measure(url))
            into.append(events / seconds)
    return measured("verify_rate", "events/s", Spread.of_values(ours),
                    "reading the events and hashing each one's chain input once",
                    Spread.of_values(baseline))
