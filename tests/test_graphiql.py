"""GraphiQL from the server itself (api/graphiql): the page loads nothing from elsewhere and carries
no inline script or style, its Content-Security-Policy allows only its own origin, its files are
served with their media types and caching, and each vendored package is the release vendored.py
pins, with its licence. Then in a real browser, Debian's chromium run headless, with every
request to another host refused as if the network were cut off: the page opens, runs a query and
a subscription and shows their answers, opens a dialog, and nothing leaves the origin, nothing is
refused by the policy and nothing is logged as an error."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from playwright.sync_api import Page, Request, Route, expect, sync_playwright
from starlette.testclient import TestClient

from api.app import create_app
from api.graphiql.vendored import STATIC_DIR, VENDORED
from api.vendoring import VENDOR
from tests.databases import fresh_database
from tests.graphql_client import eventually
from tests.test_serve import serving

pytestmark = pytest.mark.database

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
CHROMIUM = shutil.which("chromium")
BROWSER_SECONDS = 60.0
"""The most the browser test waits for one step (chromium starting, GraphiQL's 3.5 MB script
parsed, an answer shown) on a busy machine: a deadline, not a timing."""


@pytest.fixture(scope="module")
def client(server_url: str) -> Iterator[TestClient]:
    with (fresh_database(server_url, "bevoegd_test") as url,
          TestClient(create_app(url, run_projector=False)) as test_client):
        yield test_client


class Markup(HTMLParser):
    """What a page refers to (src, href), and what it carries inline: script text, style
    elements and attributes, event handler attributes."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.references: list[str] = []
        self.inline: list[str] = []
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.references += [value for name, value in attrs if name in ("src", "href") and value]
        self.inline += [f"<{tag} {name}>" for name, _ in attrs if name == "style" or name.startswith("on")]
        if tag == "style":
            self.inline.append("<style>")
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(data)

    def files(self) -> list[str]:
        """The paths of the files the page loads from the server, as a browser resolves them."""
        return [urlsplit(urljoin("http://server/graphql", reference)).path
                for reference in self.references if not reference.startswith("data:")]


def graphiql(client: TestClient) -> httpx.Response:
    response = client.get("/graphql", headers={"accept": BROWSER})
    assert response.status_code == 200 and response.headers["content-type"] == "text/html; charset=utf-8"
    return response


def policy(response: httpx.Response) -> dict[str, list[str]]:
    directives = (d.split() for d in response.headers["content-security-policy"].split(";"))
    return {name: sources for name, *sources in directives}


def test_the_page_allows_only_its_own_origin(client: TestClient) -> None:
    response = graphiql(client)
    directives = policy(response)
    assert directives["default-src"] == ["'none'"]
    assert directives["script-src"] == ["'self'"]  # no inline script, no eval
    assert directives["frame-ancestors"] == ["'none'"]
    for name, sources in directives.items():
        for source in sources:
            # its own origin, data: (fonts, the icon) or the hash of one exact inline style
            assert source in ("'self'", "'none'", "data:") or source.startswith("'sha256-"), name
    assert "style-src" in directives and "connect-src" in directives
    # the same URL answers programs with JSON (and other origins with the CORS headers)
    assert [v.strip() for v in response.headers["vary"].split(",")] == ["Accept", "Origin"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_page_loads_nothing_from_elsewhere_and_nothing_inline(client: TestClient) -> None:
    html = graphiql(client).text
    page = Markup(html)
    assert page.inline == []
    assert "http:" not in html and "https:" not in html and "//" not in html
    for reference in page.references:
        parts = urlsplit(reference)
        assert reference == "data:," or (parts.scheme, parts.netloc) == ("", ""), reference
    assert len(page.files()) >= 4  # GraphiQL, React, the explorer and the page's own start


def test_every_file_the_page_loads_is_served_with_its_type_and_caching(client: TestClient) -> None:
    for path in Markup(graphiql(client).text).files():
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"] == MEDIA_TYPES[Path(path).suffix], path
        assert response.headers["x-content-type-options"] == "nosniff", path
        cache_control = response.headers["cache-control"]
        if path.startswith(f"/graphiql/{VENDOR}/"):  # in a folder named after its version
            assert cache_control == "public, max-age=31536000, immutable", path
        else:  # the page's own: may change in an upgrade under the same name
            assert cache_control == "no-cache", path
            again = client.get(path, headers={"if-none-match": response.headers["etag"]})
            assert again.status_code == 304 and again.headers["cache-control"] == "no-cache", path


def test_each_vendored_package_is_the_pinned_release_with_its_licence(client: TestClient) -> None:
    vendor = STATIC_DIR / VENDOR
    assert sorted(p.name for p in vendor.iterdir()) == sorted(p.folder for p in VENDORED)
    graphiql_repository = package_json(client, "graphiql")["repository"]
    for package in VENDORED:
        manifest = package_json(client, package.name)
        assert (manifest["name"], manifest["version"]) == (package.name, package.version)
        assert manifest["license"] == "MIT", package.spec
        served = sorted(Path(package.served(path)).name for path in package.files)
        assert sorted(p.name for p in (vendor / package.folder).iterdir()) == sorted(
            [*served, "package.json"]), package.spec
        if "LICENSE" in package.files:
            licence = client.get(f"/graphiql/{package.served('LICENSE')}")
            assert licence.status_code == 200 and "Permission is hereby granted" in licence.text
        else:  # the explorer plugin: graphiql's repository, and so graphiql's LICENSE
            assert _repository_url(manifest["repository"]) == _repository_url(graphiql_repository)


def test_production_serves_no_graphiql_files(server_url: str) -> None:
    with (fresh_database(server_url, "bevoegd_test") as url,
          TestClient(create_app(url, run_projector=False, production=True)) as production):
        assert production.get("/graphiql/start.js").status_code == 404
        assert production.get("/graphql", headers={"accept": BROWSER}).status_code == 400


def package_json(client: TestClient, name: str) -> dict[str, Any]:
    package = next(p for p in VENDORED if p.name == name)
    response = client.get(f"/graphiql/{VENDOR}/{package.folder}/package.json")
    assert response.status_code == 200
    return dict(response.json())


def _repository_url(repository: str | dict[str, str]) -> str:
    """Host and path: package.json files name one repository with http, https or git+https."""
    parts = urlsplit(repository if isinstance(repository, str) else repository["url"])
    return parts.netloc + parts.path.removesuffix(".git")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install "
                    "chromium); the test never downloads a browser of its own")
