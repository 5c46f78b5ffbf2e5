"""The explorer's pages of commissions (/opdrachten)."""

from __future__ import annotations

from starlette.routing import BaseRoute

ROUTES: list[BaseRoute] = []
