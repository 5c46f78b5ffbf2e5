"""The explorer's page of the log's check (/controle): the signed checkpoints over time, the
files to download and check elsewhere, the verifier key, and the checks that run in the
visitor's browser (static/verify.js): a checkpoint kept from earlier against the current tree,
and, as /controle?positie=N, one event's inclusion."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute

from api.explorer.pages import Shown, page
from api.explorer.reading import NotFound, read
from projections.errors import InvalidArgument
from projections.queries.log import NotInLog

POSITION = "positie"
"""The query parameter naming the event whose inclusion the page checks."""


def _position(request: Request) -> int | None:
    given = request.query_params.get(POSITION)
    if not given:
        return None
    if not given.isdigit() or int(given) < 1:
        raise InvalidArgument(f"Een positie in het logboek is een getal vanaf 1, niet '{given}'.")
    return int(given)


async def check(request: Request, params: dict[str, str]) -> Shown:
    position = _position(request)
    variables = {"withEvent": True, "position": position} if position else {}
    try:
        answer = await read(request, "Controle", variables)
    except NotInLog:
        raise NotFound(f"Positie {position} staat (nog) niet in het logboek.") from None
    signer = request.app.state.signer
    return Shown("controle.html", "Controle van het logboek", answer,
                 extra={"verifier_key": signer.verifier.text() if signer else None})


ROUTES: list[BaseRoute] = [*page("/controle", check)]
