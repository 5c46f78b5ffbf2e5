"""The explorer's decision pages on the demo data set: the register (/besluiten) with its filters
in the address, pages by cursor and an Atom feed; one decision with its votes, members, verdict,
chain and place in the log; the competence map (/bevoegdheden) equal to the API's; and search
(/zoeken). Each is checked against the API's own answer over HTTP, and in a real browser cut
off from the network: no WCAG 2.1 A or AA violations, content without JavaScript, and the
filter form's choices ending up in the address."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import psycopg
import pytest
from playwright.sync_api import Browser
from starlette.testclient import TestClient

from api.explorer.reading import operation
from api.schema.types import LedgerEvent
from ledger.application import EVENTS_TABLE
from tests.explorer_site import (
    ATOM,
    HTML,
    Outline,
    api,
    assert_accessible_on_its_origin,
    cut_off_context,
    needs_chromium,
)

pytestmark = pytest.mark.database

CONTRACT = Path(__file__).resolve().parents[2] / "graphql" / "operations"
REGIONAL = "drechtraad-2013-07-02-begroting-2014"
"""A budget the region's council adopted by a vote, for all its members."""
DELEGATED = "dsb-2013-05-14-beleidsregels-bijzondere-bijstand-dordrecht"
"""Policy rules the regional board made for Dordrecht under Dordrecht's delegation."""
MANDATED = "sdd-2013-06-04-ondermandaatbesluit"
"""A decision the social service's director took under the regional board's mandate."""
DATA_PAGES = [f"/besluiten/{REGIONAL}", f"/besluiten/{DELEGATED}",
              "/besluiten?orgaan=dsb&status=in_force",
              "/bevoegdheden?gemeente=dordrecht&op=2021-06-01",
              "/bevoegdheden?gemeente=drechtsteden&op=2022-06-01&bekend=300",
              "/zoeken?q=begroting"]


def contract(name: str) -> str:
    """The public operation `name` (graphql/operations/NAME.graphql)."""
    return (CONTRACT / f"{name}.graphql").read_text(encoding="utf-8")


def within(reference: Any, value: Any) -> Any:
    """`value` cut down to the shape of `reference`: the fields a page's answer shares with the
    API's answer to a smaller selection."""
    if isinstance(reference, dict) and isinstance(value, dict):
        return {key: within(reference[key], value[key]) for key in reference}
    if isinstance(reference, list) and isinstance(value, list):
        return [within(r, v) for r, v in zip(reference, value, strict=True)]
    return value


def codes(answer: dict[str, Any]) -> list[str]:
    return [edge["node"]["code"] for edge in answer["decisions"]["edges"]]


@pytest.mark.parametrize("path", DATA_PAGES)
def test_a_data_page_is_dutch_titled_skippable_and_has_a_twin(client: TestClient,
                                                              path: str) -> None:
    response = client.get(path, headers={"accept": HTML})
    assert response.status_code == 200
    outline = Outline(response.text)
    assert outline.lang == "nl" and outline.title.endswith("· Bevoegd")
    assert outline.links[0] == "#inhoud"
    address, _, query = path.partition("?")
    by_suffix = client.get(f"{address}.json" + (f"?{query}" if query else ""))
    by_accept = client.get(path, headers={"accept": "application/json"})
    assert by_suffix.status_code == by_accept.status_code == 200
    assert by_suffix.json() == by_accept.json()


def test_the_register_filters_as_the_api_does(client: TestClient) -> None:
    page = client.get("/besluiten.json", params={
        "orgaan": "dsb", "gemeente": "dordrecht", "van": "2013-01-01", "tot": "2013-12-31"})
    reference = api(client, contract("DecisionRegister"), first=100, body="dsb",
                    affecting="dordrecht", takenFrom="2013-01-01", takenUntil="2014-01-01",
                    newestFirst=True)
    expected = [node["code"] for node in reference["decisions"]["nodes"]]
    assert expected, "the demo data set has decisions of the board for Dordrecht in 2013"
    assert codes(page.json()) == expected
    html = client.get("/besluiten", params={"orgaan": "dsb", "gemeente": "dordrecht"},
                      headers={"accept": HTML}).text
    assert 'value="dsb"' in html and 'value="dordrecht"' in html


def test_tot_includes_its_day(client: TestClient) -> None:
    day = client.get("/besluiten.json", params={"van": "2013-07-02", "tot": "2013-07-02"}).json()
    taken = api(client, "{ decisions(first: 100) { nodes { code takenOn } } }")
    assert sorted(codes(day)) == sorted(node["code"] for node in taken["decisions"]["nodes"]
                                        if node["takenOn"] == "2013-07-02")
    assert REGIONAL in codes(day)


