"""The explorer's addresses: every page module's routes, and the style sheets and script under
ASSETS_PATH."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute, Mount

from api.explorer import about, bodies, commissions, decisions, municipalities, verification
from api.explorer.pages import Shown, page
from api.explorer.reading import read
from api.explorer.vendored import ASSETS_PATH, STATIC_DIR
from api.vendoring import Assets


async def home(request: Request, params: dict[str, str]) -> Shown:
    return Shown("home.html", "Wie mag wat besluiten", await read(request, "Home", {}))


def routes() -> list[BaseRoute]:
    return [*page("/", home),
            *decisions.ROUTES, *municipalities.ROUTES, *bodies.ROUTES, *commissions.ROUTES,
            *verification.ROUTES, *about.ROUTES,
            Mount(ASSETS_PATH, Assets(STATIC_DIR))]
