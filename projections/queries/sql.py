"""Building WHERE clauses from optional filters; every value travels as a bind parameter."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

import asyncpg

from projections.queries.pagination import PageRequest

Db = asyncpg.Pool | asyncpg.Connection
NEVER = 2**62
"""A position beyond any ledger: `known_at` left open reads everything known."""
A = TypeVar("A")
B = TypeVar("B")


async def both(db: Db, first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B]:
    """The answers of two reads that do not depend on each other: at once, each on a connection
    of its own, from a pool; one after the other on a single connection, which runs one at a
    time."""
    if isinstance(db, asyncpg.Pool):
        return await asyncio.gather(first, second)
    return await first, await second


class Query:
    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.args: list[Any] = []

    def param(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    def where(self, condition: str, *values: Any) -> None:
        """`condition` with `{}` for each value, e.g. where("body = {}", body)."""
        self.conditions.append(condition.format(*(self.param(v) for v in values)))

    def keyset(self, page: PageRequest, kind: str, column: str) -> str:
        """Places the rows after the page's cursor; returns the ORDER BY and LIMIT of the page."""
        return self.ordered(page, kind, column) + f" LIMIT {page.first + 1}"

    def ordered(self, page: PageRequest, kind: str, column: str) -> str:
        """Places the rows after the page's cursor (in `column`'s order, a unique key that only
        grows); returns the ORDER BY that goes with it."""
        after = page.key_after(kind)
        if after is not None:
            self.where(f"{column} {'<' if page.newest_first else '>'} {{}}", after)
        return f" ORDER BY {column} {'DESC' if page.newest_first else 'ASC'}"

    @property
    def sql(self) -> str:
        return " AND ".join(self.conditions) or "TRUE"
