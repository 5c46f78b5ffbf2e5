"""The explorer's page of commissions (/opdrachten): binding or not, due when, how far along, and
which are overdue, filtered in the query string so that a filtered view is a link, and followed
as an Atom feed."""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.routing import BaseRoute

from api.explorer.feeds import FeedEntry
from api.explorer.pages import Shown, page
from api.explorer.reading import read
from api.report.words import LABELS
from projections.errors import InvalidArgument

STATES = {"open": "OPEN", "te-laat": "OVERDUE", "uitgevoerd": "FULFILLED",
          "ingetrokken": "WITHDRAWN"}
"""The `status` filter's Dutch values, and the commission state each stands for."""
BINDING = {"ja": True, "nee": False}


def _choice(request: Request, name: str, choices: dict[str, Any]) -> Any:
    value = request.query_params.get(name) or None
    if value is not None and value not in choices:
        raise InvalidArgument(f"{name} is een van: {', '.join(choices)}.")
    return choices.get(value) if value is not None else None


def filters(request: Request) -> dict[str, Any]:
    """The operation's variables from the query string; an unknown value is refused."""
    on = request.query_params.get("op") or None
    if on is not None:
        try:
            date.fromisoformat(on)
        except ValueError:
            raise InvalidArgument("op is een datum als 2013-03-05.") from None
    return {"on": on, "state": _choice(request, "status", STATES),
            "binding": _choice(request, "bindend", BINDING),
            "issuedBy": request.query_params.get("opdrachtgever") or None,
            "issuedTo": request.query_params.get("opdrachtnemer") or None,
            "after": request.query_params.get("na") or None}


def _latest_step(c: dict[str, Any]) -> date:
    return max(date.fromisoformat(day) for day in (c["issuedOn"], c["acceptedOn"],
                                                    c["fulfilledOn"], c["withdrawnOn"]) if day)


def feed(commissions: list[dict[str, Any]]) -> list[FeedEntry]:
    """Each commission at its row of the list, the latest step (issued, accepted, fulfilled,
    withdrawn) first."""
    return sorted((FeedEntry(f"/opdrachten#{c['code']}", c["subject"], _latest_step(c),
                             f"Van {c['issuedBy']['name']} aan {c['issuedTo']['name']}; "
                             f"{'bindend' if c['binding'] else 'niet bindend'}; "
                             f"{LABELS['nl'][c['state'].lower()]}")
                   for c in commissions), key=lambda e: e.updated, reverse=True)


async def commissions(request: Request, params: dict[str, str]) -> Shown:
    variables = filters(request)
    answer = await read(request, "Commissions", variables)
    shown = [edge["node"] for edge in answer["commissions"]["edges"]]
    bodies = sorted((edge["node"] for edge in answer["bodies"]["edges"]),
                    key=lambda b: b["name"])
    return Shown("commissions.html", "Opdrachten", answer,
                 {"commissions_shown": shown, "body_choices": bodies, "states": STATES,
                  "chosen": request.query_params},
                 feed=feed(shown))


ROUTES: list[BaseRoute] = [*page("/opdrachten", commissions, feed=True)]
