"""The explorer's pages of bodies (/organen/{code}) and persons (/personen/{holder}): a body's
life from establishment to abolition with its seats over time, what it decided, granted and was
granted; and the seats one person held. The ledger names a seat's holder by name, not by an id
(an officeholder acting in office is public), so that name is a person's address."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.routing import BaseRoute

from api.explorer.municipalities import decision_feed
from api.explorer.pages import Shown, page
from api.explorer.reading import found, read
from api.explorer.timeline import Span, day_of, timeline


def body_life(answer: dict[str, Any]) -> list[Span]:
    """The body's existence, then each of its seats and who held it."""
    body = answer["body"]
    life = Span("Bestaan", body["name"], "bestond" if body["abolishedOn"] else "bestaat",
                date.fromisoformat(body["establishedOn"]), day_of(body["abolishedOn"]), "life")
    return [life, *(Span("Zetels", seat["seat"], seat["holder"],
                         date.fromisoformat(seat["validFrom"]), day_of(seat["validUntil"]), "seat",
                         f"/personen/{quote(seat['holder'])}") for seat in answer["seats"])]


async def body(request: Request, params: dict[str, str]) -> Shown:
    answer = await read(request, "Body", {"code": params["code"]})
    shown = found(answer["body"], f"Het orgaan {params['code']}")
    decisions = [edge["node"] for edge in answer["decisions"]["edges"]]
    return Shown("body.html", shown["name"], answer,
                 {"picture": timeline(body_life(answer), date.today())},
                 feed=decision_feed(decisions))


async def person(request: Request, params: dict[str, str]) -> Shown:
    answer = await read(request, "Person", {"holder": params["holder"]})
    found(answer["seats"] or None, f"{params['holder']} als houder van een zetel")
    spans = [Span(seat["body"]["name"], seat["seat"], seat["group"] or "",
                  date.fromisoformat(seat["validFrom"]), day_of(seat["validUntil"]), "seat")
             for seat in answer["seats"]]
    return Shown("person.html", params["holder"], answer,
                 {"picture": timeline(spans, date.today())})


ROUTES: list[BaseRoute] = [*page("/organen/{code}", body, feed=True),
                           *page("/personen/{holder}", person)]
