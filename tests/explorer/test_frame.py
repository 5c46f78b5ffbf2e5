"""The explorer's frame, on the demo data set: every page answers in Dutch with a unique title,
a skip link and the NL Design System's styles served by the server itself; its JSON twin holds
the same answer; an address naming nothing says so with 404; and in a real browser cut off from
the network, the page has no WCAG 2.1 A or AA violations and loads nothing from elsewhere."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser
from starlette.testclient import TestClient

from api.explorer.vendored import ASSETS_PATH, VENDORED
from api.vendoring import VENDOR
from tests.explorer_site import HTML, Outline, assert_accessible_on_its_origin, needs_chromium

pytestmark = pytest.mark.database

PAGES = ["/", "/besluiten", "/bevoegdheden", "/zoeken", "/controle", "/gemeenten", "/opdrachten",
         "/toegankelijkheid", "/data-kwaliteit"]
"""Every page of the explorer that needs no code from the data."""


@pytest.mark.parametrize("path", PAGES)
def test_a_page_is_dutch_titled_and_skippable(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"accept": HTML})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    outline = Outline(response.text)
    assert outline.lang == "nl"
    assert outline.title.endswith("· Bevoegd")
    assert outline.links[0] == "#inhoud"
    assert 'id="inhoud"' in response.text
    for style in outline.styles:
        assert style.startswith(f"{ASSETS_PATH}/")
        assert client.get(style).status_code == 200


def test_every_page_has_a_title_of_its_own(client: TestClient) -> None:
    """A visitor with many tabs, or a screen reader's list of windows, tells pages apart."""
    titles = [Outline(client.get(path, headers={"accept": HTML}).text).title
              for path in [*PAGES, "/gemeenten/dordrecht", "/organen/dsb",
                           "/besluiten/drechtraad-2013-07-02-begroting-2014"]]
    assert len(set(titles)) == len(titles), titles


@pytest.mark.parametrize("path", PAGES)
def test_a_page_has_a_json_twin_with_its_answer(client: TestClient, path: str) -> None:
    twin = "/index.json" if path == "/" else f"{path}.json"
    by_suffix = client.get(twin)
    by_accept = client.get(path, headers={"accept": "application/json"})
    assert by_suffix.status_code == by_accept.status_code == 200
    assert by_suffix.headers["content-type"] == "application/json"
    assert by_suffix.json() == by_accept.json()


def test_the_start_page_shows_the_latest_decisions_and_the_checkpoint(client: TestClient) -> None:
    answer = client.get("/index.json").json()
    latest = [edge["node"] for edge in answer["decisions"]["edges"]]
    assert latest, "the demo data set has published decisions"
    page = client.get("/", headers={"accept": HTML}).text
    for decision in latest:
        assert f'href="/besluiten/{decision["code"]}"' in page
    checkpoint = answer["ledger"]["checkpoint"]
    assert checkpoint["rootHash"] in page and str(checkpoint["size"]) in page


def test_the_styles_are_the_pinned_releases_with_their_licences(client: TestClient) -> None:
    for package in VENDORED:
        manifest = client.get(f"{ASSETS_PATH}/{VENDOR}/{package.folder}/package.json").json()
        assert (manifest["name"], manifest["version"]) == (package.name, package.version)
        licence = client.get(f"{ASSETS_PATH}/{package.served('LICENSE.md')}")
        assert licence.status_code == 200 and "EUROPEAN UNION PUBLIC LICENCE" in licence.text


@needs_chromium
@pytest.mark.parametrize("path", PAGES)
def test_a_page_in_a_browser_is_accessible_and_stays_on_its_origin(
        site: tuple[str, Browser], path: str) -> None:
    origin, chromium = site
    assert_accessible_on_its_origin(chromium, origin, path)