def test_the_register_pages_by_cursor_through_every_decision(client: TestClient) -> None:
    everything = api(client, "{ decisions(first: 100, newestFirst: true) { nodes { code } } }")
    seen: list[str] = []
    address = "/besluiten"
    while True:
        twin = client.get(f"{address}.json" if "?" not in address
                          else address.replace("?", ".json?", 1)).json()
        seen += codes(twin)
        info = twin["decisions"]["pageInfo"]
        html = client.get(address, headers={"accept": HTML}).text
        if not info["hasNextPage"]:
            assert 'rel="next"' not in html
            break
        following = f'/besluiten?na={info["endCursor"]}'
        assert f'href="{following}" rel="next"' in html
        address = following
    assert seen == [node["code"] for node in everything["decisions"]["nodes"]]
    assert len(seen) > 25, "the demo data set fills more than one page"


def test_the_register_feed_follows_a_body(client: TestClient) -> None:
    twin = client.get("/besluiten.json?orgaan=dsb").json()
    feed = client.get("/besluiten.atom?orgaan=dsb")
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("application/atom+xml")
    entries = ElementTree.fromstring(feed.content).findall(f"{ATOM}entry")
    assert [entry.findtext(f"{ATOM}id").rsplit("/", 1)[1] for entry in entries] == codes(twin)
    page = client.get("/besluiten?orgaan=dsb", headers={"accept": HTML}).text
    assert 'type="application/atom+xml"' in page and 'href="/besluiten.atom?orgaan=dsb"' in page


@pytest.mark.parametrize(("query", "status", "named"), [
    ("gemeente=nergens", 404, "nergens"), ("orgaan=nergens", 404, "nergens"),
    ("bevoegdheid=nergens", 404, "nergens"), ("van=2013-13-01", 400, "2013-13-01"),
    ("tot=gisteren", 400, "gisteren"), ("status=weg", 400, "weg"), ("na=bogus", 400, "bogus")])
def test_a_bad_filter_says_what_is_wrong(client: TestClient, query: str, status: int,
                                         named: str) -> None:
    page = client.get(f"/besluiten?{query}", headers={"accept": HTML})
    twin = client.get(f"/besluiten.json?{query}")
    assert page.status_code == twin.status_code == status
    assert named in page.text and named in twin.json()["error"]["message"]


@pytest.mark.parametrize(("code", "on"), [(REGIONAL, "2014-01-01"), (DELEGATED, None)])
def test_a_decision_page_holds_the_apis_answer(client: TestClient, code: str,
                                               on: str | None) -> None:
    twin = client.get(f"/besluiten/{code}.json", params={"op": on} if on else {}).json()
    reference = api(client, contract("DecisionWithChain"), code=code, on=on)
    assert within(reference["decision"], twin["decision"]) == reference["decision"]
    proof = api(client, "query($code: String!) { decision(code: $code) "
                        "{ proof { position leafIndex } } }", code=code)
    assert twin["decision"]["history"]["nodes"] == proof["decision"]["proof"]


def test_a_regional_decision_shows_its_votes_members_and_place_in_the_log(
        client: TestClient) -> None:
    twin = client.get(f"/besluiten/{REGIONAL}.json").json()
    taken = twin["decision"]
    members = api(client, "query($on: Date) { members(region: \"drechtsteden\", on: $on) "
                          "{ code name } }", on=taken["takenOn"])["members"]
    assert twin["members"] == members and len(members) > 1
    page = client.get(f"/besluiten/{REGIONAL}", headers={"accept": HTML}).text
    for member in members:
        assert f'href="/gemeenten/{member["code"]}"' in page
    votes = taken["votes"]
    for label, count in (("Voor", votes["votesFor"]), ("Tegen", votes["votesAgainst"]),
                         ("Onthouden", votes["abstentions"]), ("Aanwezig", votes["present"])):
        assert f'<th scope="row">{label}</th><td>{count}</td>' in page
    assert "Afwezig" in page and "gewone meerderheid" in page
    assert '<svg class="vote-chart" aria-hidden="true"' in page
    assert "Bevoegd genomen" in page
    for event in taken["history"]["nodes"]:
        assert f'href="/controle?positie={event["position"]}"' in page


