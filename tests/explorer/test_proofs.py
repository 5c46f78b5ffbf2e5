"""The proof check in the visitor's browser (static/verify.js), on the demo log signed with the
test key: a decision's events check out against the signed checkpoint, and a kept checkpoint
against the current tree; every tampered fixture (a changed leaf or tile, a changed root, a bad
signature, a forked or foreign checkpoint) is "ongeldig" with its reason. The fixtures are the
server's own bytes, changed on their way to the browser (Playwright routes), made afresh from the
log on every run; and the vectors shipped for any implementer in docs/vectors/explorer/
(tests/explorer_vectors.py), each served from its folder in place of the server's log. The
repository's RFC 9162 code only cross-checks what the page reports; the browser runs none of it.
And /controle: its checkpoints, key and downloads, without axe violations, without a request to
another origin."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, expect
from starlette.requests import Request
from starlette.testclient import TestClient

from api.explorer.pages import HEADERS, TEMPLATES
from ledger.transparency.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ledger.transparency.leaf import EventLeaf
from ledger.transparency.merkle import ProofFailed, verify_consistency
from ledger.transparency.note import Signer
from ledger.transparency.tiles import decode_entry_bundle, encode_entry_bundle
from projections.checkpoints import CHECKPOINTS_TABLE
from projections.queries import log
from tests.explorer_site import (
    SIGNER,
    api,
    axe_violations,
    cut_off_context,
    demo_database,
    needs_chromium,
)
from tests.explorer_vectors import CASE_FILE, FOLDER
from tests.read_models import pool_on

pytestmark = pytest.mark.database

EARLIER_BY = 37
"""How many events the earlier checkpoint the tests keep lacks of the current tree."""
EDGE_SIZES = (1, 2, 3, 4, 7, 8, 255, 256, 257, 511, 512, 513)
"""Tree sizes where proofs change shape: powers of two, and the edges of tiles of 256 hashes."""
EDGE_LEAVES = (0, 1, 254, 255, 256, 511, 512)
"""Leaves at the edges of tiles and of subtrees."""


@dataclass(frozen=True)
class Log:
    """The demo log as the tests know it: its current checkpoint, and an earlier one the server
    also signed (a visitor may have kept it)."""

    url: str
    current: Checkpoint
    earlier: Checkpoint
    earlier_note: str
    forked_root: bytes
    """The root of another tree, which a forked checkpoint of the earlier size signs."""
    consistency: list[bytes]
    """The consistency proof from the earlier tree to the current one, for the cross-check."""
    roots: dict[int, bytes]
    """The reference's root of the tree of each of EDGE_SIZES."""
    positions: dict[int, int]
    """The position each of EDGE_LEAVES names, read from the entry bundles by the reference."""


def _signed(checkpoint: Checkpoint, signer: Signer = SIGNER) -> str:
    return sign_checkpoint(checkpoint, signer).decode()


