"""GraphQL documents, parsed and validated once and off the event loop.

Parsing and validating is CPU work that grows with the document (graphql-core meters the rules
that could grow faster, such as overlapping fields, and aborts past its budget), so a document
not seen before is parsed and validated in a worker thread, and one seen before is answered from
memory on the event loop. One thread per event loop does that work: the interpreter runs one
thread at a time anyway, and with one the event loop keeps its turns for everything else (a
health check, the answers to documents it knows). Parsing stops past MAX_TOKENS tokens, comments
included, so the token limit protects the parser itself."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Hashable
from functools import partial
from typing import Generic, TypeVar

from anyio import CapacityLimiter, to_thread
from anyio.lowlevel import RunVar
from cachetools import LRUCache
from graphql import ASTValidationRule, DocumentNode, GraphQLError, parse
from graphql.validation.rules import overlapping_fields_can_be_merged
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

MAX_TOKENS = 3000
CACHE_SIZE = 1000

# graphql-core's budget for comparing fields of one name (set here, as its documentation says),
# a tenth of its default: that took the worker more than half a second for one document, and
# this API's documents, introspection included, spend none of it
overlapping_fields_can_be_merged.MAX_COMPLEXITY_BUDGET = 50_000

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_worker: RunVar[CapacityLimiter] = RunVar("bevoegd_document_worker")


def _one_thread() -> CapacityLimiter:
    """The event loop's one worker thread for documents."""
    try:
        return _worker.get()
    except LookupError:
        _worker.set(CapacityLimiter(1))
        return _worker.get()


class Remembered(Generic[K, V]):
    """Results worked out off the event loop and kept, the least recently used going first.
    Only results are kept: a document that fails to parse is worked out again when it comes
    back, in the worker thread like the first time."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._kept: LRUCache[K, V] = LRUCache(size)
        self._lock = threading.Lock()  # the event loops of several threads may share it

    async def get(self, key: K, work_out: Callable[[], V]) -> V:
        with self._lock:
            kept = self._kept.get(key)
        if kept is None:
            kept = await to_thread.run_sync(work_out, limiter=_one_thread())
            with self._lock:
                self._kept[key] = kept
        return kept


_parsed: Remembered[str, DocumentNode] = Remembered()

Validations = Remembered[tuple[str, tuple[type[ASTValidationRule], ...]], list[GraphQLError]]
"""A document's validation errors, by its text and the rules it was validated with."""


async def parse_document(text: str) -> DocumentNode:
    """The document `text` holds; a GraphQLError if it does not parse or is over the token
    limit."""
    return await _parsed.get(text, partial(parse, text, max_tokens=MAX_TOKENS))


class Documents(SchemaExtension):
    """Strawberry's parse and validate steps, done here: strawberry does them on the event loop
    unless an extension has done them already."""

    def __init__(self, validated: Validations) -> None:
        self.validated = validated

    async def on_parse(self) -> AsyncIterator[None]:
        context = self.execution_context
        assert context.query is not None  # strawberry refuses an empty request before this
        context.graphql_document = await parse_document(context.query)
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        assert context.query is not None and context.graphql_document is not None
        rules = context.validation_rules
        context.pre_execution_errors = await self.validated.get(
            (context.query, rules),
            partial(validate_document, context.schema._schema, context.graphql_document, rules))
        yield
