"""The shared tail of the log: one API process follows the projected events once per kind of
reader, however many subscribers it serves. A subscriber first reads on its own from its `after`
position (history is its own), then joins the tail, which reads each new batch once (one query
per batch and reader class: the public's, or everything for those who may see unpublished
decisions) and hands it to every subscriber of that class, who filters it by event type.

Each subscriber's queue holds a bounded number of batches. One that falls behind (its client
reads slower than the log grows) leaves the tail and reads on its own again from the last event
it sent, then joins again: the client sees no gap, repeat or error (graphql-transport-ws has no
way to say "resume", and a client told to resubscribe would do the same, later), and what the
process holds for a slow client stays bounded.

What a subscriber receives, and where it resumes, is as in api/schema/subscription.py."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from projections.queries import audit
from projections.queries.pagination import MAX_PAGE, PageRequest, encode_cursor
from projections.waiting import ProjectionWatch

IDLE_RECHECK_SECONDS = 5.0
"""The tail reads again this often without a notification (one can be missed while the watch
listens again)."""
FEED_BATCHES = 64
"""Batches a subscriber's queue holds before it falls behind and reads on its own."""


@dataclass(frozen=True)
class Delivery:
    """An event as a subscriber receives it: at its own position, or, for the public, at the
    publication that released it (`released_at`)."""

    received_at: int
    row: dict[str, Any]
    released_at: int | None = None

    def wanted(self, types: tuple[str, ...] | None) -> bool:
        return types is None or self.row["event_type"] in types


@dataclass(frozen=True)
class Batch:
    deliveries: list[Delivery]
    last: int
    """The position read up to: where the next read starts."""
    more: bool
    """Whether more was there to read right away."""


Reader = Callable[[asyncpg.Pool, int, tuple[str, ...] | None, int], Awaitable[Batch]]
"""Reads the page after a position, of the given types (None: all), for one reader class;
the last argument is where a resumed release left off (see `read_public`)."""


async def read_everything(pool: asyncpg.Pool, position: int, types: tuple[str, ...] | None,
                          released_after: int = 0) -> Batch:
    """Every event in its place, for those who may see unpublished decisions."""
    page = await audit.audit_trail(pool, PageRequest(MAX_PAGE, encode_cursor("event", position)),
                                   audit.AuditFilter(event_types=types))
    deliveries = [Delivery(row["position"], row) for row in page.items]
    return Batch(deliveries, page.items[-1]["position"] if page.items else position,
                 page.has_next_page)


async def read_public(pool: asyncpg.Pool, position: int, types: tuple[str, ...] | None,
                      released_after: int = 0) -> Batch:
    """The public's events: each publication brings the events of its decision recorded before
    it (after `released_after`, for a subscriber resuming inside a release), then itself."""
    page = await audit.public_events(
        pool, PageRequest(MAX_PAGE, encode_cursor("event", position)), types)
    deliveries = []
    for row in page.items:
        at = row["position"]
        if row["published_position"] == at:
            deliveries.extend(
                Delivery(at, earlier, released_at=at) for earlier in
                await audit.released_by(pool, row["code"], at, released_after, types))
        deliveries.append(Delivery(at, row))
        released_after = 0
    return Batch([d for d in deliveries if d.wanted(types)],
                 page.items[-1]["position"] if page.items else position, page.has_next_page)


@dataclass(eq=False)
class Feed:
    """One subscriber's queue of batches from the tail. It ends once drained if the subscriber
    fell behind (the queue was full when a batch came), or with the tail's error."""

    bound: int
    batches: asyncio.Queue[Batch | None] = field(init=False)  # None: only a wake-up
    fell_behind: bool = False
    error: Exception | None = None

    def __post_init__(self) -> None:
        self.batches = asyncio.Queue(self.bound)

    def put(self, batch: Batch) -> None:
        if self.batches.full():
            self.fell_behind = True  # what comes after, it reads on its own (see `follow`)
        elif not self.fell_behind:
            self.batches.put_nowait(batch)

    def fail(self, error: Exception) -> None:
        self.error = error
        if not self.batches.full():
            self.batches.put_nowait(None)

    async def __aiter__(self) -> AsyncIterator[Batch]:
        while True:
            if self.batches.empty():
                if self.error is not None:
                    raise self.error
                if self.fell_behind:
                    return
            if (batch := await self.batches.get()) is not None:
                yield batch


class _Follower:
    """The tail of one reader class: runs while it has subscribers."""

    def __init__(self, tail: Tail, read: Reader) -> None:
        self.tail = tail
        self.read = read
        self.feeds: set[Feed] = set()
        self.position = 0
        self.task: asyncio.Task[None] | None = None

    def join(self, feed: Feed, position: int) -> None:
        """Adds a subscriber that has read up to `position`; a tail that is not running starts
        from there."""
        self.feeds.add(feed)
        if self.task is None or self.task.done():
            self.position = position
            self.task = asyncio.create_task(self._follow())

    def leave(self, feed: Feed) -> None:
        self.feeds.discard(feed)
        if not self.feeds and self.task is not None:
            self.task.cancel()
            self.task = None

    async def _follow(self) -> None:
        watch = self.tail.watch
        try:
            while True:
                generation = watch.generation
                batch = await self.read(self.tail.pool, self.position, None, 0)
                self.position = batch.last
                if batch.deliveries:
                    for feed in self.feeds:
                        feed.put(batch)
                # a change noticed during the read may not be in it: read again at once
                if not batch.more and watch.generation == generation:
                    await watch.next_change(self.tail.recheck_seconds)
        except Exception as error:  # every subscriber of the class ends with it, as before
            for feed in self.feeds:
                feed.fail(error)
            self.feeds.clear()


class Tail:
    """The process's shared tail: one follower per reader class."""

    def __init__(self, pool: asyncpg.Pool, watch: ProjectionWatch, *,
                 recheck_seconds: float = IDLE_RECHECK_SECONDS, bound: int = FEED_BATCHES
                 ) -> None:
        self.pool = pool
        self.watch = watch
        self.recheck_seconds = recheck_seconds
        self.bound = bound
        self._followers = {read: _Follower(self, read) for read in (read_everything, read_public)}

    def subscribers(self, read: Reader) -> int:
        return len(self._followers[read].feeds)

    @contextlib.asynccontextmanager
    async def joined(self, read: Reader, position: int) -> AsyncIterator[Feed]:
        """A feed of the batches the tail of the class reads, for a subscriber that has read
        up to `position`."""
        follower = self._followers[read]
        feed = Feed(self.bound)
        follower.join(feed, position)
        try:
            yield feed
        finally:
            follower.leave(feed)


async def follow(tail: Tail, read: Reader, position: int, types: tuple[str, ...] | None,
                 released_after: int = 0) -> AsyncIterator[Delivery]:
    """Every event of the class after `position` (of the types given), then each new one as the
    tail reads it. The public resuming inside a release gives where it left off there as
    `released_after`."""
    while True:
        more = True
        while more:  # on its own: the history after its position
            batch = await read(tail.pool, position, types, released_after)
            released_after, position, more = 0, batch.last, batch.more
            for delivery in batch.deliveries:
                yield delivery
        async with tail.joined(read, position) as feed:
            # what was projected between its last read and joining; the tail has the rest
            more = True
            while more:
                batch = await read(tail.pool, position, types, 0)
                position, more = batch.last, batch.more
                for delivery in batch.deliveries:
                    yield delivery
            async for batch in feed:
                for delivery in batch.deliveries:
                    if delivery.received_at > position and delivery.wanted(types):
                        yield delivery
                position = max(position, batch.last)
        # it fell behind: on its own again from the last event it sent
