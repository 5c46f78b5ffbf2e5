"""The explorer's pages of places, bodies, persons and commissions, on the demo data set: each
page is accessible in a browser cut off from the network, shows its content without JavaScript
and offers the skip link first; a regional decision shows on the page of every municipality
that was a member on its date, with those members (checked against the API's `members`); the
feeds are Atom whose entries link to the items; a filtered list is a link; the data-quality
counts agree with the decision register; and a code naming nothing gives 404."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import Browser
from starlette.testclient import TestClient

from tests.explorer_site import (
    ATOM,
    HTML,
    api,
    assert_accessible_on_its_origin,
    cut_off_context,
    needs_chromium,
)

pytestmark = pytest.mark.database

REGION = "drechtsteden"
PERSON = "Wouter Kolff (burgemeester van Dordrecht)"
PAGES = ["/gemeenten/dordrecht", "/gemeenten/hardinxveld-giessendam", f"/gemeenten/{REGION}",
         "/organen/drechtraad", "/organen/dsb", f"/personen/{quote(PERSON)}"]
"""The demo's pages of places, bodies and persons: a founding member, the member that joined
later, the region, the abolished body, the body that goes on, the chair of both."""
FEEDS = ["/gemeenten/dordrecht", "/organen/dsb", "/opdrachten"]


class Rows(HTMLParser):
    """The links of each row of the page's tables, or of those in the section whose heading
    has the id `section`."""

    def __init__(self, html: str, section: str | None = None) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._in_table = False
        self._section = section
        self._reading = section is None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._section is not None and tag == "h2":
            self._reading = dict(attrs).get("id") == self._section
        self._in_table |= tag == "table" and self._reading
        if tag == "tr":
            self.rows.append([])
        elif tag == "a" and self._in_table:
            self.rows[-1].append(str(dict(attrs).get("href")))

    def handle_endtag(self, tag: str) -> None:
        self._in_table &= tag != "table"

    def row_of(self, decision: str) -> list[str] | None:
        return next((row for row in self.rows if f"/besluiten/{decision}" in row), None)


def members_linked(row: list[str]) -> set[str]:
    return {href.removeprefix("/gemeenten/") for href in row if href.startswith("/gemeenten/")}


@needs_chromium
@pytest.mark.parametrize("width", ["desktop", "phone"])
@pytest.mark.parametrize("path", [*PAGES, "/opdrachten?status=te-laat"])
def test_a_page_in_a_browser_is_accessible_and_stays_on_its_origin(
        site: tuple[str, Browser], path: str, width: str) -> None:
    origin, chromium = site
    assert_accessible_on_its_origin(chromium, origin, path, width)


@needs_chromium
def test_the_commission_filters_are_reached_with_the_keyboard(site: tuple[str, Browser]) -> None:
    origin, chromium = site
    with cut_off_context(chromium, origin) as (context, _):
        page = context.new_page()
        page.goto(f"{origin}/opdrachten")
        form = page.locator("form.commission-filters")
        controls = form.locator("select, input, button").evaluate_all(
            "found => found.map(c => c.id || c.textContent.trim())")
        reached = []
        for _ in range(60):  # the header's links and search, then the filters
            page.keyboard.press("Tab")
            reached.append(page.evaluate(
                "document.activeElement.id || document.activeElement.textContent.trim()"))
            if reached[-1] == controls[-1]:
                break
        # a date field takes a Tab for its day, its month and its year
        assert list(dict.fromkeys(c for c in reached if c in controls)) == controls


@needs_chromium
@pytest.mark.parametrize("path", PAGES)
def test_a_page_shows_its_content_without_javascript(
        site: tuple[str, Browser], client: TestClient, path: str) -> None:
    origin, chromium = site
    rows = Rows(client.get(path, headers={"accept": HTML}).text).rows
    assert rows, "every page of a place, body or person has a table"
    with cut_off_context(chromium, origin, javascript=False) as (context, _):
        page = context.new_page()
        page.goto(f"{origin}{path}")
        assert page.locator("main h1").inner_text() == page.title().removesuffix(" · Bevoegd")
        assert page.locator("main table tr").count() == len(rows)
        shown = page.locator("main table a").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))")
        assert shown == [href for row in rows for href in row]


def test_a_regional_decision_shows_on_every_member_page_with_the_members_of_its_date(
        client: TestClient) -> None:
    regional = client.get(f"/gemeenten/{REGION}.json").json()["own"]["edges"]
    municipalities = [edge["node"]["code"] for edge in api(
        client, "{ jurisdictions(first: 100, kind: \"municipality\") { edges { node { code } } } }"
    )["jurisdictions"]["edges"]]
    pages = {code: Rows(client.get(f"/gemeenten/{code}", headers={"accept": HTML}).text,
                        "regionaal") for code in municipalities}
    joined_later = set()
    for decision in (edge["node"] for edge in regional):
        members = {m["code"] for m in api(
            client, "query($on: Date) { members(region: \"drechtsteden\", on: $on) { code } }",
            on=decision["takenOn"])["members"]}
        assert members, decision["code"]
        for code, rows in pages.items():
            row = rows.row_of(decision["code"])
            if code in members:
                assert row is not None, (code, decision["code"])
                assert members_linked(row) == members
            else:
                assert row is None, (code, decision["code"])
                joined_later.add(code)
    assert joined_later == {"hardinxveld-giessendam"}, "the demo's member that joined in 2018"


def test_a_municipality_shows_its_own_decisions_grants_and_commissions(
        client: TestClient) -> None:
    answer = client.get("/gemeenten/dordrecht.json").json()
    page = client.get("/gemeenten/dordrecht", headers={"accept": HTML}).text
    own = [edge["node"] for edge in answer["own"]["edges"]]
    assert own and all(d["jurisdiction"]["code"] == "dordrecht" for d in own)
    grants = [edge["node"] for edge in answer["grants"]["edges"]]
    assert {g["kind"] for g in grants} >= {"DELEGATION", "MANDATE"}
    for grant in grants:
        if grant["sourceDecision"]:
            assert f'href="/besluiten/{grant["sourceDecision"]["code"]}"' in page
    commissions = [edge["node"]["code"] for edge in answer["commissions"]["edges"]]
    everyone = [edge["node"]["code"] for edge in api(
        client, "{ commissions(first: 100) { edges { node { code } } } }"
    )["commissions"]["edges"]]
    assert sorted(commissions) == sorted(everyone), "the region gave every commission of the demo"
    assert "<svg" in page and 'aria-hidden="true"' in page


@pytest.mark.parametrize("path", FEEDS)
def test_a_feed_is_atom_with_entries_linking_to_the_items(client: TestClient, path: str) -> None:
    response = client.get(f"{path}.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    links = [urlsplit(str(entry.find(f"{ATOM}link").get("href")))  # type: ignore[union-attr]
             for entry in feed.findall(f"{ATOM}entry")]
    assert links
    answer = client.get(f"{path}.json").json()
    if path == "/opdrachten":
        page = client.get(path, headers={"accept": HTML}).text
        expected = {edge["node"]["code"] for edge in answer["commissions"]["edges"]}
        assert {link.fragment for link in links} == expected
        assert all(link.path == "/opdrachten" and f'id="{link.fragment}"' in page
                   for link in links)
    else:
        decisions = answer["decisions"] if "decisions" in answer else {
            "edges": answer["regional"]["edges"] + answer["own"]["edges"]}
        assert {link.path for link in links} == {
            f"/besluiten/{edge['node']['code']}" for edge in decisions["edges"]}


def test_a_body_shows_its_life_seats_and_grants(client: TestClient) -> None:
    answer = client.get("/organen/drechtraad.json").json()
    assert answer["body"]["abolishedOn"] == "2022-01-01"
    assert answer["body"]["successor"]["code"] == "algemeen-bestuur-grd"
    page = client.get("/organen/drechtraad", headers={"accept": HTML}).text
    for seat in answer["seats"]:
        assert f'href="/personen/{quote(seat["holder"])}"' in page
    dsb = client.get("/organen/dsb.json").json()
    assert dsb["given"]["edges"] and dsb["held"]["edges"]
    assert all(e["node"]["grantor"]["code"] == "dsb" for e in dsb["given"]["edges"])
    assert all(e["node"]["grantee"]["code"] == "dsb" for e in dsb["held"]["edges"])


def test_a_person_shows_every_seat_they_held(client: TestClient) -> None:
    answer = client.get(f"/personen/{quote(PERSON)}.json").json()
    held = {(s["body"]["code"], s["seat"]) for s in answer["seats"]}
    assert held == {("drechtraad", "voorzitter"), ("dsb", "voorzitter"),
                    ("algemeen-bestuur-grd", "voorzitter")}


def test_the_commission_filters_round_trip_through_the_address(client: TestClient) -> None:
    overdue = client.get("/opdrachten.json?status=te-laat&bindend=nee").json()
    expected = api(client, "{ commissions(first: 100, state: OVERDUE, binding: false)"
                           " { edges { node { code } } } }")["commissions"]["edges"]
    assert [e["node"]["code"] for e in overdue["commissions"]["edges"]] == [
        e["node"]["code"] for e in expected]
    assert expected, "the demo has an overdue commission"
    page = client.get("/opdrachten?status=te-laat&bindend=nee", headers={"accept": HTML}).text
    assert '<option value="te-laat" selected>' in page
    assert '<option value="nee" selected>' in page
    assert client.get("/opdrachten?status=misschien").status_code == 400
    assert client.get("/opdrachten?op=gisteren").status_code == 400


def test_the_data_quality_page_counts_what_the_register_holds(client: TestClient) -> None:
    answer = client.get("/data-kwaliteit.json").json()
    counted = {row["body"]["code"]: row for row in answer["decisionsPerBody"]}
    for edge in answer["bodies"]["edges"]:
        code = edge["node"]["code"]
        taken = sorted(e["node"]["takenOn"] for e in api(
            client, "query($b: String) { decisions(first: 100, body: $b)"
                    " { edges { node { takenOn } } } }", b=code)["decisions"]["edges"])
        row = counted.get(code)
        if taken:
            assert row is not None, code
            assert (row["decisions"], row["firstTakenOn"], row["lastTakenOn"]) == (
                len(taken), taken[0], taken[-1])
        else:
            assert row is None, code


@pytest.mark.parametrize("path", ["/gemeenten/onbekend", "/organen/onbekend",
                                  "/personen/Niemand", "/gemeenten/onbekend.atom"])
def test_an_unknown_code_is_not_found(client: TestClient, path: str) -> None:
    assert client.get(path, headers={"accept": HTML}).status_code == 404
    assert client.get(path.removesuffix(".atom") + ".json").status_code == 404


def test_seats_are_asked_of_a_body_or_a_holder(client: TestClient) -> None:
    body = client.post("/graphql", json={"query": "{ seats { seat } }"}).json()
    assert body["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"
