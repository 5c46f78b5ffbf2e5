"""A NUL character (which no record can hold) in any string a request gives is refused the same
way, whichever argument or input field it is in and whether it is written in the document or
sent as a variable: INVALID_ARGUMENT naming it, never an internal error, and nothing stored.
The arguments are read from the schema, so one added later is covered by itself."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLField,
    GraphQLInputObjectType,
    get_named_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
)
from graphql.pyutils import Undefined
from hypothesis import given, settings
from hypothesis import strategies as st

from api.schema import build_schema
from ledger.application import Ledger
from ledger.database import eventsourcing_env
from tests.databases import fresh_database
from tests.graphql_client import Api, assert_no_leak, issue_token, load_world, serving

pytestmark = pytest.mark.database

SCHEMA = build_schema()._schema
TEXT_TYPES = {"String", "ID"}
VALID = {"Int": 1, "Date": "2013-06-01", "DateTime": "2013-06-01T00:00:00Z", "Boolean": True,
         "String": "dordrecht", "ID": "x"}
"""A value of each scalar for the arguments the case does not put text into."""


@dataclass(frozen=True)
class Place:
    """Where a string goes: an argument of a root field, or a field of its input object."""

    operation: str  # query or mutation
    field: str
    argument: str
    input_field: str | None = None

    def __str__(self) -> str:
        inner = f".{self.input_field}" if self.input_field else ""
        return f"{self.operation} {self.field}({self.argument}{inner}:)"


def places() -> list[Place]:
    found = []
    for operation, root in (("query", SCHEMA.query_type), ("mutation", SCHEMA.mutation_type)):
        assert root is not None
        for field_name, field in root.fields.items():
            for name, argument in field.args.items():
                named = get_named_type(argument.type)
                if named.name in TEXT_TYPES:
                    found.append(Place(operation, field_name, name))
                elif isinstance(named, GraphQLInputObjectType):
                    found += [Place(operation, field_name, name, inner)
                              for inner, input_field in named.fields.items()
                              if get_named_type(input_field.type).name in TEXT_TYPES]
    return found


PLACES = places()


def _value(argument: GraphQLArgument, text: str | None) -> Any:
    """A value for the argument: `text` where the case puts it, else a plain valid one."""
    named = get_named_type(argument.type)
    if isinstance(named, GraphQLInputObjectType):
        return {}
    value = text if text is not None else VALID.get(named.name, "x")
    return [value] if is_list_type(argument.type.of_type if is_non_null_type(argument.type)
                                   else argument.type) else value


def request(place: Place, text: str, literal: bool) -> tuple[str, dict[str, Any]]:
    """The operation giving `text` at `place`, written in the document (`literal`, for an
    argument that is not an input object) or as a variable, every other required argument a
    variable."""
    root = SCHEMA.query_type if place.operation == "query" else SCHEMA.mutation_type
    assert root is not None
    field: GraphQLField = root.fields[place.field]
    variables: dict[str, Any] = {}
    definitions, arguments = [], []
    for name, argument in field.args.items():
        aimed = name == place.argument
        if not aimed and (not is_non_null_type(argument.type)
                          or argument.default_value is not Undefined):
            continue
        value = _value(argument, text if aimed and place.input_field is None else None)
        if aimed and place.input_field is not None:
            value = {place.input_field: text}
        if aimed and literal and place.input_field is None:
            arguments.append(f"{name}: {_literal(value)}")
            continue
        definitions.append(f"${name}: {argument.type}")
        arguments.append(f"{name}: ${name}")
        variables[name] = value
    heading = f"{place.operation}({', '.join(definitions)})" if definitions else place.operation
    selection = "" if is_leaf_type(get_named_type(field.type)) else "{ __typename }"
    return f"{heading} {{ {place.field}({', '.join(arguments)}) {selection} }}", variables


def _literal(value: Any) -> str:
    """A GraphQL literal of a JSON value (JSON's string escapes are GraphQL's)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


@pytest.fixture(scope="module")
def world(server_url: str) -> Iterator[tuple[Api, str, Ledger]]:
    with fresh_database(server_url, "bevoegd_test") as url:
        ledger = Ledger(env=eventsourcing_env(url))
        try:
            load_world(ledger)
            admin = issue_token(url, "admin", name="beheerder")
            # nothing is read: a refused request runs nothing
            with serving(url, run_projector=False) as api:
                yield api, admin, ledger
        finally:
            ledger.close()


def test_every_kind_of_string_argument_is_covered() -> None:
    covered = {str(place) for place in PLACES}
    assert {"query jurisdiction(code:)", "query decisions(text:)",
            "mutation takeDecision(input.title:)",
            "mutation takeDecision(idempotencyKey:)"} <= covered


@settings(max_examples=100, deadline=None)
@given(place=st.sampled_from(PLACES), literal=st.booleans(),
       text=st.tuples(st.text(max_size=8), st.text(max_size=8)).map("\u0000".join))
def test_nul_in_any_string_argument_is_refused(world: tuple[Api, str, Ledger], place: Place,
                                               literal: bool, text: str) -> None:
    api, _, ledger = world
    before = ledger.position()
    query, variables = request(place, text, literal)
    # no token: refused before anything runs, a mutation's authorisation included
    body = api.post(query, variables).json()
    assert_no_leak(body)
    errors = body.get("errors") or []
    written = literal and place.input_field is None  # an input object goes as a variable
    assert [e["extensions"] for e in errors] == [
        {"code": "INVALID_ARGUMENT", "argument": place.argument} if written
        else {"code": "INVALID_ARGUMENT", "variable": place.argument}], (str(place), body)
    assert "NUL" in errors[0]["message"]
    assert body.get("data") is None
    assert ledger.position() == before


def test_a_nul_in_a_jurisdiction_code_is_no_internal_error(
        world: tuple[Api, str, Ledger]) -> None:
    api, _, _ = world
    body = api.post("query($c: String!) { jurisdiction(code: $c) { code } }",
                    {"c": "dordrecht\u0000"}).json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INVALID_ARGUMENT"]
    assert "Internal error." not in json.dumps(body)
