"""The Starlette application: health and readiness now; GraphQL joins it at /graphql."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from projections.connection import create_pool
from projections.runner import Runner, all_projections, statuses

READY_LAG = 1000  # events a projection may trail the ledger by and still serve reads


async def healthz(request: Request) -> JSONResponse:
    """The process is up."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """The database answers and every projection is close enough to the ledger's head."""
    try:
        found = await statuses(request.app.state.pool, all_projections())
    except (TimeoutError, OSError) as error:
        return JSONResponse({"status": "unavailable", "database": str(error)}, status_code=503)
    lag = max((s.lag for s in found), default=0)
    ready = lag <= READY_LAG
    return JSONResponse({"status": "ready" if ready else "lagging", "lag": lag,
                         "projections": {s.name: s.position for s in found}},
                        status_code=200 if ready else 503)


def create_app(database_url: str, *, run_projector: bool = True) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.pool = await create_pool(database_url)
        stop = asyncio.Event()
        runner = (asyncio.create_task(Runner(app.state.pool, all_projections()).run(stop))
                  if run_projector else None)
        try:
            yield
        finally:
            stop.set()
            if runner is not None:
                await runner
            await app.state.pool.close()

    return Starlette(
        routes=[Route("/healthz", healthz), Route("/readyz", readyz)],
        lifespan=lifespan,
    )
