"""The explorer's pages of the log's check (/controle) and the proof check in the browser."""

from __future__ import annotations

from starlette.routing import BaseRoute

ROUTES: list[BaseRoute] = []
