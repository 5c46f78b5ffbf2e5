"""Reading one's own writes: waiting until the projections have applied a ledger position.

A process keeps one `ProjectionWatch`: a single connection listening for the runner's
notifications, however many requests or subscriptions wait on it. When that connection breaks
(the database went away) the watch listens again as soon as it can, retrying with back-off;
notifications sent in between are lost, so it counts the break as a change.

The watch listens on the write database (a standby accepts no LISTEN) and reads positions from
the database the process reads. When that is a standby, a notification counts as a change only
once the standby has replayed as far as the primary had written when it was heard
(projections/replication.py): answers keyed on the watch's generation, and waits for a
position, then see on the standby what the notification announced, never an older answer under
a newer generation."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import asyncpg

from ledger.vault import FORGOTTEN_CHANNEL
from projections.errors import NotProjectedYet
from projections.health import DATABASE_ERRORS, Health, retry_delay
from projections.queries.audit import projected_position
from projections.replication import has_replayed, is_standby, written_to
from projections.runner import all_projections
from projections.tracking import PROJECTED_CHANNEL, setup_tracking

RECHECK_SECONDS = 1.0
"""Waiters look again this often even without a notification (a notification can be missed
while the listening connection is re-established)."""
REPLAY_POLL_SECONDS = 0.005
"""How often the standby is asked whether it has replayed up to a notification, while it has
not: one query for all the notifications heard meanwhile, however many wait."""
log = logging.getLogger(__name__)


class ListenerLost(ConnectionError):
    """The connection listening for the projections' notifications closed."""


CHANNELS = (PROJECTED_CHANNEL, FORGOTTEN_CHANNEL)
"""What changes answers: the projections moving (or a checkpoint signed), a person forgotten."""


class ProjectionWatch:
    def __init__(self, pool: asyncpg.Pool, primary: asyncpg.Pool | None = None) -> None:
        self.pool = pool
        """The database read: positions are its positions."""
        self.primary = primary or pool
        """The database written, which the runner notifies: the watch listens there."""
        self.standby = False
        """Whether `pool` is a standby of `primary`, which notifications wait for."""
        self.names = [p.name for p in all_projections()]
        self._changed = asyncio.Event()  # replaced by a fresh one at every notification
        self.generation = 0
        """Moves whenever the projections apply events, a checkpoint is signed or a person is
        forgotten: answers of an older generation are old."""
        self.health = Health("Listening for the projections' progress", log)
        self._listener: asyncpg.pool.PoolConnectionProxy | None = None
        self._relistening: asyncio.Task[None] | None = None
        self._heard_at: float | None = None
        """When the first notification since the standby was last asked was heard."""
        self._asked_at: float | None = None
        """When the notifications the standby is being asked about were first heard."""
        self._following: asyncio.Task[None] | None = None
        self.following = Health("Following the standby", log)

    async def start(self) -> None:
        async with self.primary.acquire() as conn, conn.transaction():
            await setup_tracking(conn)  # a ledger no runner has projected yet: position 0
        self.standby = self.pool is not self.primary and await is_standby(self.pool)
        await self._listen()

    async def stop(self) -> None:
        if self._following is not None:
            self._following.cancel()
            await asyncio.gather(self._following, return_exceptions=True)
            self._following = None
        if self._relistening is not None:
            self._relistening.cancel()
            await asyncio.gather(self._relistening, return_exceptions=True)
            self._relistening = None
        listener, self._listener = self._listener, None
        if listener is not None:
            # InterfaceError: it died just now and went back to the pool by itself.
            with contextlib.suppress(asyncpg.InterfaceError):
                listener.remove_termination_listener(self._lost)
                for channel in CHANNELS:
                    await listener.remove_listener(channel, self._notified)
            await self.primary.release(listener)

    async def _listen(self) -> None:
        listener = await self.primary.acquire()
        try:
            for channel in CHANNELS:
                await listener.add_listener(channel, self._notified)
            listener.add_termination_listener(self._lost)
        except BaseException:
            await self.primary.release(listener)
            raise
        self._listener = listener

    def _lost(self, listener: object) -> None:
        if listener is not self._listener:
            return  # let go of by `stop`
        self._listener = None
        self.health.failed(ListenerLost("The connection listening for notifications closed."))
        self._notified()  # what the projections do until it listens again goes unnoticed
        self._relistening = asyncio.create_task(self._listen_again())

    async def _listen_again(self) -> None:
        while True:
            try:
                await self._listen()
            except DATABASE_ERRORS as error:
                failure = self.health.failed(error)
                await asyncio.sleep(retry_delay(failure.attempts))
            else:
                self.health.succeeded()
                self._notified()  # for what was missed while no one listened
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
        if not self.standby:
            self._changed_now()
            return
        if self._heard_at is None:
            self._heard_at = time.monotonic()
        if self._following is None or self._following.done():
            self._following = asyncio.create_task(self._follow_standby())

    async def _follow_standby(self) -> None:
        """Counts what was heard as a change once the standby has replayed up to it. Should
        either database fail meanwhile, it counts it at once: the reads fail too, and the
        waiters look again every RECHECK_SECONDS."""
        while self._heard_at is not None:
            self._asked_at, self._heard_at = self._heard_at, None
            try:
                position = await written_to(self.primary)
                while not await has_replayed(self.pool, position):
                    await asyncio.sleep(REPLAY_POLL_SECONDS)
            except DATABASE_ERRORS as error:
                self.following.failed(error)
            else:
                self.following.succeeded()
            self._asked_at = None
            self._changed_now()

    def replay_wait(self) -> float:
        """How long, in seconds, the oldest notification the standby does not show yet has
        waited for it (0 when it shows them all): how stale its answers are."""
        oldest = self._asked_at or self._heard_at
        return 0.0 if oldest is None else time.monotonic() - oldest

    def _changed_now(self) -> None:
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
