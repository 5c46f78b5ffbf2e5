"""The Starlette application: the explorer at / (api/explorer), GraphQL at /graphql (GraphiQL
unless in production, its files under /graphiql), the transparency log under /log, accountability
reports under /reports, health at /healthz, readiness at /readyz, all of them readable from other
origins (api/cors.py); the projection runner (and, given a signing key, the checkpoint signer)
runs in the same process unless disabled.

Reads (queries, subscriptions, the explorer, reports, the log's tiles) go to the read database,
which may be a hot standby; everything that writes (commands, the projection runner, the
checkpoint signer, tables set up at start) and what must see a write at once (tokens: a revoked
one is refused as soon as revoking returns) goes to the write database. Nothing is set up on,
and nothing listens to, the read database: a standby refuses both."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from api.auth import TrustedTokens, setup_tokens
from api.availability import DatabaseAvailability, DatabaseUnavailable, both_pools_answer
from api.body_limit import RequestSizeLimit, max_body_bytes
from api.cache import ResponseCache
from api.cors import cors_origins, cors_settings
from api.explorer.routes import routes as explorer_routes
from api.graphiql.page import ASSETS_PATH, assets
from api.http import GraphQLView
from api.log_http import ROUTES as LOG_ROUTES
from api.log_http import TilesServed
from api.report_http import ROUTES as REPORT_ROUTES
from api.request_id import RequestId
from api.schema.transparency import KEPT_TILES
from api.switches import switch
from api.tail import Tail
from api.timeout import RequestTimeLimit
from ledger.application import Ledger
from ledger.database import DATABASE_URL_VARIABLE, READ_DATABASE_URL_VARIABLE, eventsourcing_env
from ledger.transparency.keys import configured_signer
from ledger.transparency.note import Signer
from ledger.transparency.tiles import TileSet
from projections.checkpoints import Checkpointer, setup_checkpoints
from projections.connection import create_pool
from projections.health import DATABASE_ERRORS, describe
from projections.replication import replay_lag
from projections.runner import Runner, all_projections, statuses
from projections.waiting import ProjectionWatch

READY_LAG = 1000  # events a projection may trail the ledger by and still serve reads
REQUEST_SECONDS = 10.0
STATEMENT_SECONDS = 5.0
PRODUCTION_VARIABLE = "BEVOEGD_PRODUCTION"
PROJECTOR_VARIABLE = "BEVOEGD_PROJECTOR"
READY_REPLICA_LAG_VARIABLE = "BEVOEGD_READY_REPLICA_LAG"
READY_REPLICA_LAG_SECONDS = 10.0
"""How long (seconds) a change may wait to show on the standby a process reads for it to be
ready, unless BEVOEGD_READY_REPLICA_LAG says otherwise: past it, a load balancer sends reads
elsewhere."""


async def healthz(request: Request) -> JSONResponse:
    """The process is up."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Ready while the database answers, no projection is stuck behind the ledger's head or too
    far behind it, and the projection runner of this process, if it runs one, is not failing."""
    try:
        request.app.state.availability.check()  # known to be away: no need to wait for it
        found = await statuses(request.app.state.pool, all_projections())
    except (DatabaseUnavailable, *DATABASE_ERRORS) as error:
        return JSONResponse({"status": "unavailable", "database": describe(error)},
                            status_code=503)
    lag = max((s.lag for s in found), default=0)
    answer: dict[str, Any] = {"status": "ready", "lag": lag,
                              "projections": {s.name: s.position for s in found}}
    runner: Runner | None = request.app.state.runner
    if runner is not None and (failure := runner.health.failure) is not None:
        answer |= {"status": "failing", "error": failure.error,
                   "since": failure.since.isoformat()}
    elif stalled := [s.name for s in found if s.state == "stalled"]:
        answer |= {"status": "stalled", "stalled": stalled}
    elif lag > READY_LAG:
        answer["status"] = "lagging"
    if request.app.state.watch.standby and answer["status"] == "ready":
        answer |= await _replica(request)
    return JSONResponse(answer, status_code=200 if answer["status"] == "ready" else 503)


async def _replica(request: Request) -> dict[str, Any]:
    """The standby's lag, and whether it is past the bound for serving reads. In seconds, the
    lag is how long what the primary announced has waited to show on the standby: the age of
    the standby's answers (the time since the standby last replayed a transaction would count
    the primary's idle hours as lag)."""
    try:
        behind = await replay_lag(request.app.state.write_pool, request.app.state.pool)
    except DATABASE_ERRORS as error:
        return {"status": "unavailable", "database": describe(error)}
    seconds = request.app.state.watch.replay_wait()
    answer: dict[str, Any] = {"replica": {"lag_bytes": behind,
                                          "lag_seconds": round(seconds, 3)}}
    if seconds > request.app.state.max_replica_lag:
        answer["status"] = "replica lagging"
    return answer


