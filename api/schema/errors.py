"""Errors a client may see. Refusals and bad arguments carry a stable `code` in the error's
extensions (graphql-core copies an exception's `extensions` into the error it reports, for
queries and subscriptions alike); anything else is masked, so no stack trace or SQL ever leaves
the server."""

from __future__ import annotations

from graphql import GraphQLError

from ledger.errors import LedgerError
from projections.errors import ReadError


class AccessDenied(Exception):
    code = "ACCESS_DENIED"

    @property
    def extensions(self) -> dict[str, str]:
        return {"code": self.code}


class Unauthenticated(AccessDenied):
    code = "UNAUTHENTICATED"


class Forbidden(AccessDenied):
    code = "FORBIDDEN"


CLIENT_ERRORS = (LedgerError, ReadError, AccessDenied)
"""Exceptions whose message is meant for the client."""


def is_internal(error: GraphQLError) -> bool:
    """Whether an error must be masked: it came from a resolver and is not one of ours."""
    original = error.original_error
    return original is not None and not isinstance(original, (*CLIENT_ERRORS, GraphQLError))
