"""The explorer's pages of the decision register (/besluiten), one decision (/besluiten/{code}),
the competence map (/bevoegdheden) and search (/zoeken).

Every filter is a parameter of the address's query string, so that a filtered view is a link
anyone can keep or send; an empty field of a submitted form counts as no filter."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.routing import BaseRoute

from api.explorer.feeds import FeedEntry
from api.explorer.pages import Shown, page
from api.explorer.reading import found, read
from api.report.words import LABELS, long_date
from api.schema.arguments import EVENT_HASH, LEAF_HASH
from api.schema.types import Body, Competence, Decision, DecisionStatus, Jurisdiction, LedgerEvent
from projections.errors import InvalidArgument, ReadError, UnknownRecord

REGISTER_PAGE = 25
"""Decisions on one page of the register: a council's month, about."""
MAP_PAGE = 100
"""Rows of the competence map on one page: the API's most."""
FOUND_DECISIONS = 20
"""Decisions a search lists from its full-text match."""

REGISTER_FILTERS = {"gemeente": "affecting", "orgaan": "body", "bevoegdheid": "competence",
                    "q": "text"}
"""The register's filters that name a record or hold text: the address's parameter and the
argument of the API's `decisions` it becomes."""
CODE_FILTERS = ("gemeente", "orgaan", "bevoegdheid")
"""The filters that hold a code: lower case, as every code is."""
NOUNS = {"affecting": "gemeente", "body": "orgaan", "competence": "bevoegdheid",
         "jurisdiction": "gemeente", "code": "besluit",
         "knownAt": "positie in het logboek", "after": "vervolgpagina (na)"}
"""What each argument of the API names, in the words of the page, for saying what the address
got wrong."""
FILTER_WORDS = {"gemeente": "gemeente", "orgaan": "orgaan", "bevoegdheid": "bevoegdheid",
                "q": "tekst", "van": "van", "tot": "tot en met", "status": "status"}
"""The register's filters as its title names them."""
RECORD_PAGES = {"decision": "/besluiten/{}", "body": "/organen/{}", "jurisdiction": "/gemeenten/{}",
                "competence": "/besluiten?bevoegdheid={}"}
"""Where the explorer shows a record of each kind the log's events belong to."""


def _given(request: Request, name: str) -> str | None:
    value = request.query_params.get(name, "").strip()
    return value or None


def _day(request: Request, name: str) -> date | None:
    value = _given(request, name)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidArgument(f"‘{value}’ bij ‘{name}’ is geen datum: schrijf jjjj-mm-dd, "
                              f"bijvoorbeeld 2013-07-02.") from None


def _position(request: Request, name: str) -> int | None:
    value = _given(request, name)
    if value is None:
        return None
    if not value.isdigit():
        raise InvalidArgument(f"‘{value}’ bij ‘{name}’ is geen positie in het logboek: "
                              f"schrijf een geheel getal.")
    return int(value)


def _status(request: Request) -> str | None:
    value = _given(request, "status")
    if value is None:
        return None
    try:
        return DecisionStatus(value).name
    except ValueError:
        raise InvalidArgument(f"‘{value}’ is geen status van een besluit.") from None


async def _read(request: Request, name: str, variables: dict[str, Any]) -> dict[str, Any]:
    """`read`, saying in the page's words which part of the address names nothing or is wrong."""
    try:
        return await read(request, name, variables)
    except ReadError as wrong:
        noun = NOUNS.get(wrong.field or "")
        if noun is None:
            raise
        value = variables.get(str(wrong.field))
        message = (f"Er is geen {noun} ‘{value}’, of die is niet openbaar."
                   if isinstance(wrong, UnknownRecord) else f"‘{value}’ is geen geldige {noun}.")
        raise type(wrong)(message, field=wrong.field) from wrong


def _address(path: str, parameters: dict[str, str | None]) -> str:
    """The address of `path` with the given parameters (those not None) as its query string."""
    given = {name: value for name, value in parameters.items() if value is not None}
    return f"{path}?{urlencode(given)}" if given else path


