"""Reading one's own writes: waiting until the projections have applied a ledger position.

A process keeps one `ProjectionWatch`: a single connection listening for the runner's
notifications, however many requests or subscriptions wait on it. When that connection breaks
(the database went away) the watch listens again as soon as it can; notifications sent in
between are lost, so it counts the break as a change."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg

from projections.errors import NotProjectedYet
from projections.queries.audit import projected_position
from projections.runner import all_projections
from projections.tracking import PROJECTED_CHANNEL, setup_tracking

RECHECK_SECONDS = 1.0
"""Waiters look again this often even without a notification (a notification can be missed
while the listening connection is re-established)."""


class ProjectionWatch:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.names = [p.name for p in all_projections()]
        self._changed = asyncio.Event()  # replaced by a fresh one at every notification
        self.generation = 0
        """Moves whenever the projections apply events: answers of an older generation are old."""
        self._listener: asyncpg.pool.PoolConnectionProxy | None = None
        self._relistening: asyncio.Task[None] | None = None

    async def start(self) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await setup_tracking(conn)  # a ledger no runner has projected yet: position 0
        await self._listen()

    async def stop(self) -> None:
        if self._relistening is not None:
            self._relistening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._relistening
        if self._listener is not None:
            self._listener.remove_termination_listener(self._lost)
            await self._listener.remove_listener(PROJECTED_CHANNEL, self._notified)
            await self.pool.release(self._listener)
            self._listener = None

    async def _listen(self) -> None:
        listener = await self.pool.acquire()
        await listener.add_listener(PROJECTED_CHANNEL, self._notified)
        listener.add_termination_listener(self._lost)
        self._listener = listener

    def _lost(self, _: object) -> None:
        """The listening connection broke (the pool has taken it back)."""
        self._listener = None
        self._notified()
        self._relistening = asyncio.create_task(self._listen_again())

    async def _listen_again(self) -> None:
        while True:
            await asyncio.sleep(RECHECK_SECONDS)
            try:
                await self._listen()
            except (OSError, asyncpg.PostgresError):  # the database is not back yet
                continue
            self._notified()  # whatever was notified while it was away
            return

    async def position(self) -> int:
        return await projected_position(self.pool, self.names)

    async def wait_for(self, position: int, timeout: float) -> int:
        """The projected position once it is at least `position`; NotProjectedYet after
        `timeout` seconds."""
        try:
            async with asyncio.timeout(timeout):
                while (reached := await self.position()) < position:
                    await self.next_change(RECHECK_SECONDS)
                return reached
        except TimeoutError:
            raise NotProjectedYet(
                f"The projections have not reached position {position} within {timeout:g} s.",
                field="atLeast") from None

    async def next_change(self, timeout: float) -> None:
        """Returns at the next notification, or after `timeout` seconds."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    def _notified(self, *_: object) -> None:
        self.generation += 1
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()


async def wait_for(pool: asyncpg.Pool, position: int, timeout: float = 5.0) -> int:
    """One wait, with a watch of its own (for the CLI and scripts)."""
    watch = ProjectionWatch(pool)
    await watch.start()
    try:
        return await watch.wait_for(position, timeout)
    finally:
        await watch.stop()
