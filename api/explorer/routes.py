"""The explorer's addresses: each page is a view from the request to what it shows, and answers
at its address and at its JSON twin (the same address with `.json`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute, Mount, Route

from api.explorer.pages import TWIN_SUFFIX, Shown, View, endpoint
from api.explorer.reading import read
from api.explorer.vendored import ASSETS_PATH, STATIC_DIR
from api.vendoring import Assets


async def home(request: Request, params: dict[str, str]) -> Shown:
    return Shown("home.html", "Wie mag wat besluiten", await read(request, "Home", {}))


def page(path: str, view: View) -> list[Route]:
    """The page's routes: its address and, where the address does not end in a parameter
    (which takes the suffix itself), its twin's."""
    routes = [Route(path, endpoint(view), methods=["GET", "HEAD"])]
    if not path.endswith("}"):
        twin = "/index" if path == "/" else path
        routes.append(Route(twin + TWIN_SUFFIX, endpoint(view), methods=["GET", "HEAD"]))
    return routes


def routes() -> list[BaseRoute]:
    return [*page("/", home), Mount(ASSETS_PATH, Assets(STATIC_DIR))]
