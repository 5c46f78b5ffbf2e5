"""What the explorer's tests share: the demo data set projected with a signed checkpoint, its
pages as a browser asks for them and the outline of each, the API's answers over HTTP, and
Debian's chromium cut off from every other origin, with axe-core's WCAG 2.1 A and AA rules
(axe-playwright-python) for the page it shows."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, Request, Route, sync_playwright
from starlette.testclient import TestClient

from ledger.application import Ledger
from ledger.database import eventsourcing_env
from ledger.transparency.note import Signer
from projections.checkpoints import setup_checkpoints, sign_if_grown
from tests.databases import fresh_database
from tests.graphql_client import Api
from tests.ledger_setup import import_demo
from tests.read_models import pool_on, project

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium); "
                             "the tests never download a browser of their own")
BROWSER_SECONDS = 30.0
"""The most a browser step may wait on a busy machine: a deadline, not a timing."""
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
"""The accept header of a browser asking for a page."""
ATOM = "{http://www.w3.org/2005/Atom}"
SIGNER_NAME = "bevoegd.test/log"
SIGNER = Signer(SIGNER_NAME, hashlib.sha256(b"bevoegd explorer test key").digest())
"""The demo log's signing key: a published test key, so that tests can sign checkpoints of
their own (a forked one, say) and their fixtures come out the same on every run."""


def demo_database(server_url: str) -> Iterator[str]:
    """A database holding the demo data set, projected, with a signed checkpoint."""
    with fresh_database(server_url, "bevoegd_explorer") as url:
        ledger = Ledger(env=eventsourcing_env(url))
        try:
            import_demo(ledger)
        finally:
            ledger.close()

        async def projected() -> None:
            async with pool_on(url, max_size=2) as pool:
                await project(pool)
                async with pool.acquire() as conn:
                    await setup_checkpoints(conn)
                await sign_if_grown(pool, SIGNER)
        asyncio.run(projected())
        yield url


def api(client: TestClient, query: str, **variables: Any) -> dict[str, Any]:
    """The data of `query` as the public gets it from the API over HTTP."""
    return Api(client).data(query, variables)


class Outline(HTMLParser):
    """The parts of a page every test looks at: lang, title, the first link, the styles."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.lang: str | None = None
        self.title = ""
        self.links: list[str] = []
        self.styles: list[str] = []
        self._in_title = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "html":
            self.lang = found.get("lang")
        self._in_title = tag == "title"
        if tag == "a" and found.get("href"):
            self.links.append(str(found["href"]))
        if tag == "link" and found.get("rel") == "stylesheet":
            self.styles.append(str(found["href"]))

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


@dataclass
class CutOff:
    """A browser context in which every request to another origin fails, as if the network
    were cut off; the refused addresses are kept for the test to check."""

    origin: str
    refused: list[str] = field(default_factory=list)

    def route(self, route: Route, request: Request) -> None:
        if request.url.startswith(f"{self.origin}/"):
            route.continue_()
        else:
            self.refused.append(request.url)
            route.abort("internetdisconnected")


@contextmanager
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield launched
        finally:
            launched.close()


@contextmanager
def cut_off_context(browser: Browser, origin: str, width: str = "desktop",
                    javascript: bool = True) -> Iterator[tuple[BrowserContext, CutOff]]:
    w, h = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": h},
                                  java_script_enabled=javascript, locale="nl-NL")
    context.set_default_timeout(BROWSER_SECONDS * 1000)
    cut = CutOff(origin)
    context.route("**/*", cut.route)
    try:
        yield context, cut
    finally:
        context.close()


def axe_violations(page: Page) -> list[str]:
    """axe-core's WCAG 2.1 A and AA violations on the page, one line each."""
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_A_AA}})
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])}x: {v['nodes'][0]['target']})"
            for v in results.response["violations"]]


def assert_accessible_on_its_origin(chromium: Browser, origin: str, path: str,
                                    width: str = "desktop") -> None:
    """The page at `path` in chromium cut off from every other origin: no WCAG 2.1 A or AA
    violations, the skip link first for the keyboard, and nothing asked of another origin."""
    with cut_off_context(chromium, origin, width) as (context, cut):
        page = context.new_page()
        page.goto(f"{origin}{path}")
        # said in full: pytest rewrites the asserts of test modules only
        violations = axe_violations(page)
        assert violations == [], violations
        page.keyboard.press("Tab")
        first = page.evaluate("document.activeElement.getAttribute('href')")
        assert first == "#inhoud", first
        assert cut.refused == [], cut.refused
