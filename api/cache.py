"""Answers to read-only GraphQL requests, kept until the projections move.

The ledger only grows, so an answer changes only when the projections apply new events. The
cache key holds everything an answer depends on: the request itself (body or query string),
what the client accepts, today's date (reads default to it) and the projections' generation,
which moves with every batch they apply, every checkpoint signed and every person forgotten
(ledger/vault.py), and, when the process reads a standby, only once the standby has replayed
them (projections/waiting.py): an answer read from the standby before then is kept under the
older generation. A write therefore makes every older answer unreachable; no answer is served
from before it once it is projected on the database read.

Who asks is part of the key (the Authorization header), and a token is checked (as every
request's, see `TrustedTokens`) before a cached answer is given: a revoked token gets nothing,
not even what it was answered before, and neither does a token that cannot be checked while
the database is unavailable. Answers with errors (UNAVAILABLE among them) are not kept."""

from __future__ import annotations

import time
from collections import OrderedDict
from datetime import date
from urllib.parse import parse_qs

import orjson
from graphql import GraphQLError, OperationDefinitionNode, OperationType
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import InvalidToken
from api.availability import DatabaseUnavailable
from api.schema.documents import parse_document

MAX_ENTRIES = 10_000
MAX_BODY = 64 * 1024
MAX_AGE_SECONDS = 30.0
"""A backstop: a notification lost while the listening connection reconnects cannot keep an
answer alive longer than this."""


class ResponseCache:
    def __init__(self, app: ASGIApp, path: str = "/graphql") -> None:
        self.app = app
        self.path = path
        self.entries: OrderedDict[tuple[object, ...], tuple[float, list[Message]]] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path \
                or scope["method"] not in ("GET", "POST"):
            await self.app(scope, receive, send)
            return
        authorization = Headers(scope=scope).get("authorization")
        if authorization is not None and not await _still_valid(scope, authorization):
            await self.app(scope, receive, send)  # which refuses it, or says why it cannot tell
            return
        body, receive = await _read_body(receive)
        if body is None or not await _is_read_only(scope, body):
            await self.app(scope, receive, send)
            return
        key = self._key(scope, body)
        if (cached := self.entries.get(key)) is not None and time.monotonic() - cached[0] < MAX_AGE_SECONDS:
            self.entries.move_to_end(key)
            for message in cached[1]:
                await send(message)
            return
        sent: list[Message] = []

        async def keep(message: Message) -> None:
            # a copy: middleware outside (CORS) adds its headers to the message it is sent
            sent.append({**message, "headers": list(message["headers"])}
                        if "headers" in message else message)
            await send(message)

        await self.app(scope, receive, keep)
        if _cacheable(sent):
            self.entries[key] = (time.monotonic(), sent)
            if len(self.entries) > MAX_ENTRIES:
                self.entries.popitem(last=False)

    def _key(self, scope: Scope, body: bytes) -> tuple[object, ...]:
        headers = Headers(scope=scope)
        return (scope["app"].state.watch.generation, date.today(), scope["method"],
                scope["query_string"], body, headers.get("authorization"),
                headers.get("accept"), headers.get("content-type"))


async def _still_valid(scope: Scope, authorization: str) -> bool:
    try:
        await scope["app"].state.tokens.principal_for(authorization)
    except (InvalidToken, DatabaseUnavailable):
        return False
    return True


async def _read_body(receive: Receive) -> tuple[bytes | None, Receive]:
    """The whole request body (None if too large to cache), and a receive that replays it."""
    chunks, size, more = [], 0, True
    messages: list[Message] = []
    while more:
        message = await receive()
        messages.append(message)
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        more = message.get("more_body", False)
    replay = iter(messages)

    async def replayed() -> Message:
        return next(replay, None) or await receive()

    return (b"".join(chunks) if size <= MAX_BODY else None), replayed


async def _is_read_only(scope: Scope, body: bytes) -> bool:
    """Whether the request is one query operation (not a mutation, subscription or batch)."""
    if scope["method"] == "GET":
        values = parse_qs(scope["query_string"].decode("latin-1")).get("query")
        return bool(values) and await _only_queries(values[0])
    try:
        request = orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    return isinstance(request, dict) and isinstance(request.get("query"), str) \
        and await _only_queries(request["query"])


async def _only_queries(document: str) -> bool:
    try:
        parsed = await parse_document(document)
    except GraphQLError:
        return False
    return all(d.operation == OperationType.QUERY for d in parsed.definitions
               if isinstance(d, OperationDefinitionNode))


def _cacheable(sent: list[Message]) -> bool:
    """Only complete 200 answers without errors: an error may be passing (a timeout, a read
    waiting for a position not projected yet)."""
    start = next((m for m in sent if m["type"] == "http.response.start"), None)
    if start is None or start["status"] != 200:
        return False
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    try:
        return "errors" not in orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
