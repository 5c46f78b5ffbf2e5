"""GraphQL over HTTP and WebSocket: strawberry's ASGI view with Bevoegd's context (who asks,
from the bearer token) and only the graphql-transport-ws protocol for subscriptions.

HTTP follows the GraphQL-over-HTTP specification as the graphql-http server audit checks it.
Strawberry answers every request with application/json and status 200 (and its own refusals in
plain text), and the right status depends on the negotiated media type at every step, so the
HTTP path is ours; WebSocket stays strawberry's.
- The answer is application/graphql-response+json when the client prefers it, application/json
  otherwise (also for `*/*` and without Accept), 406 when the client accepts neither.
- A request that is not a well-formed GraphQL-over-HTTP request gets 400 (415 for a body that is
  not UTF-8 JSON), a mutation over GET 405, a bad token 401; each with a GraphQL error body.
- A GraphQL request error (the document does not parse or validate, the operation cannot be
  determined, the variables do not coerce) is answered without `data`: 400 with
  application/graphql-response+json; 200 with application/json, whose clients cannot tell our
  4xx from a proxy's.
- Once execution began the answer is 200, even with field errors or `data: null`.
- While the database cannot be reached the answer is 503 with Retry-After and a GraphQL error
  with code UNAVAILABLE, whatever the media type: unlike a request error it says nothing about
  the request, and proxies, load balancers and HTTP clients know to wait and retry on it.
  A WebSocket opened then is closed with 1013 (Try Again Later), which graphql-transport-ws
  clients retry; a running subscription ends with an UNAVAILABLE error (sent by the schema),
  after which its client resumes from the last position it saw."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter
from graphql import GraphQLError, OperationDefinitionNode
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import GraphQLRequestData
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET

from api.auth import InvalidToken
from api.availability import DatabaseUnavailable
from api.graphiql.page import page
from api.negotiation import is_utf8_json, negotiate
from api.schema import build_schema
from api.schema.context import Context
from api.schema.documents import parse_document
from api.schema.errors import INTERNAL_ERROR, Unauthenticated, internal_extensions, is_internal
from api.websocket import TRY_AGAIN_LATER, TokenCheckingHandler

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
HTML = "text/html"
RESPONSE_TYPES = (JSON, GRAPHQL_RESPONSE)
"""In the server's order of preference, which decides `*/*` and a missing Accept header: the
audit wants application/json there, what clients from before the media type expect."""
IDE_TYPES = (*RESPONSE_TYPES, HTML)
"""GraphiQL only for a client that names text/html (a browser), not for curl's `*/*`."""

OPERATIONS = {
    "GET": frozenset({OperationType.QUERY}),
    "POST": frozenset({OperationType.QUERY, OperationType.MUTATION}),
}
"""Operation types per HTTP method; subscriptions are served over WebSocket only."""


class Refusal(Exception):
    """The request is answered with `status` and a GraphQL error, and nothing is executed."""

    def __init__(self, status: int, message: str, *, headers: Mapping[str, str] | None = None,
                 code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})
        self.code = code

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message}
        if self.code is not None:
            error["extensions"] = {"code": self.code}
        return {"errors": [error]}


