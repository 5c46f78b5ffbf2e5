"""Reading one's own writes: wait until the projections have applied a ledger position."""

from __future__ import annotations

import asyncio

import asyncpg

from projections.errors import NotProjectedYet
from projections.queries.audit import projected_position
from projections.runner import all_projections
from projections.tracking import PROJECTED_CHANNEL


async def wait_for(pool: asyncpg.Pool, position: int, timeout: float = 5.0) -> int:
    """Returns the projected position once it is at least `position`; woken by the runner's
    notifications rather than polling. Raises NotProjectedYet after `timeout` seconds."""
    names = [p.name for p in all_projections()]
    async with pool.acquire() as conn:
        advanced = asyncio.Event()

        def notified(*_: object) -> None:
            advanced.set()

        await conn.add_listener(PROJECTED_CHANNEL, notified)
        try:
            async with asyncio.timeout(timeout):
                while (reached := await projected_position(conn, names)) < position:
                    await advanced.wait()
                    advanced.clear()
                return reached
        except TimeoutError:
            raise NotProjectedYet(
                f"The projections have not reached position {position} within {timeout:g} s.",
                field="atLeast") from None
        finally:
            await conn.remove_listener(PROJECTED_CHANNEL, notified)
