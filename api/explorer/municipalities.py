"""The explorer's pages of municipalities and regions (/gemeenten, /gemeenten/{code})."""

from __future__ import annotations

from starlette.routing import BaseRoute

ROUTES: list[BaseRoute] = []
