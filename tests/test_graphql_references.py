"""Fields that name a record answer the record itself, loaded per request in one query per kind
of record (no N+1), as it stood at the moment its parent is read at; `competences` lists what
can be named; every command answers with a payload of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import asyncpg
import graphql
import pytest

from api.auth import Principal, TrustedTokens
from api.availability import DatabaseAvailability
from api.schema import build_schema
from api.schema.context import Context
from api.tail import Tail
from ledger.application import Ledger
from ledger.transparency.tiles import TileSet
from projections.tracking import SCHEMA
from projections.waiting import ProjectionWatch
from tests.graphql_client import graphql_input, issue_token, load_world, serving
from tests.ledger_setup import import_demo
from tests.read_models import pool_on, project
from tests.world import decision_under_mandate

pytestmark = pytest.mark.database

AUDITOR = Principal("rekenkamer", "auditor")


class CountingDb:
    """The read pool, counting the statements the read layer sends through it. It offers only
    the query methods the read layer uses: a read that acquired a connection of its own would
    fail here rather than go uncounted."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.statements: list[str] = []

    async def fetch(self, sql: str, *args: Any, **kwargs: Any) -> list[asyncpg.Record]:
        self.statements.append(sql)
        return await self.pool.fetch(sql, *args, **kwargs)

    async def fetchrow(self, sql: str, *args: Any, **kwargs: Any) -> asyncpg.Record | None:
        self.statements.append(sql)
        return await self.pool.fetchrow(sql, *args, **kwargs)

    async def fetchval(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        self.statements.append(sql)
        return await self.pool.fetchval(sql, *args, **kwargs)


@asynccontextmanager
async def projected_demo(ledger: Ledger, database_url: str) -> AsyncIterator[asyncpg.Pool]:
    import_demo(ledger)
    async with pool_on(database_url) as pool:
        await project(pool)
        yield pool


async def execute(pool: asyncpg.Pool, db: Any, ledger: Ledger, query: str,
                  variables: dict[str, Any]) -> dict[str, Any]:
    availability = DatabaseAvailability(lambda: pool.fetchval("SELECT 1"))
    watch = ProjectionWatch(pool)
    context = Context(pool=db, ledger=ledger, principal=AUDITOR, watch=watch,
                      tokens=TrustedTokens(pool, availability), availability=availability,
                      tail=Tail(pool, watch), tiles=TileSet())
    result = await build_schema().execute(query, variable_values=variables,
                                          context_value=context)
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


DECISIONS_WITH_REFERENCES = """query($first: Int!) {
  decisions(first: $first, on: "2014-01-01") { nodes {
    code
    body { code name kind jurisdiction { code kind } }
    proposedBy { code }
    competence { code title kinds }
    jurisdiction { code name kind }
    affectedJurisdictions { code }
    chain { kind grantee { code name } grantor { code } sourceDecision { code }
            grant viaGrant { code kind grantee { code } } }
    frameworkDecision { code title }
    reliesOnGrant { code kind grantor { code } sourceDecision { code } parentMandate { code } }
    followedConsultation { code views { council { code } } }
    inDossier { code title }
  } }
}"""


async def test_a_list_of_decisions_costs_the_same_queries_however_long(
        ledger: Ledger, database_url: str) -> None:
    counted: dict[int, int] = {}
    async with projected_demo(ledger, database_url) as pool:
        for first in (40, 55, 70):
            db = CountingDb(pool)
            data = await execute(pool, db, ledger, DECISIONS_WITH_REFERENCES, {"first": first})
            nodes = data["decisions"]["nodes"]
            assert len(nodes) == first
            assert all(n["competence"]["code"] and n["jurisdiction"]["code"] for n in nodes)
            assert {n["body"]["code"] for n in nodes if n["body"]} and all(
                n["body"]["jurisdiction"]["code"] for n in nodes if n["body"])
            assert any(n["frameworkDecision"] for n in nodes)
            for named in ("reliesOnGrant", "followedConsultation", "inDossier"):
                assert any(n[named] for n in nodes), named
            assert any(n["reliesOnGrant"]["parentMandate"] for n in nodes if n["reliesOnGrant"])
            links = [link for n in nodes for link in n["chain"]]
            assert any(link["viaGrant"] for link in links)
            for link in links:
                # the grant the link passes through: none for the attribution at the root
                assert (link["viaGrant"] is None) == (link["kind"] == "ATTRIBUTION"), link
                assert (link["viaGrant"] or {}).get("code") == link["grant"], link
                if link["viaGrant"] is not None:
                    assert link["viaGrant"]["grantee"] == {"code": link["grantee"]["code"]}
            counted[first] = len(db.statements)
    # however many decisions the page holds: the page, then a query per kind of record named
    # by the decisions and their chains (bodies, competences, jurisdictions, decisions, grants,
    # consultations, dossiers), then one per kind named only by the grants those loaded (their
    # source decisions and parent mandates)
    assert counted == dict.fromkeys(counted, 10), counted


EVENTS_WITH_RECORDS = """query($after: String) {
  auditTrail(first: 100, after: $after) {
    nodes {
      recordKind recordCode
      record {
        __typename
        ... on Jurisdiction { code } ... on Body { code } ... on Competence { code }
        ... on Decision { code } ... on Dossier { code } ... on Commission { code }
        ... on Consultation { code }
        ... on Holding { code competence { code } jurisdiction { code } }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}"""
RECORD_TYPES = {"jurisdiction": "Jurisdiction", "body": "Body", "competence": "Competence",
                "holding": "Holding", "decision": "Decision", "dossier": "Dossier",
                "commission": "Commission", "consultation": "Consultation"}


async def test_an_event_gives_its_record_in_one_query_per_kind(
        ledger: Ledger, database_url: str) -> None:
    seen: set[str] = set()
    async with projected_demo(ledger, database_url) as pool:
        after = None
        while True:
            db = CountingDb(pool)
            trail = (await execute(pool, db, ledger, EVENTS_WITH_RECORDS,
                                   {"after": after}))["auditTrail"]
            kinds = {event["recordKind"] for event in trail["nodes"]}
            for event in trail["nodes"]:
                record = event["record"]
                assert record["__typename"] == RECORD_TYPES[event["recordKind"]], event
                assert record["code"] == event["recordCode"], event
                if record["__typename"] == "Holding":
                    assert f"{record['competence']['code']}@{record['jurisdiction']['code']}" \
                        == record["code"]
            # the page, a query per kind of record on it, and for holdings (read from their
            # code) then one for their competences and one for their jurisdictions
            assert len(db.statements) <= 1 + len(kinds - {"holding"}) + 2 * ("holding" in kinds)
            seen |= kinds
            if not trail["pageInfo"]["hasNextPage"]:
                break
            after = trail["pageInfo"]["endCursor"]
    assert seen == set(RECORD_TYPES)


BODY_OF_A_DECISION = """query($code: String!, $on: Date, $knownAt: Int) {
  decision(code: $code, on: $on, knownAt: $knownAt) {
    body { code active abolishedOn successor { code } }
  }
}"""
BEGROTING = "drechtraad-2013-07-02-begroting-2014"


async def abolition_position(pool: asyncpg.Pool) -> int:
    position: int = await pool.fetchval(
        f"SELECT position FROM {SCHEMA}.audit_trail WHERE kind = 'body'"
        " AND code = 'drechtraad' AND event_type = 'Body.Abolished'")
    return position


async def test_a_named_record_is_read_at_the_moment_of_its_parent(
        ledger: Ledger, database_url: str) -> None:
    async with projected_demo(ledger, database_url) as pool:
        await _read_at_moments(pool, ledger)


async def _read_at_moments(pool: asyncpg.Pool, ledger: Ledger) -> None:
    async def body(on: str, known_at: int | None = None) -> dict[str, Any]:
        data = await execute(pool, pool, ledger, BODY_OF_A_DECISION,
                             {"code": BEGROTING, "on": on, "knownAt": known_at})
        return data["decision"]["body"]

    assert (await body("2014-01-01"))["active"] is True
    after = await body("2023-01-01")
    assert after["active"] is False and after["abolishedOn"] == "2022-01-01"
    assert after["successor"] == {"code": "algemeen-bestuur-grd"}
    # as known before the abolition was recorded, the body still stands in 2023
    before_it_was_known = await body("2023-01-01", await abolition_position(pool) - 1)
    assert before_it_was_known == {"code": "drechtraad", "active": True, "abolishedOn": None,
                                   "successor": None}


COMPETENCES = """query($kind: CompetenceKind) {
  competences(first: 100, kind: $kind) { nodes { code delegable mandatable kinds } }
}"""


async def test_competences_are_listed_by_kind(ledger: Ledger, database_url: str) -> None:
    async with projected_demo(ledger, database_url) as pool:
        await _competences_by_kind(pool, ledger)


async def _competences_by_kind(pool: asyncpg.Pool, ledger: Ledger) -> None:
    async def listed(kind: str | None) -> list[dict[str, Any]]:
        data = await execute(pool, pool, ledger, COMPETENCES, {"kind": kind})
        return data["competences"]["nodes"]

    every = await listed(None)
    assert every and len({c["code"] for c in every}) == len(every)
    for kind in ("LOCAL", "REGIONAL", "DELEGABLE", "MANDATABLE"):
        found = await listed(kind)
        assert found, kind
        assert found == [c for c in every if kind in c["kinds"]], kind
    assert all(c["delegable"] for c in await listed("DELEGABLE"))
    assert all(c["mandatable"] for c in await listed("MANDATABLE"))
    regional = {c["code"] for c in await listed("REGIONAL")}
    assert "regionale-begroting" in regional and "participatiewet-uitvoering" not in regional

    one = await execute(pool, pool, ledger,
                        'query { competence(code: "regionale-begroting") { code kinds } }', {})
    assert one["competence"]["code"] == "regionale-begroting"
    assert "REGIONAL" in one["competence"]["kinds"]


BESCHIKKING = decision_under_mandate("beschikking-2013-17", date(2013, 3, 14))
TAKE = """mutation($key: String!, $input: TakeDecisionInput!) {
  takeDecision(idempotencyKey: $key, input: $input) {
    __typename position replayed userErrors { field message code }
    decision { code status outcome body { code } chain { grantee { code } } }
  }
}"""


def test_a_command_answers_with_the_record_it_concerns(database_url: str, ledger: Ledger) -> None:
    load_world(ledger)
    clerk = issue_token(database_url, "clerk", ("directeur-sdd",), name="griffie")
    with serving(database_url) as api:
        variables = {"key": "beschikking-17", "input": graphql_input(BESCHIKKING)}
        taken = api.data(TAKE, variables, token=clerk)["takeDecision"]
        assert taken["__typename"] == "TakeDecisionPayload" and taken["userErrors"] == []
        assert taken["decision"] == {
            "code": BESCHIKKING.code, "status": "ADOPTED", "outcome": "ADOPTED",
            "body": {"code": "directeur-sdd"}, "chain": taken["decision"]["chain"]}
        assert len(taken["decision"]["chain"]) == 3
        assert taken["decision"]["chain"][-1] == {"grantee": {"code": "directeur-sdd"}}
        again = api.data(TAKE, variables, token=clerk)["takeDecision"]
        assert again["replayed"] is True and again["decision"] == taken["decision"]
        # refused: no record, the refusal in userErrors
        refused = api.data(TAKE, {**variables, "key": "other"}, token=clerk)["takeDecision"]
        assert refused["decision"] is None and refused["position"] is None
        assert refused["userErrors"]


def test_every_command_has_its_own_payload_and_result_is_deprecated() -> None:
    schema = graphql.build_schema(build_schema().as_str())
    mutation = schema.mutation_type
    assert mutation is not None
    interface = schema.get_type("CommandPayload")
    for name, field in mutation.fields.items():
        payload = graphql.get_named_type(field.type)
        assert payload.name == name[0].upper() + name[1:] + "Payload"
        assert isinstance(payload, graphql.GraphQLObjectType) and interface in payload.interfaces
        assert payload.fields["result"].deprecation_reason