def test_a_delegated_decision_shows_its_chain_link_by_link(client: TestClient) -> None:
    taken = client.get(f"/besluiten/{DELEGATED}.json").json()["decision"]
    page = client.get(f"/besluiten/{DELEGATED}", headers={"accept": HTML}).text
    chain = page[page.index("Bevoegdheidsketen"):page.index('id="controle-titel"')]
    kinds = [link["kind"] for link in taken["chain"]]
    assert kinds[0] == "ATTRIBUTION" and len(kinds) > 1
    at = 0
    for link in taken["chain"]:
        at = chain.index(f'href="/organen/{link["grantee"]["code"]}"', at)
        if link["sourceDecision"]:
            source = link["sourceDecision"]
            assert f'href="/besluiten/{source["code"]}"' in chain
            assert f'href="/controle?positie={source["recordedPosition"]}"' in chain
    assert chain.index(f'href="/organen/{taken["body"]["code"]}"', at) > 0
    assert "geen stemming vastgelegd" in page


def test_a_decision_under_mandate_is_taken_in_the_holders_name(client: TestClient) -> None:
    taken = client.get(f"/besluiten/{MANDATED}.json").json()["decision"]
    kinds = [link["kind"] for link in taken["chain"]]
    assert kinds[-1] == "MANDATE"
    holder = [link for link in taken["chain"] if link["kind"] != "MANDATE"][-1]["grantee"]
    assert holder["code"] != taken["body"]["code"]
    page = client.get(f"/besluiten/{MANDATED}", headers={"accept": HTML}).text
    assert f'namens <a href="/organen/{holder["code"]}">{holder["name"]}</a>' in page
    delegated = client.get(f"/besluiten/{DELEGATED}", headers={"accept": HTML}).text
    assert "namens" not in delegated


@pytest.mark.parametrize("asked", [
    {"gemeente": "dordrecht", "op": "2021-06-01"},
    {"gemeente": "drechtsteden", "op": "2022-06-01"},
    {"gemeente": "dordrecht", "op": "2014-06-01", "bekend": "200"}])
def test_the_competence_map_is_the_apis(client: TestClient, asked: dict[str, str]) -> None:
    twin = client.get("/bevoegdheden.json", params=asked).json()
    known_at = int(asked["bekend"]) if "bekend" in asked else None
    assert twin == api(client, operation("CompetenceMap"), jurisdiction=asked["gemeente"],
                       on=asked["op"], knownAt=known_at, first=100, after=None)
    rows = twin["competenceMap"]["edges"]
    assert rows, "the demo data set has competences held for the jurisdiction"
    page = client.get("/bevoegdheden", params=asked, headers={"accept": HTML}).text
    body = page[page.index("<tbody>"):page.index("</tbody>")]
    assert body.count("<tr>") == len(rows)
    for row in (edge["node"] for edge in rows):
        assert (f'href="/besluiten?bevoegdheid={row["competence"]["code"]}&amp;gemeente='
                f'{asked["gemeente"]}"') in body
        assert f'href="/organen/{row["body"]["code"]}"' in body


def test_the_competence_map_as_known_earlier_is_another(client: TestClient) -> None:
    asked = {"gemeente": "dordrecht", "op": "2014-06-01"}
    now = client.get("/bevoegdheden.json", params=asked).json()
    then = client.get("/bevoegdheden.json", params=asked | {"bekend": "200"}).json()
    assert now["competenceMap"] != then["competenceMap"], "grants were recorded after 200"
    page = client.get("/bevoegdheden", params=asked | {"bekend": "200"},
                      headers={"accept": HTML}).text
    assert "zoals bekend op positie 200" in page and 'value="200"' in page


def test_without_a_municipality_the_map_asks_for_one(client: TestClient) -> None:
    twin = client.get("/bevoegdheden.json").json()
    page = client.get("/bevoegdheden", headers={"accept": HTML}).text
    assert twin["jurisdictions"]["nodes"]
    for jurisdiction in twin["jurisdictions"]["nodes"]:
        assert f'<option value="{jurisdiction["code"]}">' in page
        assert f'href="/bevoegdheden?gemeente={jurisdiction["code"]}&amp;op=' in page


def test_a_bad_map_address_says_what_is_wrong(client: TestClient) -> None:
    assert client.get("/bevoegdheden?gemeente=nergens").status_code == 404
    assert client.get("/bevoegdheden?gemeente=dordrecht&op=morgen").status_code == 400
    assert client.get("/bevoegdheden?gemeente=dordrecht&bekend=-1").status_code == 400
    assert client.get("/bevoegdheden?gemeente=dordrecht&bekend=999999").status_code == 400


