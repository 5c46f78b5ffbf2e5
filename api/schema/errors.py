"""Errors a client may see, and what the server logs of them.

Refusals and bad arguments carry a stable `code` in the error's extensions (graphql-core copies
an exception's `extensions` into the error it reports, for queries and subscriptions alike);
anything else is masked, so no stack trace or SQL ever leaves the server: a database that
cannot be reached becomes UNAVAILABLE, any other failure INTERNAL with the request's id.

Only internal errors are logged, each once, with its traceback and the request's id. A client's
mistake or a refusal is the client's to read, and an outage is logged by DatabaseAvailability."""

from __future__ import annotations

import logging
from contextlib import aclosing
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.schema.schema import StreamResult
from strawberry.types import ExecutionContext
from strawberry.types.execution import PreExecutionError

from api.availability import DatabaseUnavailable
from api.request_id import current_request_id
from ledger.errors import LedgerError
from projections.errors import ReadError
from projections.health import is_connection_failure

INTERNAL_ERROR = "Internal error."

log = logging.getLogger(__name__)


class AccessDenied(Exception):
    code = "ACCESS_DENIED"

    @property
    def extensions(self) -> dict[str, str]:
        return {"code": self.code}


class Unauthenticated(AccessDenied):
    code = "UNAUTHENTICATED"


class Forbidden(AccessDenied):
    code = "FORBIDDEN"


CLIENT_ERRORS = (LedgerError, ReadError, AccessDenied, DatabaseUnavailable)
"""Exceptions whose message is meant for the client."""


def is_internal(error: GraphQLError) -> bool:
    """Whether an error must be masked: it came from a resolver and is not one of ours."""
    original = error.original_error
    return original is not None and not isinstance(original, (*CLIENT_ERRORS, GraphQLError))


def internal_extensions() -> dict[str, str]:
    """All a client learns of an internal error: that it is one, and the id to quote."""
    return {"code": "INTERNAL", "requestId": current_request_id()}


class MaskInternalErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=is_internal, error_message=INTERNAL_ERROR)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if original is not None and is_connection_failure(original):
            unavailable = self.execution_context.context.availability.failed(original)
            # kept as the original error: the HTTP answer takes its Retry-After from it
            return _replaced(error, unavailable.message, unavailable.extensions, unavailable)
        return _replaced(error, INTERNAL_ERROR, internal_extensions(), None)


def _replaced(error: GraphQLError, message: str, extensions: dict[str, str],
              original: Exception | None) -> GraphQLError:
    """The error with another message, extensions and original error, at the same place."""
    return GraphQLError(message, nodes=error.nodes, source=error.source,
                        positions=error.positions, path=error.path, original_error=original,
                        extensions=extensions)


class ErrorReportingSchema(strawberry.Schema):
    """strawberry's Schema, logging internal errors only (strawberry logs every error with its
    traceback; errors reach it before MaskInternalErrors masks them), and answering a document
    that does not parse over a stream (a WebSocket) as a request error, as HTTP does: strawberry
    lets the parser's error end the operation with an empty `complete` and a logged traceback."""

    async def stream(self, *args: Any, **kwargs: Any) -> StreamResult:
        return _request_errors_answered(await super().stream(*args, **kwargs))

    def process_errors(self, errors: list[GraphQLError],
                       execution_context: ExecutionContext | None = None) -> None:
        for error in errors:
            if is_internal(error) and not is_connection_failure(error.original_error):
                log.error("internal error in request %s at %s: %s", current_request_id(),
                          ".".join(map(str, error.path or ())) or "-", error.message,
                          exc_info=error.original_error)


async def _request_errors_answered(results: StreamResult) -> StreamResult:
    """The results, or a request error if the document fails before the first of them."""
    first = True
    try:
        async with aclosing(results):
            async for result in results:
                first = False
                yield result
    except GraphQLError as error:
        if not first:
            raise
        yield PreExecutionError(data=None, errors=[error])
