"""The Subscription root: the ledger's events as they are projected, resumable from a position.

Events are read from the audit trail in position order after the projections applied them.
The runner commits batches in ledger order, so whatever a subscriber has seen, everything before
it is there too: resuming with `after` = the last position seen gives no gaps and no repeats.
The connection checks its token again while it streams and closes once the token is revoked
(api/websocket.py)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry.types import Info

from api.schema.types import LedgerEvent
from projections.errors import InvalidArgument
from projections.queries import audit
from projections.queries.pagination import MAX_PAGE, PageRequest, encode_cursor

IDLE_RECHECK_SECONDS = 5.0


@strawberry.type(description="Live updates.")
class Subscription:
    @strawberry.subscription(description="Every ledger event after position `after` (0: from the "
                                         "start), then each new one as it is projected; "
                                         "optionally only the given types (e.g. Decision.Taken). "
                                         "Reconnect with the last position seen to resume.")
    async def ledger_events(
        self, info: Info,
        after: Annotated[int, strawberry.argument(
            description="The last position seen: only events after it are sent (0: from the "
                        "start).")] = 0,
        types: Annotated[list[str] | None, strawberry.argument(
            description="Only events of these types, e.g. Decision.Taken.")] = None,
    ) -> AsyncGenerator[LedgerEvent, None]:
        if after < 0:
            raise InvalidArgument("`after` is a ledger position, 0 or more.", field="after")
        context = info.context
        metadata = context.principal.reads_everything
        where = audit.AuditFilter(event_types=tuple(types) if types is not None else None,
                                  published_only=not metadata)
        position = after
        while True:
            page = await audit.audit_trail(
                context.pool, PageRequest(MAX_PAGE, encode_cursor("event", position)), where)
            for row in page.items:
                position = row["position"]
                yield LedgerEvent.of(row, metadata)
            if not page.has_next_page:
                await context.watch.next_change(IDLE_RECHECK_SECONDS)
