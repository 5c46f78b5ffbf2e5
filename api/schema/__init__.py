"""The GraphQL schema of Bevoegd (strawberry): queries, mutations and the ledger-events
subscription, with the protections every request passes through.

BEVOEGD_FAST_EXECUTION=0 executes every field graphql-core's general way, leaving out the short
way for plain leaf fields (api/schema/execution.py), which builds on graphql-core's and
strawberry's internals: the way out should an upgrade of either break it."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from api.schema.documents import Documents
from api.schema.errors import ErrorReportingSchema, MaskInternalErrors
from api.schema.execution import LeafFieldExecutor
from api.schema.limits import OperationLimits
from api.schema.mutation import Mutation
from api.schema.query import Query
from api.schema.relay import Node
from api.schema.subscription import Subscription
from api.schema.text import RefuseUnstorableText
from api.schema.types import NODE_TYPES
from api.switches import switch

FAST_EXECUTION_VARIABLE = "BEVOEGD_FAST_EXECUTION"


def build_schema() -> strawberry.Schema:
    return ErrorReportingSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[*NODE_TYPES, Node],
        config=StrawberryConfig(),
        execution_context_class=execution_context(),
        # factories: a fresh extension per request (the documents they keep are shared)
        extensions=[
            Documents,
            OperationLimits,  # after validation: it adds to its errors
            RefuseUnstorableText,  # so does this
            MaskInternalErrors,
        ],
    )


def execution_context() -> type[StrawberryGraphQLCoreExecutionContext]:
    """How fields are executed: with the short way for plain leaf fields unless it is off."""
    if switch(FAST_EXECUTION_VARIABLE, default=True):
        return LeafFieldExecutor
    return StrawberryGraphQLCoreExecutionContext
