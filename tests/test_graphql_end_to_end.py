"""End to end over GraphQL: a clerk records a decision and reads it back, idempotent retries,
Relay ids and pagination that neither skips nor repeats, also while new events arrive.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import graphql
import pytest

from api.schema import build_schema
from ledger import commands as c
from ledger.application import Ledger
from ledger.commands import COMMANDS
from ledger.history import history_entries
from projections.queries import audit
from tests.graphql_client import (
    Api,
    assert_no_leak,
    camel,
    graphql_input,
    issue_token,
    load_world,
    serving,
)
from tests.ledger_setup import import_demo
from tests.world import decision_under_mandate

pytestmark = pytest.mark.database

CLERK = "griffie-sdd"
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
BESCHIKKING = c.TakeDecision(**{
    **decision_under_mandate("beschikking-2013-17", date(2013, 3, 14)).model_dump(
        exclude_unset=True),
    "summary": "Toekenning bijstand",
    "documents": [c.DocumentInput(title="Beschikking", address="https://example.org/b17.pdf",
                                  sha256=SHA)],
})
PUBLISH = c.PublishDecision(decision="beschikking-2013-17", on=date(2013, 3, 20),
                            publication="Gemeenteblad Dordrecht 2013, 40")
READ_BACK = """query($code: String!, $at: Int) {
  decision(code: $code, atLeast: $at) {
    id code status body { code } competence { code } jurisdiction { code } citedGrant
    documents { title sha256 }
    chain { kind grantor { code } grantee { code } viaGrant { code } }
    verdict { legitimate }
    history(first: 20) { nodes { position type actor } }
  }
}"""


def read_back(api: Api, token: str, position: int) -> dict[str, Any] | None:
    return api.data(READ_BACK, {"code": BESCHIKKING.code, "at": position},
                    token=token)["decision"]


def history_positions(ledger: Ledger, reference: str) -> list[int]:
    return [entry["position"] for entry in history_entries(ledger, reference, 0, 1000)]


def test_a_clerk_records_a_decision_and_reads_it_back(database_url: str,
                                                      ledger: Ledger) -> None:
    load_world(ledger)
    clerk = issue_token(database_url, "clerk", ("directeur-sdd",), name=CLERK)
    auditor = issue_token(database_url, "auditor", name="rekenkamer")
    with serving(database_url) as api:
        taken = api.payload(BESCHIKKING, "beschikking-17", token=clerk)
        assert taken["userErrors"] == [] and taken["result"]["decision"] == BESCHIKKING.code
        # the auditor sees it at once, unpublished, with the chain the ledger checked
        found = read_back(api, auditor, taken["position"])
        assert found is not None and found["status"] == "ADOPTED"
        assert [(link["kind"], (link["viaGrant"] or {}).get("code")) for link in found["chain"]] == [
            ("ATTRIBUTION", None), ("DELEGATION", "delegatie-dsb"), ("MANDATE", "mandaat-sdd")]
        assert found["chain"][-1]["grantee"] == {"code": "directeur-sdd"}
        assert found["verdict"] == {"legitimate": True}
        assert found["documents"] == [{"title": "Beschikking", "sha256": SHA}]
        assert {e["actor"] for e in found["history"]["nodes"]} == {CLERK}

        published = api.accepted(PUBLISH, "beschikking-17-bekend", token=clerk)
        found = read_back(api, clerk, published)  # published: the clerk reads it too
        assert found is not None and found["status"] == "PUBLISHED"
        assert found["body"] == {"code": "directeur-sdd"} and found["citedGrant"] == "mandaat-sdd"
        assert len(found["chain"]) == 3
        history = found["history"]["nodes"]
        assert [e["position"] for e in history] \
            == history_positions(ledger, f"decision:{BESCHIKKING.code}")
        assert history[-1]["position"] == published and history[-1]["type"] == "Decision.Published"
        assert all(e["actor"] is None for e in history)  # metadata is for auditors


def test_a_clerk_reads_its_own_unpublished_decision(database_url: str, ledger: Ledger) -> None:
    load_world(ledger)
    clerk = issue_token(database_url, "clerk", ("directeur-sdd",), name=CLERK)
    with serving(database_url) as api:
        position = api.accepted(BESCHIKKING, "beschikking-17", token=clerk)
        assert read_back(api, clerk, position) is not None


def test_an_idempotent_retry_stores_nothing(database_url: str, ledger: Ledger) -> None:
    load_world(ledger)
    clerk = issue_token(database_url, "clerk", ("directeur-sdd",), name=CLERK)
    with serving(database_url) as api:
        first = api.payload(BESCHIKKING, "beschikking-17", token=clerk)
        head = ledger.position()
        assert first["replayed"] is False and first["position"] == head
        for _ in range(3):
            again = api.payload(BESCHIKKING, "beschikking-17", token=clerk)
            assert again["replayed"] is True
            assert (again["position"], again["result"], again["userErrors"]) \
                == (first["position"], first["result"], [])
        assert ledger.position() == head

        other = c.TakeDecision(**{**BESCHIKKING.model_dump(exclude_unset=True),
                                  "title": "Een ander besluit"})
        reused = api.payload(other, "beschikking-17", token=clerk)
        assert [e["code"] for e in reused["userErrors"]] == ["IDEMPOTENCY_KEY_REUSED"]
        assert reused["position"] is None and reused["replayed"] is False
        assert ledger.position() == head


def test_a_reused_key_names_the_key_argument(database_url: str, ledger: Ledger) -> None:
    load_world(ledger)
    admin = issue_token(database_url, "admin", name="beheerder")
    with serving(database_url) as api:
        api.accepted(BESCHIKKING, "k", token=admin)
        other = c.TakeDecision(**{**BESCHIKKING.model_dump(exclude_unset=True), "title": "Anders"})
        reused = api.payload(other, "k", token=admin)
        assert [e["field"] for e in reused["userErrors"]] == ["idempotencyKey"]


def test_a_retry_after_the_state_moved_on_still_replays(database_url: str,
                                                        ledger: Ledger) -> None:
    """The first answer stands even when the command would now be refused (it exists)."""
    load_world(ledger)
    admin = issue_token(database_url, "admin", name="beheerder")
    with serving(database_url) as api:
        first = api.payload(BESCHIKKING, "k", token=admin)
        api.accepted(PUBLISH, "publish", token=admin)
        again = api.payload(BESCHIKKING, "k", token=admin)
        assert again["replayed"] is True and again["position"] == first["position"]
        fresh = api.payload(BESCHIKKING, "k-new", token=admin)
        assert fresh["position"] is None and fresh["userErrors"]


# Relay ------------------------------------------------------------------------------------------

CONNECTIONS = {
    "Jurisdiction": ("jurisdictions", "id code"),
    "Body": ("bodies", "id code"),
    "Competence": ("competences", "id code"),
    "Decision": ("decisions", "id code"),
    "Grant": ("grants", "id code"),
    "LedgerEvent": ("auditTrail", "id position"),
    "Commission": ("commissions", "id code"),
    "Consultation": ("consultations", "id code"),
    "Dossier": ("dossiers", "id code"),
}
NODE = """query($id: ID!) { node(id: $id) { __typename id
  ... on Jurisdiction { code } ... on Body { code } ... on Competence { code }
  ... on Decision { code } ... on Grant { code }
  ... on Commission { code } ... on Consultation { code } ... on Dossier { code }
  ... on LedgerEvent { position }
} }"""


def test_the_round_trips_cover_every_type_with_a_global_id() -> None:
    schema = graphql.build_schema(build_schema().as_str())
    node = schema.get_type("Node")
    assert isinstance(node, graphql.GraphQLInterfaceType)
    assert {t.name for t in schema.get_possible_types(node)} == set(CONNECTIONS)


def listed(api: Api, token: str | None, type_name: str, position: int) -> list[dict[str, Any]]:
    field, selection = CONNECTIONS[type_name]
    query = f"query($at: Int) {{ {field}(first: 100, atLeast: $at) {{ nodes {{ {selection} }} }} }}"
    return api.data(query, {"at": position}, token=token)[field]["nodes"]


def assert_round_trips(api: Api, token: str | None, nodes: list[dict[str, Any]],
                       type_name: str) -> None:
    assert nodes, type_name
    for node in nodes:
        found = api.data(NODE, {"id": node["id"]}, token=token)["node"]
        assert found == {"__typename": type_name, **node}, (type_name, node, found)


@pytest.mark.parametrize("type_name", sorted(CONNECTIONS))
def test_node_round_trips_ids_from_connections(database_url: str, ledger: Ledger,
                                               type_name: str) -> None:
    position = load_world(ledger)
    auditor = issue_token(database_url, "auditor", name="rekenkamer")
    with serving(database_url) as api:
        assert_round_trips(api, auditor, listed(api, auditor, type_name, position), type_name)
        # the public refetches what it may list too
        assert_round_trips(api, None, listed(api, None, type_name, position), type_name)


# Pagination -----------------------------------------------------------------------------------

Page = Callable[[int, str | None], dict[str, Any]]


def walk(page: Page, size: int, start: str | None = None) -> list[Any]:
    """Every item of a list after `start`, page by page, following endCursor until hasNextPage
    is false."""
    items: list[Any] = []
    after = start
    for _ in range(10_000):  # a bound, so a list that never ends fails instead of hanging
        connection = page(size, after)
        edges = connection["edges"]
        assert len(edges) <= size
        items += [edge["node"] for edge in edges]
        info = connection["pageInfo"]
        assert info["hasPreviousPage"] is (after is not None)
        if not info["hasNextPage"]:
            return items
        assert edges and info["endCursor"] == edges[-1]["cursor"]
        after = info["endCursor"]
    raise AssertionError("the list did not end")


def pager(api: Api, token: str, field: str, selection: str, extra: str = "") -> Page:
    query = (f"query($first: Int!, $after: String) {{ {field}(first: $first, after: $after"
             f"{extra}) {{ edges {{ cursor node {{ {selection} }} }} "
             "pageInfo { hasNextPage hasPreviousPage endCursor startCursor } } }")

    def page(size: int, after: str | None) -> dict[str, Any]:
        answer = api.answer(query, {"first": size, "after": after}, token=token)
        assert_no_leak(answer)
        return answer["data"][field]

    return page


@pytest.fixture
def demo(ledger: Ledger) -> int:
    """The Drechtsteden demo data; returns the ledger position after it."""
    import_demo(ledger)
    return ledger.position()


LISTS = [
    ("auditTrail", "position", ""),
    ("auditTrail", "position", ", newestFirst: true"),
    ("decisions", "code", ""),
    ("decisions", "code", ", newestFirst: true"),
    ("decisions", "code", ', status: PUBLISHED'),
    ("bodies", "code", ""),
    ("jurisdictions", "code", ""),
    ("grants", "code competence { code } jurisdiction { code }", ', on: "2013-03-01"'),
    ("commissions", "code", ', on: "2013-06-01"'),
    ("consultations", "code", ', on: "2013-06-01"'),
    ("competences", "code", ""),
    ("competenceMap", "body { code } competence { code }",
     ', jurisdiction: "drechtsteden", on: "2013-03-01"'),
]


@pytest.mark.parametrize(("field", "selection", "extra"), LISTS,
                         ids=[f"{f}{e}" for f, _, e in LISTS])
def test_pages_walk_a_list_without_gaps_or_repeats(database_url: str, ledger: Ledger, demo: int,
                                                   field: str, selection: str, extra: str) -> None:
    auditor = issue_token(database_url, "auditor", name="rekenkamer")
    with serving(database_url) as api:
        api.data("query($at: Int) { decisions(first: 1, atLeast: $at) { nodes { code } } }",
                 {"at": demo})
        page = pager(api, auditor, field, selection, extra)
        whole = walk(page, 100)
        assert whole, field
        for size in (1, 7, 33):
            assert walk(page, size) == whole, size
        if field == "auditTrail":
            expected = list(range(1, demo + 1))
            assert [n["position"] for n in whole] == (
                expected[::-1] if "newestFirst" in extra else expected)


def test_history_pages(database_url: str, ledger: Ledger, demo: int) -> None:
    auditor = issue_token(database_url, "auditor", name="rekenkamer")
    with serving(database_url) as api:
        codes = [n["code"] for n in api.data(
            "query($at: Int) { decisions(first: 100, atLeast: $at) { nodes { code } } }",
            {"at": demo}, token=auditor)["decisions"]["nodes"]]
        query = ("query($code: String!, $first: Int!, $after: String) { decision(code: $code) "
                 "{ history(first: $first, after: $after) { edges { cursor node { position } } "
                 "pageInfo { hasNextPage hasPreviousPage endCursor } } } }")
        for code in codes[:10]:
            def page(size: int, after: str | None, code: str = code) -> dict[str, Any]:
                return api.data(query, {"code": code, "first": size, "after": after},
                                token=auditor)["decision"]["history"]

            assert [n["position"] for n in walk(page, 1)] \
                == history_positions(ledger, f"decision:{code}")


def test_a_cursor_stays_valid_while_events_arrive(database_url: str, ledger: Ledger) -> None:
    position = load_world(ledger)
    auditor = issue_token(database_url, "auditor", name="rekenkamer")
    admin = issue_token(database_url, "admin", name="beheerder")
    with serving(database_url) as api:
        api.data("query($at: Int) { decisions(first: 1, atLeast: $at) { nodes { code } } }",
                 {"at": position})
        trail = pager(api, auditor, "auditTrail", "position")
        decisions = pager(api, auditor, "decisions", "code")
        first_events = trail(10, None)
        first_decisions = decisions(2, None)

        for number in range(3):
            new = c.TakeDecision(code=f"nieuw-{number}", title=f"Nieuw besluit {number}",
                                 competence="bestuursbesluiten", jurisdiction="dordrecht",
                                 body="college-dordrecht", taken_on=date(2013, 9, 1 + number),
                                 outcome="adopted")
            head = api.accepted(new, f"nieuw-{number}", token=admin)
        api.data("query($at: Int) { ledger { position } decisions(first: 1, atLeast: $at) "
                 "{ nodes { code } } }", {"at": head})

        events = [e["node"]["position"] for e in first_events["edges"]] \
            + [n["position"] for n in walk(trail, 4, first_events["pageInfo"]["endCursor"])]
        assert events == list(range(1, head + 1))
        codes = [e["node"]["code"] for e in first_decisions["edges"]] \
            + [n["code"] for n in walk(decisions, 1, first_decisions["pageInfo"]["endCursor"])]
        assert len(codes) == len(set(codes))
        assert codes[-3:] == ["nieuw-0", "nieuw-1", "nieuw-2"]
        assert set(codes) == {n["code"] for n in walk(decisions, 100)}


def test_mutation_names_follow_the_commands(database_url: str, ledger: Ledger) -> None:
    """Every command is a mutation of the same name in camelCase, taking the command's input."""
    with serving(database_url) as api:
        fields = api.data("{ __type(name: \"Mutation\") { fields { name args { name } } } }")
        found = {f["name"]: {a["name"] for a in f["args"]} for f in fields["__type"]["fields"]}
    assert set(found) == {camel(name) for name in COMMANDS}
    assert all(args == {"idempotencyKey", "input", "correlationId"} for args in found.values())
    assert graphql_input(PUBLISH) == {"decision": "beschikking-2013-17", "on": "2013-03-20",
                                      "publication": "Gemeenteblad Dordrecht 2013, 40"}


def test_the_histories_of_a_page_of_decisions_come_in_one_query(
        database_url: str, ledger: Ledger, demo: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """No N+1: a page of decisions with their histories asks the audit trail once, and each
    decision gets its own history, the same as when asked for one by one."""
    auditor = issue_token(database_url, "auditor", name="rekenkamer")
    calls: list[int] = []
    load = audit.histories

    async def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return await load(*args, **kwargs)

    monkeypatch.setattr(audit, "histories", counted)
    query = ("query($at: Int) { decisions(first: 30, atLeast: $at) { nodes { code "
             "history(first: 5) { nodes { position } } } } }")
    with serving(database_url) as api:
        nodes = api.data(query, {"at": demo}, token=auditor)["decisions"]["nodes"]
        assert len(calls) == 1 and len(nodes) == 30
        for node in nodes:
            assert [n["position"] for n in node["history"]["nodes"]] \
                == history_positions(ledger, f"decision:{node['code']}")[:5]