def test_search_goes_to_a_decision_by_its_code_or_position(client: TestClient) -> None:
    taken = client.get(f"/besluiten/{DELEGATED}.json").json()["decision"]
    for words in (DELEGATED, DELEGATED.upper(), str(taken["history"]["nodes"][-1]["position"])):
        found = client.get("/zoeken", params={"q": words}, headers={"accept": HTML},
                           follow_redirects=False)
        assert found.status_code == 303
        assert found.headers["location"] == f"/besluiten/{DELEGATED}"


def test_search_goes_to_a_decision_by_an_events_hash(client: TestClient, demo_url: str) -> None:
    """The hash of one of its events in the chain, whole or its first digits, as `bevoegd
    history` shows them (read here from the database: the public gets no hash material)."""
    taken = client.get(f"/besluiten/{DELEGATED}.json").json()["decision"]
    position = taken["history"]["nodes"][0]["position"]
    with psycopg.connect(demo_url) as conn:
        row = conn.execute(f"SELECT encode(event_hash, 'hex') FROM {EVENTS_TABLE}"
                           " WHERE notification_id = %s", (position,)).fetchone()
    assert row is not None
    for words in (row[0], row[0][:16], row[0][:16].upper()):
        found = client.get("/zoeken", params={"q": words}, headers={"accept": HTML},
                           follow_redirects=False)
        assert found.status_code == 303, words
        assert found.headers["location"] == f"/besluiten/{DELEGATED}"
    listed = client.get("/zoeken.json", params={"q": row[0][:16]}).json()
    assert [event["position"] for event in listed["hashed"]] == [position]


def test_search_goes_to_a_decision_by_a_leaf_hash(client: TestClient) -> None:
    """The hash of one of its events' leaves in the tree, in base64, as a proof gives it."""
    taken = client.get(f"/besluiten/{DELEGATED}.json").json()["decision"]
    position = taken["history"]["nodes"][0]["position"]
    proof = api(client, "query($p: Int!) { inclusionProof(position: $p) { leafHash } }",
                p=position)["inclusionProof"]
    found = client.get("/zoeken", params={"q": proof["leafHash"]}, headers={"accept": HTML},
                       follow_redirects=False)
    assert found.status_code == 303
    assert found.headers["location"] == f"/besluiten/{DELEGATED}"


def test_search_finds_a_person_by_part_of_their_name(client: TestClient) -> None:
    holder = "Wouter Kolff (burgemeester van Dordrecht)"
    for words in ("kolff", "KOLFF", "Wouter"):
        found = client.get("/zoeken.json", params={"q": words}).json()
        assert holder in {seat["holder"] for seat in found["persons"]}, words
        page = client.get("/zoeken", params={"q": words}, headers={"accept": HTML})
        assert page.status_code == 200
        # the one thing found is shown at once, or listed among others
        assert page.url.path == f"/personen/{holder}" or \
            f'href="/personen/{quote(holder, safe="")}"' in page.text
    assert "persons" not in client.get("/zoeken.json", params={"q": "ko"}).json()
    too_few = client.post("/graphql", json={"query": '{ seats(holderNamed: " ko ") { holder } }'})
    assert too_few.json()["errors"][0]["extensions"] == {"code": "INVALID_ARGUMENT",
                                                         "argument": "holderNamed"}


def test_search_lists_what_a_code_or_name_names(client: TestClient) -> None:
    body = client.get("/zoeken", params={"q": "dsb"}, headers={"accept": HTML}).text
    assert 'href="/organen/dsb"' in body
    named = client.get("/zoeken", params={"q": "Dordrecht"}, headers={"accept": HTML}).text
    assert 'href="/gemeenten/dordrecht"' in named
    competence = client.get("/zoeken", params={"q": "participatiewet-uitvoering"},
                            headers={"accept": HTML}, follow_redirects=False)
    assert competence.status_code == 303
    assert competence.headers["location"] == "/besluiten?bevoegdheid=participatiewet-uitvoering"


def test_search_finds_words_in_decisions(client: TestClient) -> None:
    twin = client.get("/zoeken.json", params={"q": "begroting"}).json()
    reference = api(client, contract("DecisionRegister"), first=20, text="begroting",
                    newestFirst=True)
    assert codes(twin) == [node["code"] for node in reference["decisions"]["nodes"]]
    page = client.get("/zoeken", params={"q": "begroting"}, headers={"accept": HTML}).text
    for code in codes(twin):
        assert f'href="/besluiten/{code}"' in page


