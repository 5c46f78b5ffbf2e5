"""The Subscription root: the ledger's events as they are projected, resumable from a position.

Events are read from the audit trail in position order after the projections applied them.
The runner commits batches in ledger order, so whatever a subscriber has seen, everything before
it is there too: resuming with `after` = the last position seen gives no gaps and no repeats.
The connection checks its token again while it streams and closes once the token is revoked
(api/websocket.py)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from api.schema.arguments import EventTypes, SeenUpTo, event_types
from api.schema.context import ContextInfo
from api.schema.types import LedgerEvent
from projections.queries import audit
from projections.queries.pagination import MAX_PAGE, PageRequest, encode_cursor

IDLE_RECHECK_SECONDS = 5.0


@strawberry.type(description="Live updates.")
class Subscription:
    @strawberry.subscription(description="Every ledger event after position `after` (0: from the "
                                         "start), then each new one as it is projected; "
                                         "optionally only the given types (e.g. Decision.Taken). "
                                         "Reconnect with the last position seen to resume.")
    async def ledger_events(self, info: ContextInfo, after: SeenUpTo = 0,
                            types: EventTypes = None) -> AsyncGenerator[LedgerEvent, None]:
        context = info.context
        position = await context.ledger_position(after, "after")
        where = audit.AuditFilter(event_types=event_types(types),
                                  published_only=context.published_only)
        while True:
            page = await audit.audit_trail(
                context.pool, PageRequest(MAX_PAGE, encode_cursor("event", position)), where)
            for row in page.items:
                position = row["position"]
                yield LedgerEvent.of(row, context.principal.reads_everything)
            if not page.has_next_page:
                await context.watch.next_change(IDLE_RECHECK_SECONDS)
