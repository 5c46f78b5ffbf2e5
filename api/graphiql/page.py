"""GraphiQL from the server itself: the page that /graphql shows a browser, and the files it loads,
served under /graphiql, so that it works where CDNs are blocked or there is no internet at all.

The page's Content-Security-Policy allows nothing from another origin and no inline script (its
start script is a file of its own), and one inline style, by its hash. The vendored files sit in
folders named after their versions and may be kept by a browser for a year; the page's own start
script and style sheet are checked again (ETag) on every load, since an upgrade of Bevoegd may
change them under the same name."""

from __future__ import annotations

from starlette.responses import HTMLResponse

from api.graphiql.vendored import STATIC_DIR, VENDORED
from api.vendoring import Assets, loaded

ASSETS_PATH = "/graphiql"
SCROLL_LOCK = "'sha256-Y/huXlwoYkVyQlxwSVcCi1RCDGDCSVBzDt0hYP9qlTc='"
"""The hash of the one inline style the page allows. While a dialog of GraphiQL's is open
(settings, short keys), react-remove-scroll-bar, inside GraphiQL's bundle, locks the page's
scrolling with a style element whose text depends on the scroll bar's width and the body's
margins; page.css keeps both at 0, and the text then hashes to this. Refused, only that lock
would be lost (the page never scrolls) and the browser would log an error. Should a GraphiQL
release change the text, the browser test opens a dialog and fails, naming the new hash."""
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'none'",
    "script-src 'self'",
    f"style-src 'self' {SCROLL_LOCK}",
    "font-src 'self' data:",  # GraphiQL's style sheet carries its fonts as data: URLs
    "img-src 'self' data:",  # the empty data: icon, which spares a request for /favicon.ico
    "connect-src 'self'",  # HTTP and, in CSP Level 3, WebSocket to the same host and port
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",  # no other site may frame the page that holds a bearer token
))


def _page() -> str:
    # relative to /graphql, so that the page also works behind a proxy that adds a path prefix
    prefix = ASSETS_PATH.removeprefix("/")
    styles = [*loaded(VENDORED, ".css"), "page.css"]
    scripts = [*loaded(VENDORED, ".js"), "start.js"]
    return "\n".join((
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        "<title>Bevoegd GraphiQL</title>",
        '<link rel="icon" href="data:,">',
        *(f'<link rel="stylesheet" href="{prefix}/{path}">' for path in styles),
        *(f'<script src="{prefix}/{path}" defer></script>' for path in scripts),
        "</head>",
        "<body>",
        '<div id="graphiql">Loading GraphiQL…</div>',
        "</body>",
        "</html>",
        "",
    ))


PAGE = _page()


def page() -> HTMLResponse:
    return HTMLResponse(PAGE, headers={
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "Cache-Control": "no-cache",
        "Vary": "Accept",  # /graphql answers a program with JSON
        "X-Content-Type-Options": "nosniff",
    })


def assets() -> Assets:
    """The files under /graphiql."""
    return Assets(STATIC_DIR)
