"""Errors a client may see. Refusals and bad arguments carry a stable `code` in the error's
extensions; anything else is masked, so no stack trace or SQL ever leaves the server."""

from __future__ import annotations

from graphql import GraphQLError

from ledger.errors import LedgerError
from projections.errors import ReadError


class Unauthenticated(Exception):
    code = "UNAUTHENTICATED"


class Forbidden(Exception):
    code = "FORBIDDEN"


CLIENT_ERRORS = (LedgerError, ReadError, Unauthenticated, Forbidden)
"""Exceptions whose message is meant for the client."""


def is_internal(error: GraphQLError) -> bool:
    """Whether an error must be masked: it came from a resolver and is not one of ours."""
    original = error.original_error
    return original is not None and not isinstance(original, (*CLIENT_ERRORS, GraphQLError))


def error_code(error: GraphQLError) -> str | None:
    original = error.original_error
    if isinstance(original, CLIENT_ERRORS):
        return original.code
    return None
