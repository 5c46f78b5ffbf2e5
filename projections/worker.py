"""Entry points for the projection worker process (`bevoegd project`) and the projection
commands of the CLI; each opens its own pool."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence
from pathlib import Path

from ledger.transparency.note import Signer
from projections.checkpoints import Checkpointer
from projections.connection import create_pool
from projections.projection import Projection
from projections.rebuild import Progress, connections_needed, rebuild
from projections.runner import ProjectionStatus, Runner, all_projections, statuses
from projections.tile_files import TilePublisher
from projections.tracking import setup_tracking


async def run_worker(database_url: str, signer: Signer | None = None,
                     publish_into: Path | None = None) -> None:
    """Runs the projections, signs checkpoints if given a key and keeps a folder of the log's
    files current if given one, until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    pool = await create_pool(database_url, max_size=4)
    try:
        work = [Runner(pool, all_projections()).run(stop)]
        if signer is not None:
            work.append(Checkpointer(pool, signer).run(stop))
        if publish_into is not None:
            work.append(TilePublisher(pool, publish_into).run(stop))
        await asyncio.gather(*work)
    finally:
        await pool.close()


async def projection_statuses(database_url: str) -> list[ProjectionStatus]:
    """Where every projection stands, with its runner's last failure, if it is failing."""
    pool = await create_pool(database_url, max_size=1)
    try:
        async with pool.acquire() as conn, conn.transaction():
            await setup_tracking(conn)  # a database no runner has set up yet, or an older one
        return await statuses(pool, all_projections())
    finally:
        await pool.close()


async def rebuild_projections(database_url: str, projections: Sequence[Projection],
                              progress: Progress, processes: int = 1) -> int:
    """Rebuilds the projections in one pass; returns the position they were swapped in at."""
    pool = await create_pool(database_url, max_size=connections_needed(len(projections)))
    try:
        await Runner(pool, all_projections()).setup()
        return await rebuild(pool, projections, progress, processes=processes,
                             database_url=database_url)
    finally:
        await pool.close()
