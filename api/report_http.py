"""The accountability report over HTTP: GET /reports/{jurisdiction}?from=&to=&format=&lang=
(&knownAt=). Without a token the public edition (published decisions only); an auditor's or an
admin's token gets everything, and the report says which edition it is. Rendering (PDF above
all) is CPU work: it runs in one worker thread per process, so it never holds the event loop
and reports are rendered one at a time; the period's length bounds each one's size."""

from __future__ import annotations

from datetime import date

from anyio import CapacityLimiter, to_thread
from anyio.lowlevel import RunVar
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.auth import InvalidToken
from api.availability import DatabaseUnavailable
from api.report.render import FORMATS, MEDIA_TYPES, Format, file_name, render
from api.report.words import LANGUAGES, Lang
from projections.errors import InvalidArgument, ReadError
from projections.health import DATABASE_ERRORS
from projections.queries.pagination import is_position
from projections.report.model import Period, Report, UnknownJurisdiction, accountability_report

_renderer: RunVar[CapacityLimiter] = RunVar("bevoegd_report_renderer")


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status,
                        headers={"Cache-Control": "no-store"})


def _day(request: Request, name: str) -> date:
    text = request.query_params.get(name)
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        raise InvalidArgument(f"`{name}` is a date, YYYY-MM-DD.", field=name) from None


def _choice(request: Request, name: str, choices: tuple[str, ...], default: str) -> str:
    value = request.query_params.get(name, default)
    if value not in choices:
        raise InvalidArgument(f"`{name}` is one of {', '.join(choices)}.", field=name)
    return value


def _known_at(request: Request) -> int | None:
    text = request.query_params.get("knownAt")
    if text is None:
        return None
    if not is_position(text):
        raise InvalidArgument("`knownAt` is a ledger position, 0 or more.", field="knownAt")
    return int(text)


async def _rendered(report: Report, fmt: Format, lang: Lang) -> bytes:
    try:
        renderer = _renderer.get()
    except LookupError:
        renderer = CapacityLimiter(1)
        _renderer.set(renderer)
    return await to_thread.run_sync(render, report, fmt, lang, limiter=renderer)


async def report(request: Request) -> Response:
    """The report of one municipality over one period, as a file of the asked format."""
    state = request.app.state
    try:
        principal = await state.tokens.principal_for(request.headers.get("authorization"))
    except InvalidToken as invalid:
        return _error(401, "UNAUTHENTICATED", str(invalid))
    except (DatabaseUnavailable, *DATABASE_ERRORS):
        return _error(503, "UNAVAILABLE", "The ledger's database cannot be reached.")
    try:
        period = Period(_day(request, "from"), _day(request, "to"))
        fmt: Format = _choice(request, "format", FORMATS, "pdf")  # type: ignore[assignment]
        lang: Lang = _choice(request, "lang", LANGUAGES, "nl")  # type: ignore[assignment]
        state.availability.check()
        found = await accountability_report(
            state.pool, request.path_params["jurisdiction"], period,
            known_at=_known_at(request), published_only=not principal.reads_everything)
    except UnknownJurisdiction as unknown:
        return _error(404, unknown.code, unknown.message)
    except ReadError as refused:
        return _error(400, refused.code, refused.message)
    except (DatabaseUnavailable, *DATABASE_ERRORS):
        return _error(503, "UNAVAILABLE", "The ledger's database cannot be reached.")
    content = await _rendered(found, fmt, lang)
    return Response(content, media_type=MEDIA_TYPES[fmt], headers={
        "Content-Disposition": f'inline; filename="{file_name(found, fmt)}"',
        "Cache-Control": "private, no-store" if principal.reads_everything else "no-cache"})


ROUTES = [Route("/reports/{jurisdiction}", report)]