def create_app(database_url: str, *, read_database_url: str | None = None,
               run_projector: bool = True, production: bool = False,
               ledger: Ledger | None = None, signer: Signer | None = None,
               max_replica_lag: float = READY_REPLICA_LAG_SECONDS) -> Starlette:
    """The app writing to `database_url` and reading from `read_database_url` (by default the
    same database); it opens its own ledger unless given one. With a signing key, the process
    that runs the projections also signs the log's checkpoints. It is ready while a standby it
    reads from lags at most `max_replica_lag` seconds."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.availability = DatabaseAvailability(
            lambda: both_pools_answer(app.state.pool, app.state.ledger))
        app.state.max_replica_lag = max_replica_lag
        app.state.write_pool = await create_pool(
            database_url, command_timeout=STATEMENT_SECONDS,
            connect_failed=app.state.availability.failed)
        app.state.pool = app.state.write_pool  # the read pool
        if read_database_url not in (None, database_url):
            app.state.pool = await create_pool(read_database_url,
                                               command_timeout=STATEMENT_SECONDS,
                                               connect_failed=app.state.availability.failed)
        app.state.ledger = ledger or Ledger(env=eventsourcing_env(database_url))
        async with app.state.write_pool.acquire() as conn:
            await setup_tokens(conn)
        app.state.tokens = TrustedTokens(app.state.write_pool, app.state.availability)
        app.state.signer = signer
        app.state.tiles_served = TilesServed()
        app.state.tiles = TileSet(keep=KEPT_TILES)
        async with app.state.write_pool.acquire() as conn:
            await setup_checkpoints(conn)
        runner = Runner(app.state.write_pool, all_projections())
        app.state.runner = runner if run_projector else None  # its health counts for /readyz
        await runner.setup()
        app.state.watch = ProjectionWatch(app.state.pool, primary=app.state.write_pool)
        await app.state.watch.start()
        app.state.tail = Tail(app.state.pool, app.state.watch)  # subscriptions' shared reads
        stop = asyncio.Event()
        running = [asyncio.create_task(runner.run(stop))] if run_projector else []
        if run_projector and signer is not None:
            running.append(asyncio.create_task(
                Checkpointer(app.state.write_pool, signer).run(stop)))
        try:
            yield
        finally:
            stop.set()
            await app.state.availability.close()
            await asyncio.gather(*running)
            await app.state.watch.stop()
            if ledger is None:
                app.state.ledger.close()
            if app.state.pool is not app.state.write_pool:
                await app.state.pool.close()
            await app.state.write_pool.close()

    graphql = GraphQLView(production=production)
    routes: list[BaseRoute] = [
        Route("/healthz", healthz), Route("/readyz", readyz),
        Route("/graphql", graphql),  # the view answers every method (405 for most)
        WebSocketRoute("/graphql", graphql), *LOG_ROUTES, *REPORT_ROUTES, *explorer_routes()]
    if not production:
        routes.append(Mount(ASSETS_PATH, assets()))
    return Starlette(
        routes=routes,
        middleware=[Middleware(RequestId),  # outermost: every answer has the id
                    # before the limits and the cache: their refusals carry the CORS headers
                    # too, and the cache keeps answers without them
                    Middleware(CORSMiddleware, **cors_settings(cors_origins())),
                    Middleware(RequestTimeLimit, seconds=REQUEST_SECONDS),
                    Middleware(RequestSizeLimit, max_bytes=max_body_bytes()),
                    Middleware(ResponseCache)],
        lifespan=lifespan,
    )


def app_from_environment() -> Starlette:
    """The app as the environment configures it: the factory each server process of `bevoegd
    serve` calls (`uvicorn --factory api.app:app_from_environment`). The database written is
    BEVOEGD_DATABASE_URL, the one read BEVOEGD_READ_DATABASE_URL (by default the same), and a
    standby read from may lag BEVOEGD_READY_REPLICA_LAG seconds; BEVOEGD_PRODUCTION=1 leaves
    GraphiQL out and BEVOEGD_PROJECTOR=0 the projection runner; the signing key is
    BEVOEGD_SIGNING_KEY or BEVOEGD_SIGNING_KEY_FILE's."""
    url = os.environ.get(DATABASE_URL_VARIABLE)
    if not url:
        raise RuntimeError(f"{DATABASE_URL_VARIABLE} names no database.")
    return create_app(url, read_database_url=os.environ.get(READ_DATABASE_URL_VARIABLE) or None,
                      run_projector=switch(PROJECTOR_VARIABLE, default=True),
                      production=switch(PRODUCTION_VARIABLE, default=False),
                      signer=configured_signer(),
                      max_replica_lag=float(os.environ.get(READY_REPLICA_LAG_VARIABLE)
                                            or READY_REPLICA_LAG_SECONDS))
