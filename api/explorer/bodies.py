"""The explorer's pages of bodies (/organen/{code}) and persons (/personen/{id})."""

from __future__ import annotations

from starlette.routing import BaseRoute

ROUTES: list[BaseRoute] = []
