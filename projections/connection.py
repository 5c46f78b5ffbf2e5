"""asyncpg connections from the same PostgreSQL URL (or libpq key=value string) the ledger uses."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import asyncpg
import orjson
from psycopg.conninfo import conninfo_to_dict

CONNECT_SECONDS = 5.0
"""How long a new connection may take (asyncpg's default is a minute): a database host that
does not answer is given up on in time for the request that waits for it."""


def connect_kwargs(url: str) -> dict[str, Any]:
    params = conninfo_to_dict(url)
    kwargs: dict[str, Any] = {
        "host": params.get("host"),
        "port": int(params["port"]) if params.get("port") else None,
        "user": params.get("user"),
        "password": params.get("password") or None,
        "database": params.get("dbname"),
    }
    return {key: value for key, value in kwargs.items() if value is not None}


def _encode_jsonb(value: Any) -> bytes:
    return b"\x01" + orjson.dumps(value)  # binary format version 1; dates as ISO dates


def _decode_jsonb(data: bytes) -> Any:
    return orjson.loads(data[1:])


async def _init(conn: asyncpg.Connection) -> None:
    # Binary, because COPY (used for bulk writes) only speaks the binary format.
    await conn.set_type_codec("jsonb", schema="pg_catalog", format="binary",
                              encoder=_encode_jsonb, decoder=_decode_jsonb)


ConnectFailed = Callable[[Exception], object]


async def _connect(failed: ConnectFailed | None, *args: Any, **kwargs: Any) -> asyncpg.Connection:
    """asyncpg.connect, telling `failed` when it fails. An attempt that times out raises
    ConnectionError, as one that is refused does: a TimeoutError would look like a statement
    that ran too long."""
    try:
        try:
            return await asyncpg.connect(*args, **kwargs)
        except TimeoutError as error:
            raise ConnectionError(f"no connection to the database within {CONNECT_SECONDS:g} s"
                                  ) from error
    except Exception as error:
        if failed is not None:
            failed(error)
        raise


async def create_pool(url: str, *, min_size: int = 1, max_size: int = 10,
                      command_timeout: float | None = None,
                      connect_failed: ConnectFailed | None = None) -> asyncpg.Pool:
    """A pool whose jsonb columns take and give Python values (dates written as ISO dates).
    `connect_failed` hears of every failed attempt to connect, the pool's own included (it
    keeps trying to have `min_size` connections)."""
    return await asyncpg.create_pool(min_size=min_size, max_size=max_size, init=_init,
                                     connect=partial(_connect, connect_failed),
                                     timeout=CONNECT_SECONDS, command_timeout=command_timeout,
                                     **connect_kwargs(url))
