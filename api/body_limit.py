"""A size limit per HTTP request: a body (or query string) over it is answered 413 with a GraphQL
error before more than the limit is read, so no request can hold a worker's memory or time with
its size. A body that announces its length is refused on the announcement; a chunked one once its
chunks add up past the limit."""

from __future__ import annotations

import os
from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_VARIABLE = "BEVOEGD_MAX_BODY_BYTES"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


def max_body_bytes(environ: Mapping[str, str] = os.environ) -> int:
    """The limit set in the environment, or the default."""
    value = environ.get(MAX_BODY_VARIABLE)
    if value is None:
        return DEFAULT_MAX_BODY_BYTES
    if not value.isdigit() or int(value) == 0:
        raise ValueError(f"{MAX_BODY_VARIABLE} must be a whole number of bytes above 0, "
                         f"not {value!r}")
    return int(value)


class _TooLarge(Exception):
    pass


class RequestSizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        announced = Headers(scope=scope).get("content-length", "")
        if (announced.isdigit() and int(announced) > self.max_bytes) \
                or len(scope["query_string"]) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse({"errors": [{
            "message": f"The request is larger than {self.max_bytes} bytes, the most this "
                       "server accepts.",
            "extensions": {"code": "REQUEST_TOO_LARGE"}}]}, status_code=413)
        await response(scope, receive, send)
