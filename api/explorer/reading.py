"""What a page shows: the answer to one of the explorer's stored GraphQL operations (operations/),
executed in the process with the public's context. The API's resolvers, loaders, limits and
visibility rules apply unchanged; there is no second query layer to drift from the first."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import strawberry
from starlette.requests import Request

from api.auth import PUBLIC
from api.schema import build_schema
from api.schema.context import Context
from projections.errors import InvalidArgument, ReadError

OPERATIONS_DIR = Path(__file__).resolve().parent / "operations"


class NotFound(ReadError):
    """The page names nothing the public may see."""

    code = "NOT_FOUND"


@cache
def _schema() -> strawberry.Schema:
    return build_schema()


FRAGMENTS_DIR = OPERATIONS_DIR / "fragments"
"""Fragments several pages select alike (fragments/NAME.graphql holds `fragment NAME`)."""
SPREAD = re.compile(r"\.\.\.\s*([_A-Za-z][_0-9A-Za-z]*)")


@cache
def operation(name: str) -> str:
    """The source of the stored operation `name` (operations/NAME.graphql), with the shared
    fragments it spreads, and theirs: GraphQL refuses a document with a fragment it never uses,
    so only those go along."""
    source = (OPERATIONS_DIR / f"{name}.graphql").read_text(encoding="utf-8")
    added: set[str] = set()
    wanted = SPREAD.findall(source)
    while wanted:
        fragment = wanted.pop()
        path = FRAGMENTS_DIR / f"{fragment}.graphql"
        if fragment in added or not path.exists():
            continue  # `... on Type` spreads no named fragment
        added.add(fragment)
        text = path.read_text(encoding="utf-8")
        source += "\n" + text
        wanted += SPREAD.findall(text)
    return source


def public_context(request: Request) -> Context:
    state = request.app.state
    state.availability.check()  # known to be away: the page says so at once
    return Context(pool=state.pool, ledger=state.ledger, principal=PUBLIC, watch=state.watch,
                   tokens=state.tokens, availability=state.availability, tail=state.tail, tiles=state.tiles)


async def read(request: Request, name: str, variables: dict[str, Any]) -> dict[str, Any]:
    """The data of operation `name` with `variables`, as the public reads it. A field's error
    is raised as the read error it was (an unknown code: UnknownRecord; a bad date or position:
    InvalidArgument), so that the page can say what was wrong with the address."""
    result = await _schema().execute(operation(name), variable_values=variables,
                                     context_value=public_context(request), operation_name=name)
    for error in result.errors or ():
        if isinstance(error.original_error, Exception):
            raise error.original_error
        # a variable the address gave that does not coerce (a date that is no date, say)
        raise InvalidArgument(error.message)
    assert result.data is not None
    return result.data


def found(value: Any, what: str) -> Any:
    """`value`, or NotFound naming `what` when the answer has none."""
    if value is None:
        raise NotFound(f"{what} bestaat niet of is niet openbaar.")
    return value
