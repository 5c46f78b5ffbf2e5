"""GraphQL over HTTP and WebSocket: strawberry's ASGI view with Bevoegd's context (who asks,
from the bearer token) and only the graphql-transport-ws protocol for subscriptions."""

from __future__ import annotations

from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET

from api.auth import InvalidToken, principal_for
from api.schema import build_schema
from api.schema.context import Context


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, *, production: bool) -> None:
        super().__init__(build_schema(), graphql_ide=None if production else "graphiql",
                         subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,))

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket
                          ) -> Context:
        state = request.app.state
        try:
            principal = await principal_for(state.pool, request.headers.get("authorization"))
        except InvalidToken as invalid:
            raise HTTPException(401, str(invalid)) from None
        return Context(pool=state.pool, ledger=state.ledger, principal=principal,
                       watch=state.watch)

    async def on_ws_connect(self, context: Context) -> Any:
        """A browser cannot set headers on a WebSocket: the token may come in the
        connection_init payload instead, as {"Authorization": "Bearer ..."}."""
        authorization = (context.connection_params or {}).get("Authorization")
        if isinstance(authorization, str):
            try:
                context.principal = await principal_for(context.pool, authorization)
            except InvalidToken:
                raise ConnectionRejectionError() from None
        return UNSET
