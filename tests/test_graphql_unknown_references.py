"""A typo must not look like an answer: every argument that names a record fails its field with
UNKNOWN_REFERENCE, naming the argument, when the ledger does not know the code; to the public an
unpublished decision is exactly as unknown. A ledger position beyond the last event is refused
by every argument that takes one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from graphql import GraphQLObjectType, get_named_type, is_non_null_type
from graphql.pyutils import Undefined

from api.schema import build_schema
from api.schema.arguments import NAMES
from api.schema.execution import DEFINITION_BACKREF
from projections.queries import records
from tests.graphql_client import (
    DOSSIER,
    UNPUBLISHED,
    Api,
    assert_no_leak,
    issue_token,
    serving,
    world_database,
)

pytestmark = pytest.mark.database

KNOWN = {"jurisdiction": "dordrecht", "body": "college-dordrecht",
         "competence": "bestuursbesluiten", "decision": "college-delegeert", "dossier": DOSSIER}
"""A code the small world holds, for each kind of record an argument can name."""


def named_arguments() -> list[tuple[str, str, str]]:
    """(field, argument, kind) of every argument of the schema that names a record, read from
    the schema itself: a new one is covered without changing this test."""
    found = []
    for field_name, field in SCHEMA.query_type.fields.items():
        for name, argument in field.args.items():
            metadata = argument.extensions[DEFINITION_BACKREF].metadata
            if NAMES in metadata:
                found.append((field_name, name, metadata[NAMES]))
    return found


SCHEMA = build_schema()._schema
NAMED = named_arguments()


def document(field_name: str, argument: str, code: str) -> tuple[str, dict[str, Any]]:
    """A query of `field_name` with `argument` set to `code`, every other required argument a
    valid value, and the least selection the field allows."""
    field = SCHEMA.query_type.fields[field_name]
    values: dict[str, Any] = {argument: code}
    for name, arg in field.args.items():
        if name in values or not is_non_null_type(arg.type) \
                or arg.default_value is not Undefined:
            continue
        type_name = get_named_type(arg.type).name
        kind = next((k for f, a, k in NAMED if f == field_name and a == name), None)
        values[name] = KNOWN[kind] if kind else {"Int": 5, "Date": "2013-06-01"}[type_name]
    literal = ", ".join(f"{name}: {value!r}".replace("'", '"') if isinstance(value, str)
                        else f"{name}: {value}" for name, value in values.items())
    selection = _selection(get_named_type(field.type))
    return f"{{ {field_name}({literal}) {selection} }}", values


def _selection(named: Any) -> str:
    if not isinstance(named, GraphQLObjectType):
        return ""
    if "nodes" in named.fields:
        return "{ nodes { __typename } }"
    return "{ __typename }"


@pytest.fixture(scope="module")
def world(server_url: str) -> Iterator[tuple[Api, dict[str, str]]]:
    """The small world, served and projected; one for the module, as every test only reads."""
    with world_database(server_url) as (url, position):
        tokens = {"auditor": issue_token(url, "auditor", name="rekenkamer"),
                  "clerk": issue_token(url, "clerk", ("college-dordrecht",), name="griffie")}
        with serving(url) as api:
            api.data("query($at: Int) { decisions(first: 1, atLeast: $at) { nodes { code } } }",
                     {"at": position})
            yield api, tokens


def test_the_schema_has_arguments_naming_each_kind() -> None:
    assert {kind for _, _, kind in NAMED} == set(KNOWN)
    assert ("whoIsCompetent", "competence", "competence") in NAMED
    assert ("competenceMap", "jurisdiction", "jurisdiction") in NAMED


@pytest.mark.parametrize(("field_name", "argument", "kind"), NAMED,
                         ids=[f"{f}({a}:)" for f, a, _ in NAMED])
def test_an_unknown_code_fails_naming_the_argument(world: tuple[Api, dict[str, str]],
                                                   field_name: str, argument: str,
                                                   kind: str) -> None:
    api, _ = world
    known, _ = document(field_name, argument, KNOWN[kind])
    assert not api.post(known).json().get("errors"), known
    typo, _ = document(field_name, argument, KNOWN[kind] + "-typo")
    body = api.post(typo).json()
    assert_no_leak(body)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "UNKNOWN_REFERENCE", body
    assert error["extensions"]["argument"] == argument
    assert f"`{argument}`" in error["message"]
    assert body["data"] is None or body["data"][field_name] is None


def test_a_typo_in_who_is_competent_is_no_empty_answer(world: tuple[Api, dict[str, str]]) -> None:
    api, _ = world
    body = api.post('{ whoIsCompetent(competence: "participatiewet-uitvorring", '
                    'jurisdiction: "dordrecht", on: "2014-01-01") { body { code } } }').json()
    assert [e["extensions"] for e in body["errors"]] == [
        {"code": "UNKNOWN_REFERENCE", "argument": "competence"}]


def test_the_public_cannot_tell_an_unpublished_decision_from_an_unknown_one(
        world: tuple[Api, dict[str, str]]) -> None:
    api, tokens = world
    query = "query($code: String!) { decision(code: $code) { code } }"

    def answer(code: str, token: str | None = None) -> dict[str, Any]:
        return api.post(query, {"code": code}, token=token).json()

    unpublished, unknown = answer(UNPUBLISHED), answer("nooit-genomen")
    assert unpublished["errors"][0]["extensions"]["code"] == "UNKNOWN_REFERENCE"
    # the same answer but for the code it names, which the message does not repeat
    assert unpublished == unknown
    # those who may see it get it
    assert answer(UNPUBLISHED, tokens["auditor"])["data"] == {"decision": {"code": UNPUBLISHED}}
    assert answer(UNPUBLISHED, tokens["clerk"])["data"] == {"decision": {"code": UNPUBLISHED}}


def test_the_audit_trail_checks_the_record_it_follows(world: tuple[Api, dict[str, str]]) -> None:
    api, tokens = world
    query = ("query($kind: String, $code: String) { auditTrail(first: 5, recordKind: $kind, "
             "recordCode: $code) { nodes { recordCode } } }")
    found = api.data(query, {"kind": "body", "code": "dsb"})["auditTrail"]["nodes"]
    assert found and {n["recordCode"] for n in found} == {"dsb"}
    for kind, code, token in (("body", "dbs", None), ("decision", UNPUBLISHED, None)):
        body = api.post(query, {"kind": kind, "code": code}, token=token).json()
        assert [e["extensions"] for e in body["errors"]] == [
            {"code": "UNKNOWN_REFERENCE", "argument": "recordCode"}], body
    seen = api.data(query, {"kind": "decision", "code": UNPUBLISHED}, token=tokens["auditor"])
    assert seen["auditTrail"]["nodes"]


def test_only_the_field_with_the_typo_fails(world: tuple[Api, dict[str, str]]) -> None:
    api, _ = world
    body = api.post('{ a: body(code: "dsb") { code } b: jurisdiction(code: "dordrecht") { code } '
                    'c: decision(code: "geen-besluit") { code } }').json()
    assert body["data"] == {"a": {"code": "dsb"}, "b": {"code": "dordrecht"}, "c": None}
    assert [(e["path"], e["extensions"]["argument"]) for e in body["errors"]] == [(["c"], "code")]


def test_the_records_of_a_request_are_looked_up_in_one_query(
        world: tuple[Api, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    api, _ = world
    calls: list[set[tuple[str, str]]] = []
    look_up = records.known_records

    async def counted(db: Any, named: Any, *args: Any) -> Any:
        calls.append(set(named))
        return await look_up(db, named, *args)

    monkeypatch.setattr(records, "known_records", counted)
    body = api.post('{ a: body(code: "dsb") { code } b: jurisdiction(code: "dordrecht") { code } '
                    'c: whoIsCompetent(competence: "participatiewet", jurisdiction: "dordrecht", '
                    'on: "2014-01-01") { body { code } } d: decision(code: "geen-besluit") { code } }').json()
    assert [e["path"] for e in body["errors"]] == [["d"]]
    assert calls == [{("body", "dsb"), ("jurisdiction", "dordrecht"),
                      ("competence", "participatiewet"), ("decision", "geen-besluit")}]


@pytest.mark.parametrize("argument", ["knownAt", "atLeast"])
def test_a_position_beyond_the_head_is_refused(world: tuple[Api, dict[str, str]],
                                               argument: str) -> None:
    api, _ = world
    head = api.data("{ ledger { position } }")["ledger"]["position"]
    query = f"query($p: Int) {{ decisions(first: 1, {argument}: $p) {{ nodes {{ code }} }} }}"
    assert api.data(query, {"p": head})["decisions"]["nodes"] is not None
    body = api.post(query, {"p": 99999}).json()
    assert [e["extensions"] for e in body["errors"]] == [
        {"code": "INVALID_ARGUMENT", "argument": argument}]
    assert "beyond the ledger's last event" in body["errors"][0]["message"]
