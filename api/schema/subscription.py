"""The Subscription root: the ledger's events as they are projected, resumable from a position.

Events are read from the audit trail in position order after the projections applied them.
The runner commits batches in ledger order, so whatever a subscriber has seen, everything before
it is there too: resuming with `after` = the last position seen gives no gaps and no repeats.
The connection checks its token again while it streams and closes once the token is revoked
(api/websocket.py). Once a subscriber has caught up, the process's shared tail (api/tail.py)
reads new events for all its subscribers at once.

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
from api.schema.context import ContextInfo
from api.schema.types import LedgerEvent
from api.tail import follow, read_everything, read_public
from projections.queries import audit


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
        metadata = context.principal.reads_everything
        read, released_after = read_everything, 0
        if context.published_only:
            read = read_public
            if (publication := await audit.releasing_publication(context.pool, position)
                    ) is not None:
                # the publication comes next, with what it releases after the event seen last
                position, released_after = publication - 1, position
        async for delivery in follow(context.tail, read, position, wanted, released_after):
            context.forget_records()  # each event's records as they stand when it is sent
            yield LedgerEvent.of(delivery.row, metadata, released_at=delivery.released_at)
