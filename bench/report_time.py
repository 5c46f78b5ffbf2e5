"""report_seconds: one municipality's accountability report over one year, gathered from the
projections and rendered as PDF, next to the gathering alone (the projection queries it runs),
in the same round. The municipality and year are those with the most decisions of a member of a
region, so the figure is the report a busy council gets."""

from __future__ import annotations

import asyncio
import time
from datetime import date

import asyncpg

from api.report.render import render
from bench.metrics import Metric, Spread, measured
from projections.connection import create_pool
from projections.report.model import Period, accountability_report
from projections.tracking import SCHEMA


async def busiest(pool: asyncpg.Pool) -> tuple[str, int]:
    """The municipality, member of a region, and the year with the most of its own decisions."""
    row = await pool.fetchrow(
        f"SELECT d.jurisdiction, extract(year FROM d.taken_on)::int AS year"
        f" FROM {SCHEMA}.decisions d JOIN {SCHEMA}.memberships m ON m.member = d.jurisdiction"
        " WHERE d.taken_on IS NOT NULL GROUP BY 1, 2 ORDER BY count(*) DESC, 1, 2 LIMIT 1")
    if row is None:
        raise RuntimeError("No member of a region took a decision; nothing to report.")
    return row["jurisdiction"], row["year"]


async def one_round(pool: asyncpg.Pool, jurisdiction: str, period: Period) -> tuple[float, float]:
    """Seconds to gather the report, and to gather and render it as PDF."""
    began = time.perf_counter()
    report = await accountability_report(pool, jurisdiction, period, published_only=False)
    gathered = time.perf_counter()
    render(report, "pdf")
    return gathered - began, time.perf_counter() - began


def report_seconds(url: str, rounds: int) -> Metric:
    async def measure() -> list[tuple[float, float]]:
        pool = await create_pool(url, min_size=1, max_size=1)
        try:
            jurisdiction, year = await busiest(pool)
            period = Period(date(year, 1, 1), date(year, 12, 31))
            await one_round(pool, jurisdiction, period)  # warm: statements, fonts, templates
            return [await one_round(pool, jurisdiction, period) for _ in range(rounds)]
        finally:
            await pool.close()

    gathering, whole = zip(*asyncio.run(measure()), strict=True)
    return measured("report_seconds", "s", Spread.of_values(whole),
                    "the projection queries it runs", Spread.of_values(gathering), digits=3)
