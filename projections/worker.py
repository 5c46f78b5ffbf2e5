"""The projection worker process (`bevoegd project`) and status reads for the CLI."""

from __future__ import annotations

import asyncio
import signal

from projections.connection import create_pool
from projections.runner import ProjectionStatus, Runner, all_projections, statuses


async def run_worker(database_url: str) -> None:
    """Runs the projections until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    pool = await create_pool(database_url, max_size=4)
    try:
        await Runner(pool, all_projections()).run(stop)
    finally:
        await pool.close()


async def projection_statuses(database_url: str) -> list[ProjectionStatus]:
    pool = await create_pool(database_url, max_size=1)
    try:
        return await statuses(pool, all_projections())
    finally:
        await pool.close()
