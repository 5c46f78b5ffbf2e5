"""Subscriptions over WebSocket: strawberry's graphql-transport-ws handler, with the connection's
token checked again for as long as the connection is open.

The token is checked before every event is sent, so a busy stream stops too, and at least once
per trust window while the connection is idle. A check trusts a lookup for less than
TRUSTED_SECONDS and revoking waits that long before it returns, so no event is sent after
`revoke_tokens` has returned: the socket is closed with 4403 instead. A token that cannot be
checked closes the socket too: with 1013 (try again later) while the database is unreachable,
with 1011 for anything else. Nothing is sent unchecked; the client resumes with `after` once it
reconnects."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import Message

from api.auth import TRUSTED_SECONDS, InvalidToken
from api.availability import DatabaseUnavailable
from api.schema.context import Context

FORBIDDEN = 4403
"""graphql-transport-ws's close code for a connection the server refuses."""
INTERNAL_ERROR = 1011
"""WebSocket's close code for a server that cannot go on (RFC 6455)."""
TRY_AGAIN_LATER = 1013
"""WebSocket's close code for a server that is briefly unable to serve; graphql-transport-ws
clients reconnect after it."""

logger = logging.getLogger(__name__)


class TokenCheckingHandler(BaseGraphQLTransportWSHandler[Context, None]):
    closed = False
    """Set once this handler has closed the socket: nothing more is sent on it."""

    async def handle(self) -> None:
        rechecking = asyncio.create_task(self._recheck_while_open())
        try:
            await super().handle()
        finally:
            rechecking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await rechecking

    async def send_message(self, message: Message) -> None:
        if self.closed or (message["type"] == "next" and not await self._token_holds()):
            return
        await super().send_message(message)

    async def _recheck_while_open(self) -> None:
        while await self._token_holds():
            await asyncio.sleep(TRUSTED_SECONDS)

    async def _token_holds(self) -> bool:
        """Whether the connection's token is still good; closes the socket once it is not."""
        try:
            await self.context.tokens.principal_for(self.context.authorization)
        except InvalidToken:
            await self._close(FORBIDDEN, "The token is unknown or revoked.")
            return False
        except DatabaseUnavailable as unavailable:  # the outage is logged once, elsewhere
            await self._close(TRY_AGAIN_LATER, unavailable.message)
            return False
        except Exception as error:  # noqa: BLE001 - whatever it is, the token is unchecked
            logger.warning("Closing a WebSocket whose token could not be checked: %r", error)
            await self._close(INTERNAL_ERROR, "The token could not be checked.")
            return False
        return True

    async def _close(self, code: int, reason: str) -> None:
        if not self.closed:
            self.closed = True
            await self.websocket.close(code=code, reason=reason)
