"""Bad input over GraphQL gets a clear error and changes nothing: malformed requests, oversized
or costly queries, bad arguments, unknown ids, impossible dates, injection attempts and invalid
commands. Every answer is checked for stack traces and SQL, and the ledger position for change."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from ledger import commands as c
from ledger.application import Ledger
from tests.graphql_client import (
    LEAKS,
    Api,
    assert_no_leak,
    error_codes,
    graphql_input,
    issue_token,
    load_world,
    messages,
    refusal,
    serving,
)

pytestmark = pytest.mark.database

MAX_DEPTH = 14
MAX_ALIASES = 20
MAX_TOKENS = 3000
MAX_COST = 5000
MAX_PAGE = 100


@dataclass
class Served:
    api: Api
    ledger: Ledger
    position: int
    admin: str

    def unchanged(self) -> None:
        assert self.ledger.position() == self.position, "a bad request stored something"

    def errors(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The answer to a request that must be refused with a GraphQL error."""
        response = self.api.post(query, variables)
        body = response.json()
        assert body.get("errors"), body
        assert_no_leak(body)
        return body

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self.api.answer(query, variables)
        assert_no_leak(body)
        return body["data"]


@pytest.fixture
def served(database_url: str, ledger: Ledger) -> Iterator[Served]:
    """The small world, served, with the projections caught up."""
    position = load_world(ledger)
    admin = issue_token(database_url, "admin", name="beheerder")
    with serving(database_url) as api:
        api.data("query($at: Int) { decisions(first: 1, atLeast: $at) { nodes { code } } }",
                 {"at": position})
        served = Served(api, ledger, position, admin)
        yield served
    assert ledger.position() == served.position


def gid(text: str) -> str:
    """A global id or cursor as the API makes them (base64 of `type:key`)."""
    return base64.urlsafe_b64encode(text.encode()).decode()


# Malformed requests ---------------------------------------------------------------------------


