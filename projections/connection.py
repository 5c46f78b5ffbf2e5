"""asyncpg connections from the same PostgreSQL URL (or libpq key=value string) the ledger uses."""

from __future__ import annotations

from typing import Any

import asyncpg
from psycopg.conninfo import conninfo_to_dict


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


async def create_pool(url: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    return await asyncpg.create_pool(min_size=min_size, max_size=max_size, **connect_kwargs(url))
