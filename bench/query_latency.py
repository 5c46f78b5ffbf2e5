"""Query-layer latency of the competence map and who-is-competent: p99 over many calls through
`projections.queries.competences` on an asyncpg pool, every call with other arguments, next to a
`SELECT 1` round trip on the same pool (the least any query there can take)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta

import asyncpg

from bench.metrics import Metric, Spread, measured, p99
from projections.connection import create_pool
from projections.queries.audit import projected_position
from projections.queries.competences import competence_map, who_is_competent
from projections.runner import all_projections
from projections.tracking import SCHEMA

WARM_UP = 50  # calls of each kind before the first round: prepared statements, pool, caches
FIRST_DAY, LAST_DAY = date(2005, 1, 1), date(2025, 12, 31)
AS_KNOWN_SHARE = 0.25
"""Of the calls, this many read as known at a position in the middle of the log; they draw the
map from attributions and grants instead of reading the projected map."""

Call = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Catalogue:
    """What the arguments are drawn from: the holdings and grant subjects the log holds."""

    holdings: list[tuple[str, str]]  # (competence, jurisdiction)
    jurisdictions: list[str]
    subjects: list[str]
    head: int

    @classmethod
    async def read(cls, pool: asyncpg.Pool) -> Catalogue:
        holdings = [(row["competence"], row["jurisdiction"]) for row in await pool.fetch(
            f"SELECT competence, jurisdiction FROM {SCHEMA}.holdings ORDER BY 1, 2")]
        subjects = [row["subject"] for row in await pool.fetch(
            f"SELECT DISTINCT unnest(scope) AS subject FROM {SCHEMA}.grants ORDER BY 1")]
        head = await projected_position(pool, [p.name for p in all_projections()])
        if not holdings:
            raise RuntimeError("The projections hold no competences to query; rebuild them first.")
        return cls(holdings, sorted({j for _, j in holdings}), subjects, head)

    def day(self, rng: random.Random) -> date:
        return FIRST_DAY + timedelta(days=rng.randrange((LAST_DAY - FIRST_DAY).days + 1))

    def known_at(self, rng: random.Random) -> int | None:
        if rng.random() >= AS_KNOWN_SHARE:
            return None
        return rng.randint(self.head // 4, 3 * self.head // 4)

    def map_call(self, pool: asyncpg.Pool, rng: random.Random) -> Call:
        jurisdiction, on, known_at = rng.choice(self.jurisdictions), self.day(rng), self.known_at(rng)
        return lambda: competence_map(pool, jurisdiction, on, known_at)

    def who_call(self, pool: asyncpg.Pool, rng: random.Random) -> Call:
        competence, jurisdiction = rng.choice(self.holdings)
        on, known_at = self.day(rng), self.known_at(rng)
        subject = rng.choice(self.subjects) if self.subjects and rng.random() < 0.5 else None
        return lambda: who_is_competent(pool, competence, jurisdiction, on, subject, known_at)


async def elapsed_ms(call: Call) -> float:
    began = time.perf_counter()
    await call()
    return (time.perf_counter() - began) * 1000


async def one_round(pool: asyncpg.Pool, catalogue: Catalogue, calls: int, seed: int
                    ) -> tuple[float, float, float]:
    """p99 of the map, who-is-competent and `SELECT 1`, calls interleaved so that the three
    share whatever else the machine is doing."""
    rng = random.Random(seed)
    maps: list[float] = []
    whos: list[float] = []
    bare: list[float] = []
    for _ in range(calls):
        maps.append(await elapsed_ms(catalogue.map_call(pool, rng)))
        whos.append(await elapsed_ms(catalogue.who_call(pool, rng)))
        bare.append(await elapsed_ms(lambda: pool.fetchval("SELECT 1")))
    return p99(maps), p99(whos), p99(bare)


def query_latency(url: str, calls: int, rounds: int) -> list[Metric]:
    async def measure() -> list[tuple[float, float, float]]:
        # One connection: the calls are sequential, and a second one would only be cold.
        pool = await create_pool(url, min_size=1, max_size=1)
        try:
            catalogue = await Catalogue.read(pool)
            await one_round(pool, catalogue, WARM_UP, seed=-1)
            return [await one_round(pool, catalogue, calls, seed) for seed in range(rounds)]
        finally:
            await pool.close()

    maps, whos, bare = zip(*asyncio.run(measure()), strict=True)
    baseline = Spread.of_values(bare)
    return [measured(name, "ms", Spread.of_values(values),
                     "`SELECT 1` round trip on the same pool", baseline, digits=2)
            for name, values in (("query_competence_map_p99", maps),
                                 ("query_who_is_competent_p99", whos))]
