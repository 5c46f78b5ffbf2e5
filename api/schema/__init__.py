"""The GraphQL schema of Bevoegd (strawberry): queries, mutations and the ledger-events
subscription, with the protections every request passes through."""

from __future__ import annotations

import strawberry
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.config import StrawberryConfig

from api.schema.errors import LoggingSchema, MaskInternalErrors
from api.schema.execution import LeafFieldExecutor
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


LIMIT_RULES = [depth_rule(MAX_DEPTH, None), alias_rule(MAX_ALIASES)]
"""The depth and alias limits' validation rules, made once: the validation cache is keyed by
the rules, so rules made afresh per request (as QueryDepthLimiter and MaxAliasesLimiter do)
would never let it hit."""


def build_schema() -> strawberry.Schema:
    return LoggingSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Body, Commission, Consultation, Decision, Grant, Jurisdiction, LedgerEvent, Node],
        config=StrawberryConfig(),
        execution_context_class=LeafFieldExecutor,
        # factories: a fresh extension per request (the caches they use are shared)
        extensions=[
            lambda: MaxTokensLimiter(MAX_TOKENS),
            lambda: ParserCache(maxsize=CACHE_SIZE),
            lambda: AddValidationRules(LIMIT_RULES),
            lambda: ValidationCache(maxsize=CACHE_SIZE),
            lambda: QueryCost(limit=MAX_COST),  # after the cache: it adds to validation errors
            MaskInternalErrors,
        ],
    )
