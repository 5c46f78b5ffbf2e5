"""The GraphQL schema of Bevoegd (strawberry): queries, mutations and the ledger-events
subscription, with the protections every request passes through."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from api.schema.documents import Documents
from api.schema.errors import ErrorReportingSchema, MaskInternalErrors
from api.schema.execution import LeafFieldExecutor
from api.schema.limits import OperationLimits
from api.schema.mutation import Mutation
from api.schema.query import Query
from api.schema.relay import Node
from api.schema.subscription import Subscription
from api.schema.types import Body, Commission, Consultation, Decision, Grant, Jurisdiction, LedgerEvent


def build_schema() -> strawberry.Schema:
    return ErrorReportingSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Body, Commission, Consultation, Decision, Grant, Jurisdiction, LedgerEvent, Node],
        config=StrawberryConfig(),
        execution_context_class=LeafFieldExecutor,
        # factories: a fresh extension per request (the documents they keep are shared)
        extensions=[
            Documents,
            OperationLimits,  # after validation: it adds to its errors
            MaskInternalErrors,
        ],
    )