async def register(request: Request, params: dict[str, str]) -> Shown:
    """/besluiten: the decision register, newest first, filtered by the address."""
    van, tot = _day(request, "van"), _day(request, "tot")
    filters = {name: _given(request, name) for name in (*REGISTER_FILTERS, "van", "tot", "status")}
    for name in CODE_FILTERS:  # codes are lower case; a typed name often is the code
        filters[name] = filters[name] and filters[name].lower()
    variables = {argument: filters[name] for name, argument in REGISTER_FILTERS.items()} | {
        "first": REGISTER_PAGE, "after": _given(request, "na"), "status": _status(request),
        "takenFrom": van and van.isoformat(),
        # the form's `tot` includes its day; the API's period is half-open
        "takenUntil": tot and (tot + timedelta(days=1)).isoformat()}
    answer = await _read(request, "DecisionRegister", variables)
    decisions = answer["decisions"]
    named = filters | {"status": filters["status"] and LABELS["nl"][filters["status"]].lower()}
    chosen = "; ".join(f"{FILTER_WORDS[name]} {value}" for name, value in named.items() if value)
    title = f"Besluiten ({chosen})" if chosen else "Besluiten"
    if variables["after"]:
        title += ", vervolg"
    more = decisions["pageInfo"]
    return Shown("besluiten.html", title, answer, extra={
        "filters": filters, "statuses": [status.value for status in DecisionStatus],
        "first_page": _address("/besluiten", filters) if variables["after"] else None,
        "next_page": (_address("/besluiten", filters | {"na": more["endCursor"]})
                      if more["hasNextPage"] else None),
        "feed": _address("/besluiten.atom", filters)},
        feed=[FeedEntry(f"/besluiten/{node['code']}", node["title"],
                        date.fromisoformat(node["publishedOn"] or node["takenOn"]),
                        node["summary"] or "")
              for node in (edge["node"] for edge in decisions["edges"])])


async def decision(request: Request, params: dict[str, str]) -> Shown:
    """/besluiten/{code}: one decision, its votes, verdict and chain, and its place in the log.
    A regional decision also shows the region's members on the day it was taken."""
    on, known_at = _day(request, "op"), _position(request, "bekend")
    answer = await _read(request, "Decision", {"code": params["code"], "knownAt": known_at,
                                               "on": on and on.isoformat()})
    taken = found(answer["decision"], f"Besluit ‘{params['code']}’")
    members = None
    if taken["jurisdiction"]["kind"] == "REGION" and taken["takenOn"]:
        members = (await _read(request, "RegionMembers", {
            "region": taken["jurisdiction"]["code"], "on": taken["takenOn"],
            "knownAt": known_at}))["members"]
    return Shown("besluit.html", taken["title"], answer | {"members": members})


async def competence_map(request: Request, params: dict[str, str]) -> Shown:
    """/bevoegdheden: who may decide what for a jurisdiction on a date (`op`, today if not
    given), as the ledger knew it at position `bekend`; without `gemeente`, the jurisdictions to
    choose from."""
    on = (_day(request, "op") or date.today()).isoformat()
    known_at = _position(request, "bekend")
    after = _given(request, "na")
    jurisdiction = _given(request, "gemeente")
    if jurisdiction is None:
        answer = await _read(request, "Jurisdictions", {"first": MAP_PAGE, "after": after})
        more = answer["jurisdictions"]["pageInfo"]
        return Shown("bevoegdheden_kiezen.html", "Bevoegdheden", answer, extra={
            "on": on, "next_page": (_address("/bevoegdheden", {"na": more["endCursor"]})
                                    if more["hasNextPage"] else None)})
    answer = await _read(request, "CompetenceMap", {
        "jurisdiction": jurisdiction, "on": on, "knownAt": known_at, "first": MAP_PAGE,
        "after": after})
    asked = {"gemeente": jurisdiction, "op": on,
             "bekend": None if known_at is None else str(known_at)}
    more = answer["competenceMap"]["pageInfo"]
    title = f"Bevoegdheden van {answer['jurisdiction']['name']} op {long_date(on, 'nl')}"
    if known_at is not None:
        title += f", zoals bekend op positie {known_at}"
    return Shown("bevoegdheden.html", title, answer, extra={
        "on": on, "known_at": known_at,
        "next_page": (_address("/bevoegdheden", asked | {"na": more["endCursor"]})
                      if more["hasNextPage"] else None)})