async def _known(url: str) -> Log:
    """The demo log's current tree, with an earlier checkpoint signed and kept as the server
    would have."""
    async with pool_on(url, max_size=2) as pool, pool.acquire() as conn:
        size, root = await log.tree_head(conn)
        earlier = Checkpoint(SIGNER.name, *await log.tree_head(conn, size - EARLIER_BY))
        note = _signed(earlier)
        await conn.execute(
            f"INSERT INTO {CHECKPOINTS_TABLE} (size, root_hash, note, signed_at)"
            " VALUES ($1, $2, $3, now() - interval '1 day')",
            earlier.size, earlier.root_hash, note)
        _, other = await log.tree_head(conn, earlier.size - 1)
        proof = await log.consistency(conn, earlier.size, size)
        roots = {edge: (await log.tree_head(conn, edge))[1] for edge in EDGE_SIZES}
        positions = {}
        for leaf in EDGE_LEAVES:
            bundle = decode_entry_bundle(await log.bundle(conn, leaf // 256, 1 + leaf % 256) or b"")
            positions[leaf] = EventLeaf.parse(bundle[leaf % 256]).position
        return Log(url, Checkpoint(SIGNER.name, size, root), earlier, note, other, proof, roots,
                   positions)


@pytest.fixture(scope="module")
def demo_log(server_url: str) -> Iterator[Log]:
    for url in demo_database(server_url):
        yield asyncio.run(_known(url))


@pytest.fixture(scope="module")
def demo_url(demo_log: Log) -> str:
    """The demo log's database, the earlier checkpoint kept in it before the app and the server
    start."""
    return demo_log.url


@pytest.fixture(scope="module")
def signer() -> Signer:
    """The test key: the app and `bevoegd serve` sign the log's checkpoints with it."""
    return SIGNER


@dataclass(frozen=True)
class Event:
    """An event of a published decision, as its page names it."""

    position: int
    leaf_index: int


@pytest.fixture(scope="module")
def decision(client: TestClient) -> dict[str, Any]:
    """The newest decision, with its events' places in the log, as Decision.proof gives them."""
    answer = api(client, "{ decisions(first: 1, newestFirst: true) {"
                         " edges { node { code proof { position leafIndex } } } } }")
    return answer["decisions"]["edges"][0]["node"]


@pytest.fixture(scope="module")
def event(decision: dict[str, Any]) -> Event:
    """The newest decision's last event: a leaf near the tree's right edge, where the proof folds
    partial tiles."""
    last = decision["proof"][-1]
    return Event(last["position"], last["leafIndex"])


# /controle, as HTML and JSON --------------------------------------------------------------------


def test_the_check_page_lists_the_signed_checkpoints_newest_first(client: TestClient,
                                                                  demo_log: Log) -> None:
    answer = client.get("/controle.json").json()
    listed = answer["ledger"]["checkpoints"]
    assert [c["size"] for c in listed] == [demo_log.current.size, demo_log.earlier.size]
    assert listed[1]["signedNote"] == demo_log.earlier_note
    page = client.get("/controle", headers={"accept": "text/html"}).text
    assert SIGNER.verifier.text() in page
    for checkpoint in listed:
        assert checkpoint["rootHash"] in page
    assert 'href="/log/checkpoint"' in page and 'href="/log/verifier-key"' in page


def test_the_list_of_checkpoints_takes_a_page_of_1_to_100(client: TestClient,
                                                          demo_log: Log) -> None:
    def checkpoints(first: int) -> dict[str, Any]:
        query = f"{{ ledger {{ checkpoints(first: {first}) {{ size }} }} }}"
        return client.post("/graphql", json={"query": query}).json()
    assert checkpoints(1)["data"]["ledger"]["checkpoints"] == [{"size": demo_log.current.size}]
    assert checkpoints(101)["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"


def test_the_check_page_of_a_position_names_its_leaf(client: TestClient, event: Event) -> None:
    page = client.get(f"/controle?positie={event.position}").text
    assert f'data-position="{event.position}" data-leaf-index="{event.leaf_index}"' in page
    assert client.get("/controle?positie=nul").status_code == 400
    missing = client.get(f"/controle?positie={event.position + 10**9}")
    assert missing.status_code == 404 and "staat (nog) niet in het logboek" in missing.text


# The proof check in the browser ------------------------------------------------------------------

INCLUSION = "form[data-proof-check]"
CONSISTENCY = "form[data-consistency-check]"
Tamper = Callable[[Route, Log, Event], None]


def _changed(route: Route, change: Callable[[bytes], bytes]) -> None:
    route.fulfill(response=(original := route.fetch()), body=change(original.body()))


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


def changed_leaf(route: Route, known: Log, event: Event) -> None:
    """The event's leaf in its bundle with one bit of its content hash flipped."""
    def change(bundle: bytes) -> bytes:
        entries = decode_entry_bundle(bundle)
        at = event.leaf_index % 256
        entries[at] = _flip(entries[at], len(entries[at]) - 1)
        return encode_entry_bundle(entries)
    _changed(route, change)


def moved_leaf(route: Route, known: Log, event: Event) -> None:
    """The event's leaf naming another position."""
    def change(bundle: bytes) -> bytes:
        entries = decode_entry_bundle(bundle)
        at = event.leaf_index % 256
        entries[at] = _flip(entries[at], 8)  # the position's last byte
        return encode_entry_bundle(entries)
    _changed(route, change)


def changed_tile(route: Route, known: Log, event: Event) -> None:
    """A leaf hash of the event's level-0 tile that its proof folds in, changed: the tile's first,
    or the second if the event's leaf is the first."""
    other = 0 if event.leaf_index % 256 else 1
    _changed(route, lambda tile: _flip(tile, other * 32))


def changed_root(route: Route, known: Log, event: Event) -> None:
    """A checkpoint of the same size with another root, signed with the log's own key."""
    other = Checkpoint(SIGNER.name, known.current.size, bytes(32))
    route.fulfill(status=200, content_type="text/plain", body=_signed(other))


def bad_signature(route: Route, known: Log, event: Event) -> None:
    """The current checkpoint with one bit of its signature flipped."""
    def change(note: bytes) -> bytes:
        text, _, line = note.decode().rstrip("\n").rpartition(" ")
        signature = _flip(base64.b64decode(line), 10)
        return f"{text} {base64.b64encode(signature).decode()}\n".encode()
    _changed(route, change)


def foreign_checkpoint(route: Route, known: Log, event: Event) -> None:
    """The current tree, signed by another key under the log's name."""
    other = Signer(SIGNER.name, bytes(32))
    route.fulfill(status=200, content_type="text/plain", body=_signed(known.current, other))


TAMPERED: dict[str, tuple[str, Tamper, str]] = {
    "changed leaf": ("**/log/tile/entries/**", changed_leaf, "het blad of de tegels zijn veranderd"),
    "moved leaf": ("**/log/tile/entries/**", moved_leaf, "hoort bij positie"),
    "changed tile": ("**/log/tile/0/**", changed_tile, "het blad of de tegels zijn veranderd"),
    "changed root": ("**/log/checkpoint", changed_root, "niet naar de ondertekende wortel"),
    "bad signature": ("**/log/checkpoint", bad_signature, "klopt niet met sleutel"),
    "foreign key": ("**/log/checkpoint", foreign_checkpoint, "is niet ondertekend met sleutel"),
}


def _check(page: Page, check: str, button: str) -> str:
    """Presses the button of the check (its form's selector) and waits for its verdict; the
    verdict's text."""
    form = page.locator(check)
    form.get_by_role("button", name=button).click()
    result = form.locator("[data-result]")
    result.locator("strong").wait_for()
    return result.inner_text()


def _open_event(page: Page, origin: str, event: Event) -> None:
    """The check page of the event, once the script has put the server's key in its field."""
    page.goto(f"{origin}/controle?positie={event.position}")
    expect(page.locator("#sleutel-besluit")).not_to_have_value("")


@needs_chromium
def test_an_event_checks_out_against_the_signed_checkpoint(site: tuple[str, Browser],
                                                           demo_log: Log, event: Event) -> None:
    origin, chromium = site
    with cut_off_context(chromium, origin) as (context, cut):
        page = context.new_page()
        _open_event(page, origin, event)
        assert page.locator("#sleutel-besluit").input_value() == SIGNER.verifier.text()
        verdict = _check(page, INCLUSION, "Controleer")
        root = base64.b64encode(demo_log.current.root_hash).decode()
        assert verdict.startswith("Geverifieerd"), verdict
        assert SIGNER.verifier.text() in verdict
        assert f"boom van {demo_log.current.size} gebeurtenissen met wortel {root}" in verdict
        assert f"positie {event.position}" in verdict
        assert cut.refused == []


@needs_chromium
def test_every_event_of_a_decision_checks_out(site: tuple[str, Browser], demo_log: Log,
                                              decision: dict[str, Any]) -> None:
    """The decision's page checks all of the decision's events."""
    origin, chromium = site
    with cut_off_context(chromium, origin) as (context, cut):
        page = context.new_page()
        page.goto(f"{origin}/besluiten/{decision['code']}")
        expect(page.locator("#sleutel-besluit")).not_to_have_value("")
        verdict = _check(page, INCLUSION, "Controleer")
        positions = ", ".join(str(event["position"]) for event in decision["proof"])
        assert verdict.startswith("Geverifieerd"), verdict
        assert f"Alle {len(decision['proof'])} gebeurtenissen (positie {positions}) zitten in " \
               f"de boom van {demo_log.current.size} gebeurtenissen" in verdict
        assert cut.refused == []


@needs_chromium
@pytest.mark.parametrize("name", TAMPERED)
def test_a_tampered_fixture_is_invalid_and_says_why(site: tuple[str, Browser], demo_log: Log,
                                                   event: Event, name: str) -> None:
    origin, chromium = site
    pattern, tamper, reason = TAMPERED[name]
    with cut_off_context(chromium, origin) as (context, cut):
        page = context.new_page()
        page.route(pattern, lambda route: tamper(route, demo_log, event))
        _open_event(page, origin, event)
        verdict = _check(page, INCLUSION, "Controleer")
        assert verdict.startswith("Ongeldig"), verdict
        assert reason in verdict
        assert cut.refused == []


OTHER_KEY = Signer(SIGNER.name, bytes(32)).verifier.text()
KEYS: dict[str, tuple[str, str]] = {
    "another key": (OTHER_KEY, f"is niet ondertekend met sleutel {OTHER_KEY}"),
    "a wrong key id": (OTHER_KEY.replace(OTHER_KEY.split("+")[1], "00000000"),
                       "hoort niet bij deze sleutel"),
    "no key": ("geen sleutel", "is geen sleutel van een ondertekende notitie"),
}


@needs_chromium
@pytest.mark.parametrize("name", KEYS)
def test_the_visitor_s_own_key_is_the_one_checked(site: tuple[str, Browser], event: Event,
                                                  name: str) -> None:
    origin, chromium = site
    key, reason = KEYS[name]
    with cut_off_context(chromium, origin) as (context, _):
        page = context.new_page()
        _open_event(page, origin, event)
        page.locator("#sleutel-besluit").fill(key)
        verdict = _check(page, INCLUSION, "Controleer")
        assert verdict.startswith("Ongeldig") and reason in verdict, verdict


@needs_chromium
def test_without_ed25519_the_check_points_to_the_command_line(site: tuple[str, Browser],
                                                              event: Event) -> None:
    origin, chromium = site
    with cut_off_context(chromium, origin) as (context, _):
        context.add_init_script("crypto.subtle.importKey = () => Promise.reject("
                                "new DOMException('Ed25519', 'NotSupportedError'));")
        page = context.new_page()
        _open_event(page, origin, event)
        verdict = _check(page, INCLUSION, "Controleer")
        assert verdict.startswith("Niet gecontroleerd") and "bevoegd verify" in verdict


@needs_chromium
def test_without_javascript_the_positions_and_the_command_line_show(
        site: tuple[str, Browser], event: Event) -> None:
    origin, chromium = site
    with cut_off_context(chromium, origin, javascript=False) as (context, _):
        page = context.new_page()
        page.goto(f"{origin}/controle?positie={event.position}")
        section = page.locator("section.proof-check")
        assert section.get_by_role("link", name=str(event.position)).is_visible()
        assert section.get_by_text("bevoegd verify --key SLEUTEL").is_visible()
        assert not page.locator(INCLUSION).is_visible()
        assert not page.locator(CONSISTENCY).is_visible()


# A checkpoint kept from earlier, against the current tree ---------------------------------------


def kept_earlier(known: Log) -> str:
    return known.earlier_note


def kept_current(known: Log) -> str:
    return _signed(known.current)


def forked_earlier(known: Log) -> str:
    return _signed(Checkpoint(SIGNER.name, known.earlier.size, known.forked_root))


def forked_current(known: Log) -> str:
    return _signed(Checkpoint(SIGNER.name, known.current.size, known.forked_root))


def longer(known: Log) -> str:
    return _signed(Checkpoint(SIGNER.name, known.current.size + 5, known.forked_root))


def changed_unsigned(known: Log) -> str:
    """The earlier checkpoint with its size changed after signing."""
    return known.earlier_note.replace(f"\n{known.earlier.size}\n",
                                      f"\n{known.earlier.size + 1}\n", 1)


def other_key(known: Log) -> str:
    return _signed(known.earlier, Signer(SIGNER.name, bytes(32)))


KEPT: dict[str, tuple[Callable[[Log], str], str]] = {
    "earlier": (kept_earlier, "Geverifieerd"),
    "current": (kept_current, "Geverifieerd"),
    "forked earlier": (forked_earlier, "de geschiedenis is herschreven of het logboek is gevorkt"),
    "forked current": (forked_current, "verschillende wortels: het logboek is gevorkt"),
    "longer": (longer, "het logboek is ingekort"),
    "changed after signing": (changed_unsigned, "klopt niet met sleutel"),
    "another key": (other_key, "is niet ondertekend met sleutel"),
}


def test_the_reference_agrees_on_the_kept_checkpoints(demo_log: Log) -> None:
    """The repository's RFC 9162 code, as a cross-check: the earlier checkpoint is consistent
    with the current tree, the forked one is not."""
    def consistent(note: str) -> bool:
        kept = open_checkpoint(note.encode(), SIGNER.name, [SIGNER.verifier])
        try:
            verify_consistency(kept.size, demo_log.current.size, kept.root_hash,
                               demo_log.current.root_hash, demo_log.consistency)
        except ProofFailed:
            return False
        return True
    assert consistent(kept_earlier(demo_log))
    assert not consistent(forked_earlier(demo_log))


@needs_chromium
@pytest.mark.parametrize("name", KEPT)
def test_a_kept_checkpoint_is_held_against_the_current_tree(site: tuple[str, Browser],
                                                            demo_log: Log, name: str) -> None:
    origin, chromium = site
    kept, expected = KEPT[name]
    with cut_off_context(chromium, origin) as (context, cut):
        page = context.new_page()
        page.goto(f"{origin}/controle")
        page.get_by_role("textbox", name="Bewaarde stand").fill(kept(demo_log))
        verdict = _check(page, CONSISTENCY, "Vergelijk")
        assert expected in verdict
        if expected == "Geverifieerd":
            assert verdict.startswith("Geverifieerd")
            root = base64.b64encode(demo_log.current.root_hash).decode()
            assert f"boom van {demo_log.current.size} gebeurtenissen (wortel {root})" in verdict
        else:
            assert verdict.startswith("Ongeldig"), verdict
        assert cut.refused == []


@needs_chromium
def test_proofs_at_the_edges_of_tiles_and_subtrees_check_out(site: tuple[str, Browser],
                                                             demo_log: Log) -> None:
    """Kept checkpoints of every edge size, and events at every edge leaf, agree with the
    reference's roots: the browser's RFC 9162 and tile arithmetic is the repository's."""
    origin, chromium = site
    with cut_off_context(chromium, origin) as (context, cut):
        page = context.new_page()
        page.goto(f"{origin}/controle")
        for size, root in demo_log.roots.items():
            page.get_by_role("textbox", name="Bewaarde stand").fill(
                _signed(Checkpoint(SIGNER.name, size, root)))
            verdict = _check(page, CONSISTENCY, "Vergelijk")
            assert verdict.startswith("Geverifieerd"), (size, verdict)
            assert f"met de bewaarde boom van {size} gebeurtenissen" in verdict
        for leaf, position in demo_log.positions.items():
            page.goto(f"{origin}/controle?positie={position}")
            expect(page.locator("#sleutel-besluit")).not_to_have_value("")
            verdict = _check(page, INCLUSION, "Controleer")
            assert verdict.startswith("Geverifieerd"), (leaf, verdict)
        assert cut.refused == []


@needs_chromium
def test_the_checks_are_reached_by_keyboard(site: tuple[str, Browser], event: Event) -> None:
    origin, chromium = site
    with cut_off_context(chromium, origin) as (context, _):
        page = context.new_page()
        page.goto(f"{origin}/controle?positie={event.position}")
        page.locator(CONSISTENCY).wait_for()
        reached = set()
        for _ in range(60):
            page.keyboard.press("Tab")
            reached.add(page.evaluate("document.activeElement.textContent.trim()"))
        assert {"Controleer", "Vergelijk"} <= reached


@needs_chromium
@pytest.mark.parametrize("query", ["", "?positie=1"])
def test_the_check_page_is_accessible(site: tuple[str, Browser], query: str) -> None:
    origin, chromium = site
    with cut_off_context(chromium, origin) as (context, cut):
        page = context.new_page()
        page.goto(f"{origin}/controle{query}")
        page.locator(CONSISTENCY).wait_for()  # shown by the script
        assert axe_violations(page) == []
        assert cut.refused == []


# The shipped vectors (docs/vectors/explorer/) ----------------------------------------------------

SHIPPED = sorted(case.name for case in FOLDER.iterdir() if case.is_dir())


def _serve_log(page: Page, origin: str, case: Path) -> None:
    """The page reads /log/ from the case's folder, as if its server held that log."""
    def answer(route: Route) -> None:
        found = case / urlsplit(route.request.url).path.removeprefix("/log/")
        if found.is_file() and found.resolve().is_relative_to(case):
            route.fulfill(status=200, body=found.read_bytes(), content_type="application/octet-stream")
        else:
            route.fulfill(status=404, body="not in this case", content_type="text/plain")
    page.route(f"{origin}/log/**", answer)


SECTION_PAGE = TEMPLATES.from_string(
    '{% extends "base.html" %}{% block content %}{% include "proof_check.html" %}{% endblock %}')
"""A page of the explorer holding only a decision page's proof check, as besluit.html includes
it: the demo database holds none of the vectors' events, so no decision page of its names them."""


def _decision_section(page: Page, origin: str, name: str, events: list[dict[str, int]]) -> None:
    """Opens the proof check of the case's events, under the explorer's headers."""
    address = f"{origin}/proefvectoren/{name}"
    html = SECTION_PAGE.render(title=f"Proefvector {name}", events=events, request=Request(
        {"type": "http", "path": urlsplit(address).path, "query_string": b"", "headers": []}))
    page.route(address, lambda route: route.fulfill(status=200, body=html, headers=HEADERS,
                                                    content_type="text/html; charset=utf-8"))
    page.goto(address)


@needs_chromium
@pytest.mark.parametrize("name", SHIPPED)
def test_the_shipped_vectors_get_their_verdicts(site: tuple[str, Browser], name: str) -> None:
    """Each check of the case's case.json, on the case's files alone, with the log's key as the
    visitor has it from elsewhere: the decision page's check for its events, /controle's for a
    checkpoint kept from earlier."""
    origin, chromium = site
    case = json.loads((FOLDER / name / CASE_FILE).read_text())
    with cut_off_context(chromium, origin) as (context, cut):
        page = context.new_page()
        _serve_log(page, origin, FOLDER / name)
        for check in case["checks"]:
            if check["check"] == "inclusion":
                _decision_section(page, origin, name, check["events"])
                key = page.locator("#sleutel-besluit")
                expect(key).not_to_have_value("")  # the served key in place, to be replaced
                key.fill(case["key"])
                verdict = _check(page, INCLUSION, "Controleer")
            else:
                page.goto(f"{origin}/controle")
                page.get_by_role("textbox", name="Bewaarde stand").fill(check["earlier"])
                page.get_by_role("textbox", name="Sleutel van het logboek").fill(case["key"])
                verdict = _check(page, CONSISTENCY, "Vergelijk")
            assert verdict.startswith(check["verdict"].capitalize()), (check, verdict)
            assert check["reason"] in verdict, (check, verdict)
        assert cut.refused == []


@needs_chromium
def test_a_key_the_visitor_gave_is_not_replaced_by_the_served_one(site: tuple[str, Browser]) -> None:
    """The other-key case's server serves a key of its own; a visitor who pasted the log's key
    before that one arrived keeps theirs, so the check calls the checkpoint 'ongeldig'."""
    origin, chromium = site
    case = json.loads((FOLDER / "other-key" / CASE_FILE).read_text())
    check = case["checks"][0]
    with cut_off_context(chromium, origin) as (context, _):
        page = context.new_page()
        _serve_log(page, origin, FOLDER / "other-key")

        def typed_first(route: Route) -> None:
            page.locator("#sleutel-besluit").fill(case["key"])
            route.fallback()  # then the case's own verifier-key
        page.route(f"{origin}/log/verifier-key", typed_first)
        _decision_section(page, origin, "other-key", check["events"])
        page.wait_for_load_state("networkidle")  # the served key has arrived
        expect(page.locator("#sleutel-besluit")).to_have_value(case["key"])
        verdict = _check(page, INCLUSION, "Controleer")
        assert verdict.startswith("Ongeldig") and check["reason"] in verdict, verdict