def test_graphiql_answers_in_a_browser_cut_off_from_the_network(
        database_url: str, tmp_path: Path) -> None:
    with serving(database_url, "--demo") as served, sync_playwright() as playwright:
        origin = f"http://127.0.0.1:{served.port}"
        position = served.post("{ ledger { position } }", {})["data"]["ledger"]["position"]
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            context.set_default_timeout(BROWSER_SECONDS * 1000)
            requested: list[str] = []
            refused: list[str] = []

            def cut_off(route: Route, request: Request) -> None:
                if request.url.startswith(f"{origin}/"):
                    route.continue_()
                else:
                    refused.append(request.url)
                    route.abort("internetdisconnected")

            context.route("**/*", cut_off)
            context.on("request", lambda request: requested.append(request.url))
            page = context.new_page()
            page.on("websocket", lambda socket: requested.append(socket.url))
            errors: list[str] = []
            page.on("console", lambda message: errors.append(message.text)
                    if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            # the policy's refusals, as the page sees them (init scripts are not subject to it)
            page.add_init_script("window.refusals = [];"
                                 "document.addEventListener('securitypolicyviolation', e =>"
                                 " window.refusals.push(e.violatedDirective + ' ' + e.blockedURI));")

            page.goto(f"{origin}/graphql")
            answer = page.locator(".graphiql-response")
            run(page, "{ ledger { position } }")
            expect(answer).to_contain_text(f'"position": {position}',
                                           timeout=BROWSER_SECONDS * 1000)
            assert page.locator(".graphiql-container").evaluate(
                "element => getComputedStyle(element).display") == "flex"  # styled, not bare
            page.screenshot(path=tmp_path / "graphiql.png")

            # a dialog locks scrolling with the one inline style the policy allows by its hash
            page.get_by_label("Open settings dialog").click()
            expect(page.get_by_role("dialog")).to_contain_text("Persist headers")
            page.screenshot(path=tmp_path / "graphiql-settings.png")
            page.keyboard.press("Escape")

            # over WebSocket: the public's last event (the ledger's last may belong to a decision
            # not published), as the subscription sends it from `after` on
            visible = served.post("{ auditTrail(first: 1, newestFirst: true) "
                                  "{ edges { node { position } } } }", {}
                                  )["data"]["auditTrail"]["edges"][0]["node"]["position"]
            run(page, f"subscription {{ ledgerEvents(after: {visible - 1}) {{ position }} }}")
            expect(answer).to_contain_text('"ledgerEvents"', timeout=BROWSER_SECONDS * 1000)
            expect(answer).to_contain_text(f'"position": {visible}')
            page.screenshot(path=tmp_path / "graphiql-subscription.png")

            # the console's errors name the hash of an inline style that was refused
            assert page.evaluate("() => window.refusals") == [], errors
            assert errors == []
            assert refused == []
            assert requested and all(
                url.startswith((f"{origin}/", f"ws://127.0.0.1:{served.port}/")) for url in requested)
            assert f"ws://127.0.0.1:{served.port}/graphql" in requested
        finally:
            browser.close()


def run(page: Page, document: str) -> None:
    """Types `document` into GraphiQL's query editor, as pasted text (no bracket closing), and
    runs it once GraphiQL has taken it in (it keeps the editor's text after a short debounce,
    and decides from it between HTTP and WebSocket)."""
    page.locator(".graphiql-query-editor .CodeMirror").click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(document)
    eventually(lambda: page.evaluate("() => localStorage.getItem('graphiql:query')") == document,
               "GraphiQL took in the query", BROWSER_SECONDS)
    page.keyboard.press("Control+Enter")