async def search(request: Request, params: dict[str, str]) -> Shown:
    """/zoeken: what the search box's words name. A decision's code leads to the decision, and a
    ledger position to the decision whose event it is; a code or name of a body, competence or
    jurisdiction to its page when it is the one thing found; otherwise a list, with a full-text
    search in the decisions."""
    words = _given(request, "q")
    if words is None:
        return Shown("zoeken.html", "Zoeken", {}, extra={"hits": [], "words": "", "hash": False})
    code = words.lower()
    at_position = words.isdigit()
    # a chain hash (or its first digits) in hex, or a leaf's hash in base64
    is_hash = (EVENT_HASH.fullmatch(code) is not None or LEAF_HASH.fullmatch(words) is not None)
    answer = await _read(request, "Search", {
        "decision": Decision.global_id(code), "body": Body.global_id(code),
        "competence": Competence.global_id(code), "jurisdiction": Jurisdiction.global_id(code),
        "event": LedgerEvent.global_id(words if at_position else "0"),
        "atPosition": at_position, "hash": words,
        "byHash": is_hash and not at_position,
        "byName": len(words.strip()) >= 3 and not at_position,
        "text": words, "first": FOUND_DECISIONS})
    hits = _hits(answer, words)
    event = answer.get("event")
    goes_to = None
    if answer["decision"]:
        goes_to = _page_of("decision", answer["decision"]["code"])
    elif event and event["recordKind"] == "decision":
        goes_to = _page_of("decision", event["recordCode"])
    elif len(hashed := answer.get("hashed") or []) == 1 and hashed[0]["recordKind"] == "decision":
        goes_to = _page_of("decision", hashed[0]["recordCode"])
    elif len(hits) == 1 and not at_position and not answer["decisions"]["edges"]:
        goes_to = hits[0][1]
    return Shown("zoeken.html", f"Zoeken naar ‘{words}’", answer, goes_to=goes_to, extra={
        "hits": hits, "words": words, "hash": is_hash})


def _hits(answer: dict[str, Any], words: str) -> list[tuple[str, str]]:
    """What the search found besides the full-text match: (what it is, its address), exact
    codes first."""
    code = words.lower()
    hits = []
    checkpoint = answer["ledger"]["checkpoint"]
    if checkpoint and checkpoint["rootHash"] == words:
        hits.append((f"De boomwortel van de laatste ondertekende stand van het logboek "
                     f"({checkpoint['size']} gebeurtenissen)", "/controle"))
    if decision_ := answer["decision"]:
        hits.append((f"Besluit: {decision_['title']}", _page_of("decision", decision_["code"])))
    if event := answer.get("event"):
        hits.append((f"Positie {event['position']} in het logboek: {event['type']} van "
                     f"{event['recordCode']}",
                     _page_of(event["recordKind"], event["recordCode"],
                              otherwise=f"/controle?positie={event['position']}")))
    hits += [(f"Hash van positie {each['position']} in het logboek: {each['type']} van "
              f"{each['recordCode']}",
              _page_of(each["recordKind"], each["recordCode"],
                       otherwise=f"/controle?positie={each['position']}"))
             for each in answer.get("hashed") or []]
    persons = sorted({seat["holder"] for seat in answer.get("persons") or []})
    hits += [(f"Persoon: {holder}", f"/personen/{quote(holder, safe='')}") for holder in persons]
    if body := answer["body"]:
        hits.append((f"Orgaan: {body['name']}", _page_of("body", body["code"])))
    if competence := answer["competence"]:
        hits.append((f"Bevoegdheid: {competence['title']}",
                     _page_of("competence", competence["code"])))
    named = [answer["jurisdiction"]] if answer["jurisdiction"] else []
    named += [each for each in answer["jurisdictions"]["nodes"]
              if code in each["name"].lower() and each not in named]
    hits += [(f"Gemeente of regio: {each['name']}", _page_of("jurisdiction", each["code"]))
             for each in named]
    return hits


def _page_of(kind: str, code: str, otherwise: str = "") -> str:
    """The explorer's page of the record of `kind` with `code`; `otherwise` if it has none."""
    address = RECORD_PAGES.get(kind)
    return address.format(quote(code, safe="")) if address else otherwise


ROUTES: list[BaseRoute] = [*page("/besluiten", register, feed=True),
                           *page("/besluiten/{code}", decision),
                           *page("/bevoegdheden", competence_map),
                           *page("/zoeken", search)]