def test_a_position_of_another_record_is_listed(client: TestClient) -> None:
    first = api(client, "query($id: ID!) { node(id: $id) { ... on LedgerEvent { type recordKind "
                        "recordCode } } }", id=LedgerEvent.global_id("1"))["node"]
    assert first["recordKind"] != "decision", "the demo data set starts with its structure"
    page = client.get("/zoeken", params={"q": "1"}, headers={"accept": HTML},
                      follow_redirects=False)
    assert page.status_code == 200
    assert f"Positie 1 in het logboek: {first['type']} van {first['recordCode']}" in page.text


def test_search_knows_the_signed_root_and_says_what_hashes_it_finds(
        client: TestClient) -> None:
    checkpoint = api(client, "{ ledger { checkpoint { rootHash } } }")["ledger"]["checkpoint"]
    root = client.get("/zoeken", params={"q": checkpoint["rootHash"]}, headers={"accept": HTML},
                      follow_redirects=False)
    assert root.status_code == 303 and root.headers["location"] == "/controle"
    other = client.get("/zoeken", params={"q": "ab" * 32}, headers={"accept": HTML})
    assert other.status_code == 200 and "Niets gevonden" in other.text
    assert "de hash van een gebeurtenis in de keten" in other.text


@needs_chromium
@pytest.mark.parametrize("path", ["/besluiten", "/bevoegdheden", "/zoeken", *DATA_PAGES])
def test_a_page_in_a_browser_is_accessible_and_works_without_javascript(
        site: tuple[str, Browser], client: TestClient, path: str) -> None:
    origin, chromium = site
    served = client.get(path, headers={"accept": HTML}).text
    assert_accessible_on_its_origin(chromium, origin, path)
    with cut_off_context(chromium, origin, "phone", javascript=False) as (context, cut):
        page = context.new_page()
        page.goto(f"{origin}{path}")
        assert page.locator("h1").inner_text() == Outline(served).title.removesuffix(
            " · Bevoegd")
        for heading in re.findall(r"<h2[^>]*>([^<]+)</h2>", served):
            assert page.get_by_role("heading", name=heading, exact=True).is_visible()
        assert page.locator("main tr").count() == served.count("<tr>")
        assert cut.refused == []


@needs_chromium
def test_the_register_form_puts_its_filters_in_the_address(site: tuple[str, Browser],
                                                          client: TestClient) -> None:
    origin, chromium = site
    with cut_off_context(chromium, origin, javascript=False) as (context, cut):
        page = context.new_page()
        page.goto(f"{origin}/besluiten")
        page.get_by_label("Gemeente of regio (code)").fill("dordrecht")
        page.get_by_label("Orgaan (code)").fill("dsb")
        page.get_by_label("Genomen vanaf").fill("2013-01-01")
        page.get_by_label("Genomen tot en met").fill("2013-12-31")
        page.get_by_label("Status").select_option("in_force")
        page.get_by_role("button", name="Filter").click()
        page.wait_for_url("**/besluiten?**")
        asked = parse_qs(urlsplit(page.url).query)
        assert {name: asked[name] for name in ("gemeente", "orgaan", "van", "tot", "status")} == {
            "gemeente": ["dordrecht"], "orgaan": ["dsb"], "van": ["2013-01-01"],
            "tot": ["2013-12-31"], "status": ["in_force"]}
        shown = page.locator("main tbody tr td:nth-child(2) a").evaluate_all(
            "links => links.map(a => decodeURIComponent(a.pathname.split('/').pop()))")
        twin = client.get("/besluiten.json", params={name: values[0] for name, values
                                                     in asked.items()}).json()
        assert shown == codes(twin) and shown
        assert page.get_by_label("Orgaan (code)").input_value() == "dsb"
        assert cut.refused == []


@needs_chromium
def test_the_map_form_puts_its_choice_in_the_address(site: tuple[str, Browser]) -> None:
    origin, chromium = site
    with cut_off_context(chromium, origin, javascript=False) as (context, _):
        page = context.new_page()
        page.goto(f"{origin}/bevoegdheden")
        page.get_by_label("Gemeente of regio").select_option("dordrecht")
        page.get_by_label("Op datum").fill("2021-06-01")
        page.get_by_role("button", name="Toon bevoegdheden").click()
        page.wait_for_url("**/bevoegdheden?**")
        asked = parse_qs(urlsplit(page.url).query)
        assert asked["gemeente"] == ["dordrecht"] and asked["op"] == ["2021-06-01"]
        assert "Gemeente Dordrecht" in page.locator("h1").inner_text()