class GraphQLView(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TokenCheckingHandler

    def __init__(self, *, production: bool) -> None:
        super().__init__(build_schema(), graphql_ide=None if production else "graphiql",
                         subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,))

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket
                          ) -> Context:
        state = request.app.state
        authorization = request.headers.get("authorization")
        try:
            state.availability.check()
            principal = await state.tokens.principal_for(authorization)
        except InvalidToken as invalid:
            raise Refusal(401, str(invalid), headers={"WWW-Authenticate": "Bearer"},
                          code=Unauthenticated.code) from None
        except DatabaseUnavailable as unavailable:
            raise Refusal(503, unavailable.message, headers=_retry_after(unavailable),
                          code=unavailable.code) from None
        return Context(pool=state.pool, ledger=state.ledger, principal=principal,
                       watch=state.watch, tokens=state.tokens, authorization=authorization,
                       availability=state.availability, tail=state.tail, tiles=state.tiles)

    async def on_ws_connect(self, context: Context) -> Any:
        """A browser cannot set headers on a WebSocket: the token may come in the
        connection_init payload instead, as {"Authorization": "Bearer ..."}."""
        authorization = (context.connection_params or {}).get("Authorization")
        if isinstance(authorization, str):
            try:
                context.principal = await context.tokens.principal_for(authorization)
            except InvalidToken:
                raise ConnectionRejectionError() from None
            context.authorization = authorization
        return UNSET

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        """Bevoegd's own GraphiQL page, whose files the server serves itself."""
        return page()

    async def run(self, request: Request | WebSocket, context: Context = UNSET,
                  root_value: None = UNSET) -> Response | WebSocket:
        if self.is_websocket_request(request):
            try:
                return await super().run(request, context, root_value)
            except Refusal as refusal:
                # strawberry accepts the socket before it asks for the context: close it as
                # graphql-transport-ws refuses a connection
                await request.close(code=TRY_AGAIN_LATER if refusal.status == 503 else 4403,
                                    reason=refusal.message)
                return request
            except DatabaseUnavailable as unavailable:  # a token checked in connection_init
                await request.close(code=TRY_AGAIN_LATER, reason=unavailable.message)
                return request
        return await self._answer(request, context)

    async def _answer(self, request: Request, context: Context) -> Response:
        adapter = self.request_adapter_class(request)
        accept = request.headers.get("accept")
        if self._wants_ide(adapter, accept):
            return await self.render_graphql_ide(request)
        media_type = negotiate(accept, RESPONSE_TYPES)
        if media_type is None:
            refusal = Refusal(406, f"The response can be {' or '.join(RESPONSE_TYPES)}; the "
                                   "Accept header allows neither.")
            return self._respond(refusal.body(), refusal.status, JSON)
        try:
            if adapter.method not in OPERATIONS:
                raise Refusal(405, "GraphQL is served over GET (queries) and POST.",
                              headers={"Allow": ", ".join(OPERATIONS)})
            if context is UNSET:
                context = await self.get_context(request, Response())
            result = await self._execute(await self._read(adapter), adapter.method, context)
        except Refusal as refusal:
            return self._respond(refusal.body(), refusal.status, media_type, refusal.headers)
        return self._respond_with(result, media_type)

    def _wants_ide(self, adapter: AsyncHTTPRequestAdapter, accept: str | None) -> bool:
        return (self.graphql_ide is not None and adapter.method == "GET"
                and "query" not in adapter.query_params and negotiate(accept, IDE_TYPES) == HTML)

    async def _read(self, adapter: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
        if adapter.method == "GET":
            return _request_data(_from_query_string(adapter.query_params))
        if not is_utf8_json(adapter.content_type):
            raise Refusal(415, "The request body must be JSON: Content-Type application/json, "
                               "in UTF-8.")
        return _request_data(_decode_json(await adapter.get_body(), "request body"))

    async def _execute(self, data: GraphQLRequestData, method: str, context: Context
                       ) -> ExecutionResult:
        if data.operation_name is None and await _operations_in(data.query) > 1:
            # strawberry would run the first; the GraphQL spec makes this a request error
            return _request_error("The document has several operations: name the one to run "
                                  "in `operationName`.")
        try:
            return await self.schema.execute(
                data.query, variable_values=data.variables, context_value=context,
                operation_name=data.operation_name, allowed_operation_types=OPERATIONS[method],
                operation_extensions=data.extensions)
        except InvalidOperationTypeError as refused:
            if refused.operation_type is OperationType.MUTATION:
                # GET is safe in HTTP's sense: the spec makes this a 405, not a GraphQL error
                raise Refusal(405, "A mutation must be sent with POST.",
                              headers={"Allow": "POST"}) from None
            return _request_error("Subscriptions are served over WebSocket "
                                  f"({GRAPHQL_TRANSPORT_WS_PROTOCOL}), not over HTTP.")
        except CannotGetOperationTypeError as undetermined:
            name = undetermined.operation_name
            return _request_error(f'The document has no operation named "{name}".' if name
                                  else "The document has no operation to run.")
        except MissingQueryError:
            return _request_error("The document is empty.")

    def _respond_with(self, result: ExecutionResult, media_type: str) -> Response:
        errors = [error.formatted for error in result.errors or ()]
        if _execution_began(result):
            body = {"data": result.data, **_optional(errors, result.extensions)}
            unavailable = next((error.original_error for error in result.errors or ()
                                if isinstance(error.original_error, DatabaseUnavailable)), None)
            if unavailable is not None:
                return self._respond(body, 503, media_type, _retry_after(unavailable))
            return self._respond(body, 200, media_type)
        status = 400
        if any(is_internal(error) for error in result.errors or ()):
            # the schema masks internal errors only once execution began; these come from an
            # extension before it, and are ours to hide
            errors, status = [{"message": INTERNAL_ERROR, "extensions": internal_extensions()}], 500
        # an application/json client cannot tell our 4xx or 5xx from a proxy's: it gets 200
        return self._respond(_optional(errors, result.extensions),
                             status if media_type == GRAPHQL_RESPONSE else 200, media_type)

    def _respond(self, body: Mapping[str, Any], status: int, media_type: str,
                 headers: Mapping[str, str] | None = None) -> Response:
        return Response(orjson.dumps(body), status_code=status,
                        headers={**(headers or {}), "Vary": "Accept"},
                        media_type=f"{media_type}; charset=utf-8")


async def _operations_in(document: str) -> int:
    """How many operations a document defines (0 if it does not parse: the schema says why)."""
    try:
        parsed = await parse_document(document)
    except GraphQLError:
        return 0
    return sum(isinstance(d, OperationDefinitionNode) for d in parsed.definitions)


def _retry_after(unavailable: DatabaseUnavailable) -> dict[str, str]:
    return {"Retry-After": str(unavailable.retry_after)}


def _execution_began(result: ExecutionResult) -> bool:
    """Whether the operation ran: it then has data, or errors of fields with a path to them
    (`data` is null when a non-null root field failed). Request errors have neither."""
    return result.data is not None or any(error.path for error in result.errors or ())


def _request_error(message: str) -> ExecutionResult:
    return ExecutionResult(data=None, errors=[GraphQLError(message)])


def _optional(errors: list[Any], extensions: Mapping[str, Any] | None) -> dict[str, Any]:
    """The response entries that are left out when empty."""
    return {**({"errors": errors} if errors else {}),
            **({"extensions": extensions} if extensions else {})}


def _from_query_string(params: Mapping[str, Any]) -> dict[str, Any]:
    """The request parameters of a GET, where variables and extensions are JSON texts."""
    decoded: dict[str, Any] = dict(params)
    for name in ("variables", "extensions"):
        if name in decoded:
            decoded[name] = _decode_json(decoded[name], f"`{name}` parameter")
    if decoded.get("operationName") == "":
        decoded["operationName"] = None  # the spec's rule for GET: empty is the same as absent
    return decoded


def _decode_json(text: str | bytes, what: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as error:  # invalid UTF-8 too: the spec says UTF-8
        raise Refusal(400, f"The {what} is not valid JSON: {error}") from None


def _request_data(params: Any) -> GraphQLRequestData:
    if not isinstance(params, dict):
        raise Refusal(400, "A GraphQL request is one JSON object with `query` and optionally "
                           "`operationName`, `variables` and `extensions`.")
    query = params.get("query")
    if not isinstance(query, str):
        raise Refusal(400, "The request has no GraphQL document: `query` must be a string.")
    return GraphQLRequestData(query=query,
                              operation_name=_parameter(params, "operationName", str, "a string"),
                              variables=_parameter(params, "variables", dict, "an object"),
                              extensions=_parameter(params, "extensions", dict, "an object"))


def _parameter(params: Mapping[str, Any], name: str, kind: type, described: str) -> Any:
    """An optional parameter (null is the same as absent) of the right JSON type."""
    value = params.get(name)
    if value is not None and not isinstance(value, kind):
        raise Refusal(400, f"`{name}` must be {described} or null.")
    return value
