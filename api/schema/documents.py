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
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

from anyio import CapacityLimiter, to_thread
from anyio.lowlevel import RunVar
from cachetools import LRUCache
from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse
from graphql.validation.rules import overlapping_fields_can_be_merged
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

MAX_TOKENS = 3000
KEPT_BYTES = 64 * 1024 * 1024
"""About how much memory the documents kept may take."""
BYTES_PER_TOKEN = 500
"""What a parsed token holds on to, roughly: 3,000 tokens of fields take 1.6 MB."""

# graphql-core's budget for comparing fields of one name (set here, as its documentation says),
# a tenth of its default: that took the worker more than half a second for one document, and
# this API's documents, introspection included, spend none of it
overlapping_fields_can_be_merged.MAX_COMPLEXITY_BUDGET = 50_000

Rules = tuple[type[ASTValidationRule], ...]
T = TypeVar("T")

_worker: RunVar[CapacityLimiter] = RunVar("bevoegd_document_worker")


async def _in_worker(work: Callable[..., T], *args: object) -> T:
    """`work` done in the event loop's one worker thread for documents."""
    try:
        worker = _worker.get()
    except LookupError:
        worker = CapacityLimiter(1)
        _worker.set(worker)
    return await to_thread.run_sync(work, *args, limiter=worker)


class Parsed:
    """A document, and its validation errors for each schema and rules it was validated with."""

    def __init__(self, text: str) -> None:
        self.document = parse(text, max_tokens=MAX_TOKENS)
        self.size = len(text) + BYTES_PER_TOKEN * _tokens(self.document)
        self.errors: dict[tuple[GraphQLSchema, Rules], list[GraphQLError]] = {}

    async def validated(self, schema: GraphQLSchema, rules: Rules) -> list[GraphQLError]:
        errors = self.errors.get((schema, rules))
        if errors is None:
            errors = await _in_worker(validate_document, schema, self.document, rules)
            self.errors[(schema, rules)] = errors
        return errors


def _tokens(document: DocumentNode) -> int:
    count, token = 0, document.loc.start_token if document.loc else None
    while token is not None:
        count, token = count + 1, token.next
    return count


_kept: LRUCache[str, Parsed] = LRUCache(KEPT_BYTES, getsizeof=lambda parsed: parsed.size)
_kept_lock = threading.Lock()  # the event loops of several threads (tests) may share it


async def parsed(text: str) -> Parsed:
    """The document `text` holds, parsed; a GraphQLError if it does not parse or is over the
    token limit. Only what parses is kept: a document that does not is parsed again when it
    comes back, in the worker thread like the first time."""
    with _kept_lock:
        found = _kept.get(text)
    if found is None:
        found = await _in_worker(Parsed, text)
        with _kept_lock:
            if found.size <= _kept.maxsize:
                _kept[text] = found
    return found


async def parse_document(text: str) -> DocumentNode:
    return (await parsed(text)).document


class Documents(SchemaExtension):
    """Strawberry's parse and validate steps, done here: strawberry does them on the event loop
    unless an extension has done them already."""

    def __init__(self) -> None:
        self.parsed: Parsed | None = None

    async def on_parse(self) -> AsyncIterator[None]:
        context = self.execution_context
        assert context.query is not None  # strawberry refuses an empty request before this
        self.parsed = await parsed(context.query)
        context.graphql_document = self.parsed.document
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        assert self.parsed is not None
        context.pre_execution_errors = await self.parsed.validated(
            context.schema._schema, context.validation_rules)
        yield
