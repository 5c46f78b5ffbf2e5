"""The Subscription root: the ledger's events as they are projected, resumable from a position.

Events are read from the audit trail in position order after the projections applied them.
The runner commits batches in ledger order, so whatever a subscriber has seen, everything before
it is there too: resuming with `after` = the last position seen gives no gaps and no repeats.
The connection checks its token again while it streams and closes once the token is revoked
(api/websocket.py).

The public does not see a decision before it is published. Its events recorded before the
publication (with the exercise its taking records on its competence's holding) reach the public
at the publication, marked `releasedAt` with its position, then the publication itself: the
public's stream is in the order of (the position received at, the event's position), and an
event is received at its own position or, if it belongs to a decision and was recorded before
its publication, at the publication's. Resuming after any event's position,
released or not, therefore takes up the stream where it was left."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from api.schema.arguments import EventTypes, SeenUpTo, event_types
from api.schema.context import Context, ContextInfo
from api.schema.types import LedgerEvent
from projections.queries import audit
from projections.queries.pagination import MAX_PAGE, PageRequest, encode_cursor

IDLE_RECHECK_SECONDS = 5.0


@strawberry.type(description="Live updates.")
class Subscription:
    @strawberry.subscription(description="Every ledger event after position `after` (0: from the "
                                         "start), then each new one as it is projected; "
                                         "optionally only the given types (e.g. Decision.Taken). "
                                         "The public receives the events of a decision recorded "
                                         "before it was published at its publication, marked "
                                         "`releasedAt`. Reconnect with the last position seen "
                                         "(released or not) to resume.")
    async def ledger_events(self, info: ContextInfo, after: SeenUpTo = 0,
                            types: EventTypes = None) -> AsyncGenerator[LedgerEvent, None]:
        context = info.context
        position = await context.ledger_position(after, "after")
        wanted = event_types(types)
        stream = _public(context, position, wanted) if context.published_only \
            else _everything(context, position, wanted)
        async for event in stream:
            context.forget_records()  # each event's records as they stand when it is sent
            yield event


async def _everything(context: Context, position: int, wanted: tuple[str, ...] | None
                      ) -> AsyncGenerator[LedgerEvent, None]:
    """Every event in its place, for those who may see unpublished decisions."""
    where = audit.AuditFilter(event_types=wanted)
    while True:
        page = await audit.audit_trail(
            context.pool, PageRequest(MAX_PAGE, encode_cursor("event", position)), where)
        for row in page.items:
            position = row["position"]
            yield LedgerEvent.of(row, context.principal.reads_everything)
        if not page.has_next_page:
            await context.watch.next_change(IDLE_RECHECK_SECONDS)


async def _public(context: Context, position: int, wanted: tuple[str, ...] | None
                  ) -> AsyncGenerator[LedgerEvent, None]:
    """The public's stream: each publication brings the events of its decision recorded before
    it. Resuming after a released event goes on with the rest of its release."""
    metadata = context.principal.reads_everything
    released_after = 0
    if (publication := await audit.releasing_publication(context.pool, position)) is not None:
        # the publication comes next, with what it releases after the event seen last
        position, released_after = publication - 1, position
    while True:
        page = await audit.public_events(
            context.pool, PageRequest(MAX_PAGE, encode_cursor("event", position)), wanted)
        for row in page.items:
            position = row["position"]
            if row["published_position"] == position:
                for earlier in await audit.released_by(context.pool, row["decision"], position,
                                                       released_after, wanted):
                    yield LedgerEvent.of(earlier, metadata, released_at=position)
            if wanted is None or row["event_type"] in wanted:
                yield LedgerEvent.of(row, metadata)
            released_after = 0
        if not page.has_next_page:
            await context.watch.next_change(IDLE_RECHECK_SECONDS)
