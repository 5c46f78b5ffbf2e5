"""The GraphQL schema of Bevoegd (strawberry): queries, mutations and the ledger-events
subscription, with the protections every request passes through."""

from __future__ import annotations

import strawberry
from strawberry.extensions import (
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig

from api.schema.errors import is_internal
from api.schema.limits import QueryCost
from api.schema.mutation import Mutation
from api.schema.query import Query
from api.schema.relay import Node
from api.schema.subscription import Subscription
from api.schema.types import Body, Commission, Consultation, Decision, Grant, Jurisdiction, LedgerEvent

MAX_DEPTH = 12
MAX_ALIASES = 20
MAX_TOKENS = 3000
MAX_COST = 5000
CACHE_SIZE = 1000


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Body, Commission, Consultation, Decision, Grant, Jurisdiction, LedgerEvent, Node],
        config=StrawberryConfig(),
        # factories: a fresh extension per request (the caches they use are shared)
        extensions=[
            lambda: MaxTokensLimiter(MAX_TOKENS),
            lambda: ParserCache(maxsize=CACHE_SIZE),
            lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
            lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
            lambda: ValidationCache(maxsize=CACHE_SIZE),
            lambda: QueryCost(limit=MAX_COST),  # after the cache: it adds to validation errors
            lambda: MaskErrors(should_mask_error=is_internal, error_message="Internal error."),
        ],
    )
