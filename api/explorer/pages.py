"""How a page answers: HTML from its Jinja2 template, its JSON twin (the address with `.json`, or
`Accept: application/json`) holding the same answer, and for a list its Atom feed (the address
with `.atom`); and the pages that say what went wrong. Every page has the same
Content-Security-Policy: nothing from another origin, no inline script or style."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any
from urllib.parse import quote

import orjson
from anyio import to_thread
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from jinja2.filters import do_urlencode
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from api.availability import DatabaseUnavailable
from api.explorer.feeds import ATOM, FeedEntry, atom
from api.explorer.reading import NotFound
from api.explorer.vendored import ASSETS_PATH, THEME, VENDORED
from api.negotiation import negotiate
from api.report.words import LABELS, long_date
from api.vendoring import loaded
from projections.errors import InvalidArgument, UnknownRecord

HTML = "text/html"
JSON = "application/json"
TWIN_SUFFIX = ".json"
FEED_SUFFIX = ".atom"
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",  # the proof check reads the log's tiles and checkpoint
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
))
HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Vary": "Accept",
           "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}

TEMPLATES = Environment(loader=PackageLoader("api.explorer"), autoescape=select_autoescape(),
                        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                        auto_reload=False)  # templates change with a release, not while serving


@lru_cache(maxsize=65_536)
def _quoted(text: str) -> str:
    return quote(text, safe="")


def _in_address(value: object) -> str:
    """A code or name as one segment or value of an address, quoted once per text (a page
    quotes hundreds of the same few codes, which Jinja's urlencode quotes again each time); pairs
    or a dict as a query string, as Jinja's urlencode makes it."""
    if isinstance(value, str | int):
        return _quoted(str(value))
    return str(do_urlencode(value))


TEMPLATES.filters |= {
    "urlencode": _in_address,
    # the report's Dutch words: one name for each idea, wherever Bevoegd shows it
    "nl": lambda value: LABELS["nl"].get(str(value).lower(), str(value)).lower() if value else "",
    "datum": lambda day: long_date(day, "nl") if day else "",
}
TEMPLATES.globals |= {"assets": ASSETS_PATH, "theme": THEME,
                      "styles": [*loaded(VENDORED, ".css"), "explorer.css"]}


@dataclass(frozen=True)
class Shown:
    """What a page shows: its template, its title, and the answer it renders (the JSON twin's
    body)."""

    template: str
    title: str
    answer: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)
    """What the template needs beyond the answer (the filters of a list, say); not in the twin."""
    feed: list[FeedEntry] | None = None
    """A list's entries as its Atom feed gives them, newest first; None: the page has no feed."""
    goes_to: str | None = None
    """The one page the answer leads to (a search that found a decision by its code): a browser
    is sent there; the JSON twin still holds the answer."""


View = Callable[[Request, dict[str, str]], Awaitable[Shown]]
"""A page: from the request and its path parameters (without a twin's `.json`) to what it
shows."""


def requested_form(request: Request, params: dict[str, str]) -> str:
    """HTML, JSON (the twin: by suffix, or by Accept) or ATOM (by suffix). A suffix is taken off
    the parameter the address ends in, which `params` then holds without it."""
    path = request.url.path
    for suffix, form in ((TWIN_SUFFIX, JSON), (FEED_SUFFIX, ATOM)):
        if path.endswith(suffix):
            for name, value in params.items():
                if value.endswith(suffix) and path.endswith(value):
                    params[name] = value.removesuffix(suffix)
            return form
    return JSON if negotiate(request.headers.get("accept"), (HTML, JSON)) == JSON else HTML


def render(template: str, **values: Any) -> str:
    return TEMPLATES.get_template(template).render(**values)


def endpoint(view: View) -> Callable[[Request], Awaitable[Response]]:
    async def answer(request: Request) -> Response:
        params = dict(request.path_params)
        form = requested_form(request, params)
        as_json = form != HTML
        try:
            shown = await view(request, params)
        except (NotFound, UnknownRecord) as missing:
            return _failure(request, as_json, 404, "Niet gevonden", missing.message)
        except InvalidArgument as invalid:
            return _failure(request, as_json, 400, "Dit adres klopt niet", invalid.message)
        except DatabaseUnavailable as away:
            return _failure(request, as_json, 503, "Even niet beschikbaar",
                            f"De database is even niet bereikbaar. Probeer het over "
                            f"{away.retry_after} seconden opnieuw.",
                            {"Retry-After": str(away.retry_after)})
        if form == ATOM:
            if shown.feed is None:
                return _failure(request, True, 404, "Niet gevonden", "Deze pagina heeft geen feed.")
            return Response(atom(request, shown.title, shown.feed), media_type=ATOM,
                            headers=HEADERS | {"Vary": "Accept"})
        if form == JSON:
            return Response(orjson.dumps(shown.answer), media_type=JSON, headers=HEADERS)
        if shown.goes_to is not None:
            return RedirectResponse(shown.goes_to, status_code=303, headers=HEADERS)
        # CPU work, a few milliseconds for a long page: not on the event loop
        html = await to_thread.run_sync(partial(
            render, shown.template, title=shown.title, request=request, **shown.answer,
            **shown.extra))
        return HTMLResponse(html, headers=HEADERS)

    return answer


def _failure(request: Request, as_json: bool, status: int, title: str, message: str,
             headers: dict[str, str] | None = None) -> Response:
    headers = HEADERS | {"Cache-Control": "no-store"} | (headers or {})
    if as_json:
        return JSONResponse({"error": {"status": status, "message": message}},
                            status_code=status, headers=headers)
    return HTMLResponse(render("failure.html", title=title, message=message, request=request),
                        status_code=status, headers=headers)


def page(path: str, view: View, *, feed: bool = False) -> list[Route]:
    """A page's routes: its address, its twin's and, for a list, its feed's. An address that ends
    in a parameter takes the suffixes in that parameter."""
    routes = [Route(path, endpoint(view), methods=["GET", "HEAD"])]
    if not path.endswith("}"):
        base = "/index" if path == "/" else path
        suffixes = (TWIN_SUFFIX, FEED_SUFFIX) if feed else (TWIN_SUFFIX,)
        routes += [Route(base + suffix, endpoint(view), methods=["GET", "HEAD"])
                   for suffix in suffixes]
    return routes
