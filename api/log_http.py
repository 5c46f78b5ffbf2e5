"""The transparency log over plain HTTP, public and read-only, as C2SP tlog-tiles serves one under
the prefix /log: the latest signed checkpoint, the hash tiles and the entry bundles (the leaves'
data), and the log's verifier key. A client mirrors and checks the whole ledger with GETs.

A tile's bytes never change once it exists (a partial tile of a width is a prefix of every wider
one), so tiles and bundles may be cached forever; the checkpoint moves and is not cached. A tile
the log has not grown to yet is 404, and that answer is not cached either."""

from __future__ import annotations

import gzip

from cachetools import LRUCache
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from api.availability import DatabaseUnavailable
from ledger.transparency.tiles import MalformedTile, parse_entry_bundle_path, parse_tile_path
from projections.checkpoints import latest_checkpoint
from projections.health import DATABASE_ERRORS
from projections.queries import log

PREFIX = "/log"
SERVED_TILES = 4096


class TilesServed(LRUCache[str, bytes]):
    """The tiles and bundles an app served last (at most SERVED_TILES, 17 kB each at most): what
    a path holds never changes once it exists, so a file served once is served again without
    the database."""

    def __init__(self) -> None:
        super().__init__(maxsize=SERVED_TILES)
IMMUTABLE = "public, max-age=31536000, immutable"
TEXT = "text/plain; charset=utf-8"


def _not_found(why: str) -> Response:
    return PlainTextResponse(why, status_code=404, headers={"Cache-Control": "no-store"})


def _unavailable() -> Response:
    return PlainTextResponse("The ledger's database cannot be reached; try again shortly.",
                             status_code=503,
                             headers={"Retry-After": str(DatabaseUnavailable.retry_after),
                                      "Cache-Control": "no-store"})


async def checkpoint(request: Request) -> Response:
    """The latest signed checkpoint (C2SP tlog-checkpoint in a signed note)."""
    try:
        request.app.state.availability.check()
        latest = await latest_checkpoint(request.app.state.pool)
    except (DatabaseUnavailable, *DATABASE_ERRORS):
        return _unavailable()
    if latest is None:
        return _not_found("No checkpoint has been signed yet: the server signs one once the log "
                          "has entries and a signing key is configured.\n")
    return Response(latest.note, media_type=TEXT, headers={"Cache-Control": "no-cache"})


async def _read(request: Request, path: str) -> bytes | None:
    if path.startswith("tile/entries/"):
        index, width = parse_entry_bundle_path(path)
        request.app.state.availability.check()
        return await log.bundle(request.app.state.pool, index, width)
    level, index, width = parse_tile_path(path)
    request.app.state.availability.check()
    return await log.tile(request.app.state.pool, level, index, width)


async def tile(request: Request) -> Response:
    """A hash tile (tile/<L>/<N>[.p/<W>]) or an entry bundle (tile/entries/<N>[.p/<W>])."""
    path = f"tile/{request.path_params['path']}"
    served: TilesServed = request.app.state.tiles_served
    data = served.get(path)
    if data is None:
        try:
            data = await _read(request, path)
        except MalformedTile as malformed:
            return _not_found(f"{path} is no tile of C2SP tlog-tiles: {malformed}\n")
        except (DatabaseUnavailable, *DATABASE_ERRORS):
            return _unavailable()
        if data is None:
            return _not_found(f"The log has not grown to {path} yet.\n")
        served[path] = data
    headers = {"Cache-Control": IMMUTABLE, "Vary": "Accept-Encoding"}
    if path.startswith("tile/entries/") and "gzip" in request.headers.get("accept-encoding", ""):
        data = gzip.compress(data, mtime=0)  # a bundle is at most 17 kB: quick to compress
        headers["Content-Encoding"] = "gzip"
    return Response(data, media_type="application/octet-stream", headers=headers)


async def verifier_key(request: Request) -> Response:
    """The key that signs the checkpoints, in the signed-note form (name+keyhash+base64). Served
    for convenience: an auditor takes it from a source the server's operator cannot change."""
    signer = request.app.state.signer
    if signer is None:
        return _not_found("This server has no signing key configured.\n")
    return Response(signer.verifier.text() + "\n", media_type=TEXT,
                    headers={"Cache-Control": "no-cache"})


ROUTES = [
    Route(f"{PREFIX}/checkpoint", checkpoint),
    Route(f"{PREFIX}/verifier-key", verifier_key),
    Route(f"{PREFIX}/tile/{{path:path}}", tile),
]
