"""Every request's id: the client's `X-Request-ID` when it is a plausible one, otherwise a new
one; sent back in the same header. An internal error is logged with it and the client gets it
in the error's extensions, so the two can be matched without showing the client any detail."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
WELL_FORMED = re.compile(r"[\w.:+/=-]{1,128}", re.ASCII)
"""What a client's id may look like: UUIDs, hex, base64 and the like; nothing that could forge
a log line."""

_current: ContextVar[str] = ContextVar("request_id", default="")


def current_request_id() -> str:
    """The id of the request being served ('' outside a request)."""
    return _current.get()


class RequestId:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        offered = Headers(scope=scope).get(HEADER)
        request_id = offered if offered and WELL_FORMED.fullmatch(offered) else uuid.uuid4().hex
        header = (HEADER.lower().encode(), request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                # a new message: the response cache keeps the one it was given
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        token = _current.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _current.reset(token)
