"""The explorer's pages of municipalities and regions (/gemeenten, /gemeenten/{code}): what a
municipality decided itself, what its regions decided while it was a member (each regional
decision with the members of its date), its grants, its bodies and the commissions given for
it, with a timeline of where its competences sat."""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.routing import BaseRoute

from api.explorer.feeds import FeedEntry
from api.explorer.pages import Shown, page
from api.explorer.reading import found, read
from api.explorer.timeline import Span, day_of, timeline
from api.report.words import LABELS

KINDS = {"MUNICIPALITY": "Gemeenten", "REGION": "Regio's (gemeenschappelijke regelingen)",
         "PROVINCE": "Provincies", "WATER_BOARD": "Waterschappen"}
"""The groups of /gemeenten, in order, with their headings."""


async def municipalities(request: Request, params: dict[str, str]) -> Shown:
    answer = await read(request, "Municipalities", {"after": request.query_params.get("na")})
    every = [edge["node"] for edge in answer["jurisdictions"]["edges"]]
    groups = [(heading, sorted((j for j in every if j["kind"] == kind), key=lambda j: j["name"]))
              for kind, heading in KINDS.items()]
    return Shown("municipalities.html", "Gemeenten en regio's", answer,
                 {"groups": [(heading, members) for heading, members in groups if members]})


def members_on(memberships: list[dict[str, Any]], day: str) -> list[dict[str, Any]]:
    """The members of a region on `day` (ISO), from its memberships over time."""
    return [m["member"] for m in memberships
            if m["joinedOn"] <= day and (m["leftOn"] is None or day < m["leftOn"])]


def regional_rows(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The regional decisions, each with the members its region had on the decision date."""
    regions = {m["region"]["code"]: m["region"]["memberships"]
               for m in answer["jurisdiction"]["memberships"]}
    return [{"decision": d, "members": members_on(regions.get(d["jurisdiction"]["code"], []),
                                                  d["takenOn"])}
            for d in (edge["node"] for edge in answer["regional"]["edges"])]


def where_competences_sat(answer: dict[str, Any]) -> list[Span]:
    """The municipality's memberships and the periods of the grants of its competences: a grant
    to a body of another jurisdiction (the region's board) is the competence gone to the
    region, and its end the competence coming back."""
    code = answer["jurisdiction"]["code"]
    spans = [Span("Lidmaatschap", m["region"]["name"], "lid", date.fromisoformat(m["joinedOn"]),
                  day_of(m["leftOn"]), "member") if m["member"]["code"] == code
             else Span("Leden", m["member"]["name"], "lid", date.fromisoformat(m["joinedOn"]),
                       day_of(m["leftOn"]), "member")
             for m in answer["jurisdiction"]["memberships"]]
    for grant in (edge["node"] for edge in answer["grants"]["edges"]):
        grantee = grant["grantee"]
        away = grantee["jurisdiction"]["code"] != code
        spans.append(Span(grant["competence"]["title"], grantee["name"],
                          LABELS["nl"][grant["kind"].lower()],
                          date.fromisoformat(grant["validFrom"]),
                          day_of(grant["revokedOn"] or grant["validUntil"]),
                          "regional" if away else "local"))
    return spans


def decision_feed(decisions: list[dict[str, Any]]) -> list[FeedEntry]:
    """Decisions as feed entries, the latest decision date first."""
    return [FeedEntry(f"/besluiten/{d['code']}", d["title"], date.fromisoformat(d["takenOn"]),
                      f"{d['body']['name']}, {d['jurisdiction']['name']}" if d["body"] else "")
            for d in sorted(decisions, key=lambda d: (d["takenOn"] or "", d["code"]),
                            reverse=True) if d["takenOn"]]


async def municipality(request: Request, params: dict[str, str]) -> Shown:
    answer = await read(request, "Municipality", {"code": params["code"]})
    jurisdiction = found(answer["jurisdiction"], f"De gemeente of regio {params['code']}")
    regional = regional_rows(answer)
    own = [edge["node"] for edge in answer["own"]["edges"]]
    picture = timeline(where_competences_sat(answer), date.today())
    return Shown("municipality.html", jurisdiction["name"], answer,
                 {"regional_rows": regional, "picture": picture},
                 feed=decision_feed([row["decision"] for row in regional] + own))


ROUTES: list[BaseRoute] = [*page("/gemeenten", municipalities),
                           *page("/gemeenten/{code}", municipality, feed=True)]
