"""Running the app under uvicorn for `bevoegd serve`: the listening socket first, so that an
address in use is reported before anything starts, then one server process or several sharing
that socket.

With several, uvicorn's supervisor replaces a worker that dies while the others keep serving.
Each process builds the app with api.app:app_from_environment, so the caller configures them
through the environment. Every process may run the projection runner: their advisory locks make
one of them the leader and the others standbys, one of which takes over if the leader dies."""

from __future__ import annotations

import socket

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from api.body_limit import max_body_bytes
from api.log_config import server_log_config

APP_FACTORY = "api.app:app_from_environment"


class CannotListen(Exception):
    """The address is in use, not allowed, or not one of this machine."""


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on the address; CannotListen says why there is none."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # as uvicorn tells them apart
    # named TCP, as uvicorn's own sockets are: asyncio turns Nagle's algorithm off only on
    # connections whose protocol says TCP, and with it on every keep-alive answer waits 40 ms
    # for a delayed acknowledgement
    listening = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind((host, port))
        listening.listen()
    except OSError as error:
        listening.close()
        raise CannotListen(f"Cannot listen on port {port} of {host}: "
                           f"{error.strerror or error}.") from None
    return listening


def serve_on(listening: socket.socket, workers: int) -> bool:
    """Serves on the socket until stopped (SIGINT or SIGTERM); False if the app did not start."""
    # a WebSocket message is held to the limit of an HTTP body (uvicorn's default is 16 MiB)
    config = uvicorn.Config(APP_FACTORY, factory=True, workers=workers, log_level="info",
                            log_config=server_log_config(), ws_max_size=max_body_bytes())
    if workers == 1:
        server = uvicorn.Server(config)
        server.run(sockets=[listening])
        return server.started
    supervisor = Multiprocess(config, sockets=[listening])
    supervisor.run()
    # the supervisor stops everything when a worker fails before it started serving
    return all(process.exitcode != STARTUP_FAILURE for process in supervisor.processes)