@pytest.mark.parametrize("content", [
    b"{not json", b"", b"[1, 2]", b'"query"', b'{"variables": {}}', b'{"query": 42}',
    b'{"query": "{ ledger { position } }", "variables": [1]}', b"\xff\xfe{}",
], ids=repr)
def test_malformed_request_bodies(served: Served, content: bytes) -> None:
    response = served.api.client.post("/graphql", content=content,
                                      headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    _, text = refusal(response)
    assert text.strip() and not LEAKS.search(text)
    served.unchanged()


@pytest.mark.parametrize("query", [
    "{ ledger { position ",
    "{ ledger { position } } }",
    "{ nosuchfield }",
    "{ decisions { nodes { code } } }",  # `first` is required
    'query { decisions(first: "ten") { nodes { code } } }',
    "query($x: NoSuchType) { ledger { position } }",
])
def test_malformed_graphql(served: Served, query: str) -> None:
    body = served.errors(query)
    assert body.get("data") is None
    served.unchanged()


def test_an_empty_mutation_runs_nothing(served: Served) -> None:
    """graphql-core parses and validates empty selection sets (the GraphQL specification's
    proposal it follows): the answer is empty, and nothing is stored."""
    assert served.data("mutation { }") == {}
    served.unchanged()


def test_malformed_mutation_documents_store_nothing(served: Served) -> None:
    for query in ("mutation { takeDecision(idempotencyKey: \"k\") { position } }",
                  "mutation { takeDecision(input: {}) { position } }",
                  "mutation { noSuchCommand(idempotencyKey: \"k\", input: {}) { position } }"):
        response = served.api.post(query, token=served.admin)
        assert response.json().get("errors"), response.text
        assert_no_leak(response.json())
    served.unchanged()


# Oversized queries ----------------------------------------------------------------------------


def nested(depth: int) -> str:
    """A selection `depth` levels deep; its inner fields need not exist, since the depth check
    is a validation rule and reports no matter what else is wrong."""
    inner = "leaf"
    for level in range(depth - 1):
        inner = f"f{level} {{ {inner} }}"
    return "{ " + inner + " }"


def test_too_deep(served: Served) -> None:
    body = served.errors(nested(MAX_DEPTH + 5))
    assert "QUERY_TOO_DEEP" in error_codes(body), body
    assert body.get("data") is None
    served.unchanged()


def test_deep_introspection_is_refused(served: Served) -> None:
    inner = "name"
    for _ in range(6):
        inner = f"fields {{ name type {{ ofType {{ ofType {{ {inner} }} }} }} }}"
    body = served.errors("{ __schema { types { " + inner + " } } }")
    assert body.get("data") is None
    served.unchanged()


def aliased(count: int) -> str:
    return "{ " + " ".join(f"a{i}: ledger {{ position }}" for i in range(count)) + " }"


def test_too_many_aliases(served: Served) -> None:
    assert len(served.data(aliased(MAX_ALIASES))) == MAX_ALIASES
    body = served.errors(aliased(MAX_ALIASES + 1))
    assert any("aliases" in m and str(MAX_ALIASES) in m for m in messages(body)), body
    assert body.get("data") is None
    served.unchanged()


def test_too_many_tokens(served: Served) -> None:
    body = served.errors("{ ledger { " + " ".join(["position"] * MAX_TOKENS) + " } }")
    assert any("tokens" in m for m in messages(body)), body
    assert body.get("data") is None
    served.unchanged()


COSTLY = ("query($n: Int!) { decisions(first: $n) { edges { node { code "
          "history(first: $n) { edges { node { position } } } } } } }")


def test_too_costly(served: Served) -> None:
    body = served.errors(COSTLY, {"n": 100})
    assert error_codes(body) == ["QUERY_TOO_COSTLY"]
    cost = body["extensions"]["cost"]
    assert cost["limit"] == MAX_COST and cost["requested"] > MAX_COST
    assert str(cost["requested"]) in body["errors"][0]["message"]
    assert body.get("data") is None
    served.unchanged()


def test_cost_is_reported_and_counts_fragments(served: Served) -> None:
    cheap = served.api.answer(COSTLY, {"n": 5})
    assert 0 < cheap["extensions"]["cost"]["requested"] <= MAX_COST
    # the same costly selection hidden in a fragment is still counted
    body = served.errors("query { decisions(first: 100) { ...page } } fragment page on "
                         "DecisionConnection { edges { node { history(first: 100) "
                         "{ edges { node { position } } } } } }")
    assert error_codes(body) == ["QUERY_TOO_COSTLY"]
    served.unchanged()


# Bad arguments --------------------------------------------------------------------------------

LISTS = {
    "decisions": "decisions(first: $first, after: $after) { nodes { code } }",
    "auditTrail": "auditTrail(first: $first, after: $after) { nodes { position } }",
    "bodies": "bodies(first: $first, after: $after) { nodes { code } }",
    "jurisdictions": "jurisdictions(first: $first, after: $after) { nodes { code } }",
    "grants": "grants(first: $first, after: $after) { nodes { code } }",
    "commissions": "commissions(first: $first, after: $after) { nodes { code } }",
    "consultations": "consultations(first: $first, after: $after) { nodes { code } }",
    "competenceMap": "competenceMap(jurisdiction: \"dordrecht\", on: \"2013-01-01\", "
                     "first: $first, after: $after) { nodes { body { code } } }",
}


def list_query(name: str) -> str:
    return f"query($first: Int!, $after: String) {{ {LISTS[name]} }}"


@pytest.mark.parametrize("name", sorted(LISTS))
def test_first_out_of_range(served: Served, name: str) -> None:
    for first in (0, -1, MAX_PAGE + 1, 2**31 - 1):
        body = served.errors(list_query(name), {"first": first})
        codes = error_codes(body)
        # a huge page is refused as too costly before it runs; the others by the argument check
        assert codes in (["INVALID_ARGUMENT"], ["QUERY_TOO_COSTLY"]), (first, body)
        if codes == ["INVALID_ARGUMENT"]:
            assert "first" in body["errors"][0]["message"]
    assert served.data(list_query(name), {"first": MAX_PAGE})
    served.unchanged()


def test_first_out_of_range_in_a_nested_list(served: Served) -> None:
    body = served.errors('{ decision(code: "college-delegeert") { history(first: 0) '
                         "{ nodes { position } } } }")
    assert error_codes(body) == ["INVALID_ARGUMENT"]
    served.unchanged()


BAD_CURSORS = ["garbage", "", "!!!!", gid("decision"), gid("decision:abc"), gid("decision:-5"),
               gid("event:12"), gid("wrongkind:1"), "ZGVjaXNpb246MTA"]


def test_bad_cursors(served: Served) -> None:
    for cursor in BAD_CURSORS:
        body = served.errors(list_query("decisions"), {"first": 10, "after": cursor})
        assert error_codes(body) == ["INVALID_ARGUMENT"], (cursor, body)
        assert "cursor" in body["errors"][0]["message"]
    served.unchanged()


@pytest.mark.parametrize("key", ["99999999999999999999", "²"])
def test_cursors_and_ids_with_odd_digits(served: Served, key: str) -> None:
    body = served.errors(list_query("decisions"), {"first": 10, "after": gid(f"decision:{key}")})
    assert error_codes(body) == ["INVALID_ARGUMENT"], body
    body = served.api.post("query($id: ID!) { node(id: $id) { id } }",
                           {"id": gid(f"LedgerEvent:{key}")}).json()
    assert body["data"] == {"node": None}
    assert error_codes(body) in ([], ["INVALID_ARGUMENT"]), body
    served.unchanged()


NODE = "query($id: ID!) { node(id: $id) { id } }"


UNKNOWN_IDS = ["Decision:nope", "Body:nope", "Jurisdiction:nope", "Grant:nope@nergens/niets",
               "Grant:foo", "LedgerEvent:999999", "Decision:%", "Decision:' OR 1=1 --"]
NOT_OUR_IDS = ["!!!", "", "bm9jb2xvbg==", gid("Spaceship:1"), gid("LedgerEvent:abc"), gid(":x"),
               "RGVjaXNpb246"]


def test_unknown_ids_are_null(served: Served) -> None:
    for key in UNKNOWN_IDS:
        assert served.data(NODE, {"id": gid(key)}) == {"node": None}, key
    served.unchanged()


def test_ids_not_of_this_api(served: Served) -> None:
    for value in NOT_OUR_IDS:
        body = served.errors(NODE, {"id": value})
        assert error_codes(body) == ["INVALID_ARGUMENT"], (value, body)
        assert "id" in body["errors"][0]["message"]
    served.unchanged()


IMPOSSIBLE_DAYS = ["2013-02-30", "2013-13-01", "2013-00-10", "13-01-2013", "yesterday", "",
                   "2013-1-1T00:00"]


def test_impossible_dates_in_reads(served: Served) -> None:
    for day in IMPOSSIBLE_DAYS:
        body = served.errors("query($on: Date) { decisions(first: 5, on: $on) "
                             "{ nodes { code } } }", {"on": day})
        assert body.get("data") is None
        assert any("Date" in m for m in messages(body)), (day, body)
    served.unchanged()


def test_impossible_dates_in_a_query_literal(served: Served) -> None:
    body = served.errors('{ whoIsCompetent(competence: "participatiewet", '
                         'jurisdiction: "dordrecht", on: "2013-02-30") { body { code } } }')
    assert any("2013-02-30" in m for m in messages(body)), body
    served.unchanged()


@pytest.mark.parametrize("argument", ["knownAt", "atLeast"])
def test_negative_positions(served: Served, argument: str) -> None:
    for query in (f"{{ decisions(first: 5, {argument}: -1) {{ nodes {{ code }} }} }}",
                  f'{{ decision(code: "college-delegeert", {argument}: -1) {{ code }} }}',
                  f"{{ grants(first: 5, {argument}: -3) {{ nodes {{ code }} }} }}"):
        body = served.errors(query)
        assert error_codes(body) == ["INVALID_ARGUMENT"], body
        assert argument in body["errors"][0]["message"]
    served.unchanged()


def test_positions_beyond_32_bits(served: Served) -> None:
    body = served.errors("{ decisions(first: 5, knownAt: 9999999999999) { nodes { code } } }")
    assert body.get("data") is None
    served.unchanged()


# Injection attempts ---------------------------------------------------------------------------

HOSTILE = [
    "'; DROP TABLE bevoegd_events; --",
    "' OR '1'='1",
    "\" OR \"\"=\"",
    "%", "%%", "_", "\\", "\\'", "\\\\%",
    "$1", "{}", "NULL", "*", "a:* | b:*", "!()&|<->", "(((",
    "besluit' UNION SELECT * FROM bevoegd_tokens --",
    "é ü ñ 漢字 🙂 ‮", "Ω" * 500,
]
FILTERS = [
    "decisions(first: 10, text: $v) { nodes { code } }",
    "decisions(first: 10, body: $v, competence: $v) { nodes { code } }",
    "decisions(first: 10, jurisdiction: $v) { nodes { code } }",
    "decisions(first: 10, affecting: $v) { nodes { code } }",
    "auditTrail(first: 10, actor: $v) { nodes { position } }",
    "auditTrail(first: 10, recordCode: $v, recordKind: $v) { nodes { position } }",
    "auditTrail(first: 10, commandId: $v, correlationId: $v) { nodes { position } }",
    "auditTrail(first: 10, types: [$v]) { nodes { position } }",
    "grants(first: 10, grantor: $v, grantee: $v) { nodes { code } }",
    "grants(first: 10, jurisdiction: $v, competence: $v) { nodes { code } }",
    "bodies(first: 10, jurisdiction: $v) { nodes { code } }",
    "jurisdictions(first: 10, kind: $v) { nodes { code } }",
    "commissions(first: 10, issuedBy: $v, issuedTo: $v) { nodes { code } }",
    "consultations(first: 10, openedBy: $v, consulted: $v) { nodes { code } }",
    "members(region: $v) { code }",
    "decision(code: $v) { code }",
    "body(code: $v) { code }",
    "jurisdiction(code: $v) { code }",
    "competence(code: $v) { code }",
    "whoIsCompetent(competence: $v, jurisdiction: $v, on: \"2013-01-01\") { body { code } }",
    "competenceMap(jurisdiction: $v, on: \"2013-01-01\", first: 10) { nodes { body { code } } }",
]


def empty(value: Any) -> bool:
    """Whether a read found nothing: null, an empty list, or a connection without nodes."""
    if isinstance(value, dict):
        return all(empty(item) for item in value.values())
    return value in (None, [])


@pytest.mark.parametrize("field", FILTERS, ids=lambda f: f.split(")")[0])
def test_injection_in_filters_finds_nothing_and_changes_nothing(served: Served,
                                                               field: str) -> None:
    for value in HOSTILE:
        answer = served.api.post(f"query($v: String!) {{ {field} }}", {"v": value},
                                 token=served.admin).json()
        assert_no_leak(answer)
        codes = error_codes(answer)
        if codes:  # an argument may be refused, but only as such, never as an internal error
            assert set(codes) <= {"INVALID_ARGUMENT", "UNKNOWN_REFERENCE"}, (value, answer)
        else:
            assert empty(answer["data"]), (value, answer)
    served.unchanged()
    # the tables are all still there and still read
    assert len(served.data("{ decisions(first: 10) { nodes { code } } }")["decisions"]
               ["nodes"]) == 2
    assert len(served.api.data("{ auditTrail(first: 100) { nodes { actor } } }",
                               token=served.admin)["auditTrail"]["nodes"]) == served.position


def test_text_search_still_finds_with_odd_characters(served: Served) -> None:
    query = "query($t: String) { decisions(first: 10, text: $t) { nodes { code } } }"
    for text in ("Delegatie", "delegatie!", "Delegatie & | ! (", "'Delegatie'"):
        codes = {n["code"] for n in served.data(query, {"t": text})["decisions"]["nodes"]}
        assert codes == {"college-delegeert"}, text
    served.unchanged()


@pytest.mark.parametrize("value", ["a\u0000b", "\ud800"], ids=["nul", "surrogate"])
def test_unencodable_characters_in_filters(served: Served, value: str) -> None:
    # sent by hand: a lone surrogate cannot be encoded as UTF-8, but JSON escapes it
    content = json.dumps({"query": "query($v: String) { decisions(first: 10, text: $v) "
                                   "{ nodes { code } } }", "variables": {"v": value}})
    response = served.api.client.post("/graphql", content=content.encode(),
                                      headers={"content-type": "application/json"})
    answer = response.json()
    assert_no_leak(answer)
    if response.status_code == 400:  # the escaped surrogate is no text: the body is refused
        assert value == "\ud800"
        assert messages(answer), answer
        assert all(m.startswith("The request body is not valid JSON") for m in messages(answer))
    else:
        assert error_codes(answer) in ([], ["INVALID_ARGUMENT"]), answer
    assert "Internal error." not in messages(answer)
    served.unchanged()


# Invalid commands -----------------------------------------------------------------------------

DECISION = c.TakeDecision(code="besluit-9", title="Organisatiebesluit",
                          competence="bestuursbesluiten", jurisdiction="dordrecht",
                          body="college-dordrecht", taken_on=date(2013, 3, 5), outcome="adopted")
GRANT = c.GrantMandate(competence="participatiewet", jurisdiction="dordrecht",
                       code="mandaat-2", grantor="dsb", grantee="directeur-sdd",
                       legal_basis="Awb 10:3", source_decision="dsb-mandateert",
                       valid_from=date(2010, 1, 1))


def with_input(command: c.Command, **changes: Any) -> dict[str, Any]:
    return {**graphql_input(command), **changes}


def user_errors(served: Served, command: c.Command, raw_input: dict[str, Any],
                key: str = "bad") -> list[dict[str, Any]]:
    body = served.api.mutate(command, key, token=served.admin, raw_input=raw_input).json()
    assert_no_leak(body)
    assert not body.get("errors"), body
    payload = body["data"][next(iter(body["data"]))]
    assert payload["position"] is None and payload["result"] is None
    return payload["userErrors"]


@pytest.mark.parametrize(("command", "changes", "field"), [
    (DECISION, {"code": "Bad Code!"}, "input.code"),
    (DECISION, {"code": ""}, "input.code"),
    (DECISION, {"title": "   "}, "input.title"),
    (DECISION, {"title": "x" * 4001}, "input.title"),
    (DECISION, {"takenOn": "1700-01-01"}, "input.takenOn"),
    (DECISION, {"takenOn": "2300-01-01"}, "input.takenOn"),
    (DECISION, {"votes": {"votesFor": -1}}, "input.votes.votesFor"),
    (DECISION, {"votes": {"members": [{"member": "A", "vote": "FOR", "weight": 0}]}},
     "input.votes.members.0.weight"),
    (DECISION, {"documents": [{"title": "Besluit", "address": "https://x", "sha256": "abc"}]},
     "input.documents.0.sha256"),
    (DECISION, {"affectedJurisdictions": ["dordrecht", "NOT VALID"]},
     "input.affectedJurisdictions.1"),
    (GRANT, {"validUntil": "2009-01-01"}, "input"),
], ids=lambda value: value if isinstance(value, str) else None)
def test_invalid_command_input(served: Served, command: c.Command, changes: dict[str, Any],
                               field: str) -> None:
    errors = user_errors(served, command, with_input(command, **changes))
    assert [(e["code"], e["field"]) for e in errors] == [("INVALID_COMMAND", field)], errors
    assert all(e["message"] for e in errors)
    served.unchanged()


@pytest.mark.parametrize("key", ["", "k" * 201])
def test_invalid_idempotency_keys(served: Served, key: str) -> None:
    body = served.api.mutate(DECISION, key, token=served.admin).json()
    errors = body["data"]["takeDecision"]["userErrors"]
    assert [(e["code"], e["field"]) for e in errors] == [("INVALID_COMMAND", "idempotencyKey")]
    served.unchanged()


@pytest.mark.parametrize("changes", [
    {"takenOn": "2013-02-30"}, {"outcome": "MAYBE"}, {"nope": 1}, {"code": None},
    {"votes": {"votesFor": "many"}},
], ids=str)
def test_input_the_schema_refuses(served: Served, changes: dict[str, Any]) -> None:
    body = served.api.mutate(DECISION, "bad", token=served.admin,
                             raw_input=with_input(DECISION, **changes)).json()
    assert body.get("errors") and body.get("data") is None, body
    assert_no_leak(body)
    served.unchanged()


def test_rule_violations_are_user_errors(served: Served) -> None:
    regional = with_input(DECISION, body="dsb")  # the DSB may not decide a local matter
    errors = user_errors(served, DECISION, regional)
    assert [(e["code"], e["field"]) for e in errors] == [("LOCAL_COMPETENCE", "input.body")]
    unknown = with_input(DECISION, competence="vuurwerk")
    assert [e["code"] for e in user_errors(served, DECISION, unknown, "bad-2")] \
        == ["UNKNOWN_REFERENCE"]
    served.unchanged()


def test_refusals_name_a_field_of_the_input(served: Served) -> None:
    fulfil = c.FulfilCommission(commission="opdracht-evaluatie", on=date(2013, 11, 1))
    served.api.accepted(fulfil, "fulfil", token=served.admin)
    served.position = served.ledger.position()
    withdraw = c.WithdrawCommission(commission="opdracht-evaluatie", on=date(2013, 12, 1),
                                    reason="Te laat")
    errors = user_errors(served, withdraw, graphql_input(withdraw))
    assert [e["code"] for e in errors] == ["INVALID_TRANSITION"]
    assert errors[0]["field"] in (None, "input.commission"), errors
    served.unchanged()


def test_nul_characters_in_command_text(served: Served) -> None:
    body = served.api.mutate(DECISION, "nul", token=served.admin,
                             raw_input=with_input(DECISION, title="Besluit\u0000x")).json()
    # refused before anything runs, like text no record can hold in any other argument
    assert body.get("data") is None, body
    assert [e["extensions"] for e in body["errors"]] == [
        {"code": "INVALID_ARGUMENT", "variable": "input"}]
    served.unchanged()
