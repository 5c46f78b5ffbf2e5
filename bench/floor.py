"""The floor of the Python stack under the GraphQL reads: a hand-written Starlette app with one
endpoint per documented operation that, for the same variables, calls the same query-layer
functions (projections/queries/) with the same arguments as the resolvers do, loads the records
an answer names with the same batched `*_by_code` queries the API's DataLoaders use, checks the
named arguments with the same `known_records` query, and writes the JSON the GraphQL answer's
`data` holds, with orjson. No schema, no validation, no resolver machinery, no response cache:
what is left is Starlette, uvicorn, asyncpg and the query layer.

    python -m bench.floor --port PORT   (BEVOEGD_DATABASE_URL: the database read)

It takes the load generator's request bodies (bench/load.py) at `POST /<Operation>`, reads
their `variables` and ignores the query. It reads as the GraphQL figures ask: as the public
(published decisions only), but for the auditor's operation (AuditTrailPage), which it reads as
an auditor without checking a token."""

from __future__ import annotations

import base64
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import asyncpg
import click
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.app import STATEMENT_SECONDS
from api.schema import transparency
from api.schema.context import Moment
from ledger.database import DATABASE_URL_VARIABLE
from ledger.transparency.tiles import TileSet
from projections.connection import create_pool
from projections.queries import audit, commissions, competences, decisions, records
from projections.queries.commissions import commissions_by_code, consultations_by_code
from projections.queries.competences import competences_by_code, grant_key, grants_by_key
from projections.queries.decisions import decisions_by_code
from projections.queries.pagination import Page, PageRequest
from projections.queries.structure import bodies_by_code, dossiers_by_code, jurisdictions_by_code
from projections.report import model
from projections.runner import all_projections

Json = dict[str, Any]
Endpoint = Callable[[asyncpg.Pool, Json], Awaitable[Json]]


# What every read does first --------------------------------------------------------------------


async def moment(pool: asyncpg.Pool, variables: Json) -> Moment:
    """As Context.moment: `on` or today, and `knownAt` checked against the ledger's head (a
    request's context starts without one, so every `knownAt` costs the look-up)."""
    known_at = variables.get("knownAt")
    if known_at is not None and known_at > await audit.ledger_head(pool):
        raise ValueError(f"knownAt {known_at} is beyond the ledger's last event")
    on = variables.get("on")
    return Moment(date.fromisoformat(on) if on else date.today(), known_at)


async def check_references(pool: asyncpg.Pool, named: Iterable[tuple[str, str | None]], *,
                           published_only: bool = True) -> None:
    """As NamedRecordsExist: the named records the arguments give, in one query."""
    wanted = {(kind, code) for kind, code in named if code is not None}
    if wanted and await records.known_records(pool, wanted, published_only) != wanted:
        raise ValueError(f"unknown reference among {sorted(wanted)}")


# The records an answer names, one query per kind (as the DataLoaders batch them) -----------------


@dataclass
class Named:
    """The codes an answer names, gathered before they are loaded all at once."""

    moment: Moment
    published_only: bool = True  # False: an auditor's read
    bodies: set[str] = field(default_factory=set)
    competences: set[str] = field(default_factory=set)
    jurisdictions: set[str] = field(default_factory=set)
    decisions: set[str] = field(default_factory=set)
    grants: set[str] = field(default_factory=set)
    dossiers: set[str] = field(default_factory=set)
    consultations: set[str] = field(default_factory=set)
    commissions: set[str] = field(default_factory=set)

    def add(self, kind: str, *codes: str | None) -> None:
        getattr(self, kind).update(code for code in codes if code is not None)

    async def load(self, pool: asyncpg.Pool, loaded: Loaded | None = None) -> Loaded:
        """The records named, into `loaded` if given (what a record loaded names is loaded
        after it, as the DataLoaders load it a level deeper)."""
        on, known_at = self.moment.on, self.moment.known_at
        loaded = loaded or Loaded()
        if self.bodies:
            loaded.bodies |= await bodies_by_code(pool, sorted(self.bodies), on, known_at)
        if self.competences:
            loaded.competences |= await competences_by_code(pool, sorted(self.competences),
                                                           known_at)
        if self.jurisdictions:
            loaded.jurisdictions |= await jurisdictions_by_code(pool, sorted(self.jurisdictions),
                                                               known_at)
        if self.decisions:
            loaded.decisions |= await decisions_by_code(pool, sorted(self.decisions), on,
                                                       known_at, self.published_only)
        if self.grants:
            loaded.grants |= await grants_by_key(pool, sorted(self.grants), on, known_at)
        if self.dossiers:
            loaded.dossiers |= await dossiers_by_code(pool, sorted(self.dossiers), known_at)
        if self.consultations:
            loaded.consultations |= await consultations_by_code(pool, sorted(self.consultations),
                                                                on, known_at)
        if self.commissions:
            loaded.commissions |= await commissions_by_code(pool, sorted(self.commissions), on,
                                                            known_at)
        return loaded


@dataclass
class Loaded:
    bodies: dict[str, Json] = field(default_factory=dict)
    competences: dict[str, Json] = field(default_factory=dict)
    jurisdictions: dict[str, Json] = field(default_factory=dict)
    decisions: dict[str, Json] = field(default_factory=dict)
    grants: dict[str, Json] = field(default_factory=dict)
    dossiers: dict[str, Json] = field(default_factory=dict)
    consultations: dict[str, Json] = field(default_factory=dict)
    commissions: dict[str, Json] = field(default_factory=dict)

    def pick(self, kind: str, code: str | None, *fields: str) -> Json | None:
        """The record's fields the operation selects (enum values as GraphQL names them)."""
        row = getattr(self, kind).get(code) if code is not None else None
        if row is None:
            return None
        return {camel(name): enum_name(row[name]) if name in ENUMS else row[name]
                for name in fields}


ENUMS = frozenset({"kind", "kinds", "majority_rule", "outcome", "state", "status", "via",
                   "vote"})
"""The fields whose values an answer gives as an enum's name (or a list of them)."""


def enum_name(value: Any) -> Any:
    if isinstance(value, list):
        return [enum_name(each) for each in value]
    return value.upper() if value is not None else None


def camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(word.title() for word in rest)


def global_id(type_name: str, key: str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode()


def fields(entry: Any, *names: str) -> Json:
    """The fields of a report's entry (a dataclass) the operation selects, as it names them."""
    return {camel(name): getattr(entry, name) for name in names}


def page_info(page: Page[Any]) -> Json:
    return {"hasNextPage": page.has_next_page, "endCursor": page.end_cursor}


# Competences and who holds them ----------------------------------------------------------------


def _name_chain(named: Named, found: competences.Competent) -> None:
    named.add("bodies", found.entry.body)
    _name_links(named, found.entry.chain, found.competence, found.jurisdiction)


def _name_links(named: Named, chain: list[Json], competence: str, jurisdiction: str) -> None:
    for link in chain:
        named.add("bodies", link["grantee"], link.get("grantor"), link.get("framework_body"))
        named.add("decisions", link.get("source_decision"))
        named.add("grants", _grant_key(competence, jurisdiction, link.get("grant")))


def _grant_key(competence: str, jurisdiction: str, code: str | None) -> str | None:
    return grant_key(competence, jurisdiction, code) if code is not None else None


def _chain(chain: list[Json], competence: str, jurisdiction: str, loaded: Loaded) -> list[Json]:
    """A legitimacy chain as the operations select it (ChainLink)."""
    return [{
        "kind": enum_name(link["kind"]),
        "grantor": loaded.pick("bodies", link.get("grantor"), "code", "name"),
        "grantee": loaded.pick("bodies", link["grantee"], "code", "name"),
        "viaGrant": loaded.pick("grants", _grant_key(competence, jurisdiction, link.get("grant")),
                                "code", "status", "valid_until"),
        "legalBasis": link["legal_basis"],
        "sourceDecision": loaded.pick("decisions", link.get("source_decision"), "code", "title"),
        "frameworkBody": loaded.pick("bodies", link.get("framework_body"), "code", "name"),
        "validFrom": link["valid_from"], "validUntil": link.get("valid_until"),
    } for link in chain]


def _competent(found: competences.Competent, loaded: Loaded) -> Json:
    entry = found.entry
    return {
        "body": loaded.pick("bodies", entry.body, "code", "name", "kind"),
        "via": enum_name(entry.via), "subjects": entry.subjects,
        "validFrom": entry.valid_from, "validUntil": entry.valid_until,
        "chain": _chain(entry.chain, found.competence, found.jurisdiction, loaded)}


async def who_is_competent(pool: asyncpg.Pool, variables: Json) -> Json:
    await check_references(pool, [("competence", variables["competence"]),
                                  ("jurisdiction", variables["jurisdiction"])])
    at = await moment(pool, variables)
    found = await competences.who_is_competent(
        pool, variables["competence"], variables["jurisdiction"], at.on,
        variables.get("subject"), at.known_at)
    named = Named(at)
    for each in found:
        _name_chain(named, each)
    loaded = await named.load(pool)
    return {"whoIsCompetent": [_competent(each, loaded) for each in found]}


async def competence_map(pool: asyncpg.Pool, variables: Json) -> Json:
    await check_references(pool, [("jurisdiction", variables["jurisdiction"]),
                                  ("competence", variables.get("competence"))])
    page = PageRequest(variables["first"], variables.get("after"))
    at = await moment(pool, variables)
    found = competences.listed(await competences.competence_map(
        pool, variables["jurisdiction"], at.on, at.known_at, variables.get("competence")), page)
    named = Named(at)
    for each in found.items:
        _name_chain(named, each)
        named.add("competences", each.competence)
        named.add("jurisdictions", each.jurisdiction)
    loaded = await named.load(pool)
    return {"competenceMap": {"edges": [{"cursor": cursor, "node": {
        "competence": loaded.pick("competences", each.competence, "code", "title", "kinds"),
        "jurisdiction": loaded.pick("jurisdictions", each.jurisdiction, "code", "name"),
        **_competent(each, loaded)}} for cursor, each in found.edges],
        "pageInfo": page_info(found)}}


async def competence_list(pool: asyncpg.Pool, variables: Json) -> Json:
    page = PageRequest(variables["first"], variables.get("after"))
    at = await moment(pool, variables)
    kind = variables.get("kind")
    found = await competences.competences(pool, page, kind.lower() if kind else None,
                                          at.known_at)
    return {"competences": {"nodes": [{
        "id": global_id("Competence", row["code"]), "code": row["code"], "title": row["title"],
        "delegable": row["delegable"], "mandatable": row["mandatable"],
        "kinds": enum_name(row["kinds"])} for row in found.items],
        "pageInfo": page_info(found)}}


# Commissions ------------------------------------------------------------------------------------


async def open_commissions(pool: asyncpg.Pool, variables: Json) -> Json:
    """Both lists of the operation, OPEN and OVERDUE, as its two aliased fields."""
    issued_by, issued_to = variables.get("issuedBy"), variables.get("issuedTo")
    await check_references(pool, [("body", issued_by), ("body", issued_to)])
    at = await moment(pool, variables)
    pages = {alias: await commissions.commissions(
        pool, PageRequest(variables["first"], variables.get(f"{alias}After")), at.on,
        at.known_at, commissions.CommissionFilter(state=alias, issued_by=issued_by,
                                                  issued_to=issued_to))
        for alias in ("open", "overdue")}
    named = Named(at)
    for page in pages.values():
        for row in page.items:
            named.add("bodies", row["issued_by"])
            named.add("bodies", row["issued_to"])
            named.add("dossiers", row["dossier"])
            named.add("decisions", row["source_decision"])
    loaded = await named.load(pool)
    return {alias: {"nodes": [{
        "code": row["code"], "subject": row["subject"],
        "issuedBy": loaded.pick("bodies", row["issued_by"], "code", "name"),
        "issuedTo": loaded.pick("bodies", row["issued_to"], "code", "name"),
        "inDossier": loaded.pick("dossiers", row["dossier"], "code", "title"),
        "issuedOn": row["issued_on"], "dueOn": row["due_on"], "binding": row["binding"],
        "sourceDecision": loaded.pick("decisions", row["source_decision"], "code", "title"),
        "state": enum_name(row["state"]), "acceptedOn": row["accepted_on"],
        "progressReports": row["progress_reports"]} for row in page.items],
        "pageInfo": page_info(page)} for alias, page in pages.items()}


# Decisions --------------------------------------------------------------------------------------


async def _published_decision(pool: asyncpg.Pool, variables: Json) -> tuple[Json | None, Moment]:
    """The decision `code` names as the public reads it at the moment asked (None if none),
    and that moment."""
    code = variables["code"]
    await check_references(pool, [("decision", code)])
    at = await moment(pool, variables)
    return (await decisions_by_code(pool, [code], at.on, at.known_at, published_only=True)
            ).get(code), at


async def decision_history(pool: asyncpg.Pool, variables: Json) -> Json:
    code = variables["code"]
    row, _ = await _published_decision(pool, variables)
    if row is None:
        return {"decision": None}
    page = PageRequest(variables["first"], variables.get("after"))
    history = (await audit.histories(pool, "decision", [code], page))[code]
    return {"decision": {
        "code": row["code"], "title": row["title"], "status": enum_name(row["status"]),
        "history": {"edges": [{"cursor": cursor, "node": {
            "id": global_id("LedgerEvent", str(event["position"])),
            "position": event["position"], "version": event["version"],
            "type": event["event_type"], "recordedAt": None, "reason": event["reason"],
            # metadata is an auditor's: the public gets null, as the floor reads as the public
            "actor": None, "commandId": None, "correlationId": None}}
            for cursor, event in history.edges],
            "pageInfo": page_info(history)}}}


async def decision_register(pool: asyncpg.Pool, variables: Json) -> Json:
    get = variables.get
    await check_references(pool, [("body", get("body")), ("competence", get("competence")),
                                  ("jurisdiction", get("jurisdiction")),
                                  ("jurisdiction", get("affecting"))])
    page = PageRequest(variables["first"], get("after"), get("newestFirst", False))
    at = await moment(pool, variables)
    found = await decisions.decisions(pool, page, at.on, at.known_at, decisions.DecisionFilter(
        body=get("body"), competence=get("competence"), jurisdiction=get("jurisdiction"),
        affecting=get("affecting"),
        taken_from=date.fromisoformat(get("takenFrom")) if get("takenFrom") else None,
        taken_until=date.fromisoformat(get("takenUntil")) if get("takenUntil") else None,
        status=get("status").lower() if get("status") else None, text=get("text"),
        published_only=True))
    named = Named(at)
    for row in found.items:
        named.add("bodies", row["body"])
        named.add("competences", row["competence"])
        named.add("jurisdictions", row["jurisdiction"], *row["affected_jurisdictions"])
    loaded = await named.load(pool)
    return {"decisions": {"nodes": [{
        "id": global_id("Decision", row["code"]), "code": row["code"], "title": row["title"],
        "summary": row["summary"], "status": enum_name(row["status"]),
        "body": loaded.pick("bodies", row["body"], "code", "name"),
        "competence": loaded.pick("competences", row["competence"], "code", "title"),
        "jurisdiction": loaded.pick("jurisdictions", row["jurisdiction"], "code", "name"),
        "affectedJurisdictions": _picked(loaded, "jurisdictions", row["affected_jurisdictions"],
                                         "code", "name"),
        "takenOn": row["taken_on"], "outcome": enum_name(row["outcome"]),
        "publishedOn": row["published_on"],
        "verdict": {"legitimate": row["legitimate"],
                    "differsLater": row["verdict_differs_later"]}
        if row["legitimate"] is not None else None} for row in found.items],
        "pageInfo": page_info(found)}}


def _picked(loaded: Loaded, kind: str, codes: list[str], *fields: str) -> list[Json]:
    """A list of references: those found, in the order named."""
    return [each for code in codes if (each := loaded.pick(kind, code, *fields)) is not None]


async def decision_with_chain(pool: asyncpg.Pool, variables: Json) -> Json:
    code = variables["code"]
    row, at = await _published_decision(pool, variables)
    if row is None:
        return {"decision": None}
    competence, jurisdiction = row["competence"], row["jurisdiction"]
    cited = _grant_key(competence, jurisdiction, row["cited_grant"])
    named = Named(at)
    named.add("competences", competence)
    named.add("jurisdictions", jurisdiction, *row["affected_jurisdictions"])
    named.add("dossiers", row["dossier"])
    named.add("bodies", row["proposed_by"], row["body"])
    named.add("decisions", row["framework_decision"], row["repealed_by"])
    named.add("grants", cited)
    named.add("consultations", row["consultation"])
    _name_links(named, row["chain"] or [], competence, jurisdiction)
    loaded = await named.load(pool)
    grant = loaded.grants.get(cited) if cited is not None else None
    if grant is not None and grant["grantor"] not in loaded.bodies:
        deeper = Named(at)  # the cited grant's grantor, a level deeper
        deeper.add("bodies", grant["grantor"])
        await deeper.load(pool, loaded)
    votes = row["votes"]
    return {"decision": {
        "id": global_id("Decision", code), "code": code, "title": row["title"],
        "summary": row["summary"], "status": enum_name(row["status"]),
        "competence": loaded.pick("competences", competence, "code", "title", "kinds"),
        "jurisdiction": loaded.pick("jurisdictions", jurisdiction, "code", "name", "kind"),
        "subject": row["subject"],
        "inDossier": loaded.pick("dossiers", row["dossier"], "code", "title"),
        "affectedJurisdictions": _picked(loaded, "jurisdictions", row["affected_jurisdictions"],
                                         "code", "name"),
        "proposedBy": loaded.pick("bodies", row["proposed_by"], "code", "name"),
        "proposedOn": row["proposed_on"],
        "body": loaded.pick("bodies", row["body"], "code", "name", "kind", "active"),
        "takenOn": row["taken_on"], "outcome": enum_name(row["outcome"]),
        "votes": {
            "majorityRule": enum_name(votes["majority_rule"]), "votesFor": votes["votes_for"],
            "votesAgainst": votes["votes_against"], "abstentions": votes["abstentions"],
            "present": votes["present"],
            "members": [{"member": m["member"], "vote": enum_name(m["vote"]),
                         "group": m["group"], "weight": m["weight"]} for m in votes["members"]],
        } if votes else None,
        "chain": _chain(row["chain"] or [], competence, jurisdiction, loaded),
        "reliesOnGrant": {
            "code": grant["code"], "kind": enum_name(grant["kind"]),
            "grantor": loaded.pick("bodies", grant["grantor"], "code", "name"),
            "status": enum_name(grant["status"])} if grant is not None else None,
        "citedPublication": row["cited_publication"],
        "frameworkDecision": loaded.pick("decisions", row["framework_decision"],
                                         "code", "title"),
        "followedConsultation": loaded.pick("consultations", row["consultation"],
                                            "code", "subject", "respond_by", "closed_on"),
        "viewsReceived": row["views_received"],
        "documents": [{"title": d["title"], "address": d["address"], "sha256": d["sha256"]}
                      for d in row["documents"] or []],
        "publishedOn": row["published_on"], "publication": row["publication"],
        "inForceFrom": row["in_force_from"], "repealedOn": row["repealed_on"],
        "repealedBy": loaded.pick("decisions", row["repealed_by"], "code", "title"),
        "annulledOn": row["annulled_on"], "annulledBy": row["annulled_by"],
        "verdict": {"legitimate": row["legitimate"], "position": row["verdict_position"],
                    "explanation": row["verdict_explanation"],
                    "differsLater": row["verdict_differs_later"]}
        if row["legitimate"] is not None else None,
        "recordedPosition": row["recorded_position"]}}


# The audit trail and the transparency log ------------------------------------------------------


RECORDS = {"body": ("bodies", "Body"), "commission": ("commissions", "Commission"),
           "competence": ("competences", "Competence"),
           "consultation": ("consultations", "Consultation"),
           "decision": ("decisions", "Decision"), "dossier": ("dossiers", "Dossier"),
           "jurisdiction": ("jurisdictions", "Jurisdiction")}
"""The kinds of record an event belongs to: their loader and type (api/schema/types.py's
RECORD_KINDS), holdings apart."""


async def audit_trail_page(pool: asyncpg.Pool, variables: Json) -> Json:
    """As an auditor reads it: the operation's role. The floor takes the token on trust, where
    the API checks it."""
    get = variables.get
    # `ledger` reads all of what it stands for, whatever the operation selects of it
    position = await audit.ledger_head(pool)
    projected = await audit.projected_position(pool, [p.name for p in all_projections()])
    await audit.event_counts(pool)
    await transparency.latest(pool)
    if get("recordKind") is not None and get("recordCode") is not None:
        await check_references(pool, [(get("recordKind"), get("recordCode"))],
                               published_only=False)
    page = PageRequest(variables["first"], get("after"), get("newestFirst", False))
    found = await audit.audit_trail(pool, page, audit.AuditFilter(
        kind=get("recordKind"), code=get("recordCode"), actor=get("actor"),
        command_id=get("commandId"), correlation_id=get("correlationId"),
        event_types=tuple(get("types")) if get("types") is not None else None))
    named = Named(Moment(date.today(), None), published_only=False)
    for event in found.items:
        if event["kind"] == "holding":
            named.add("competences", competences.split_holding_code(event["code"])[0])
        else:
            named.add(RECORDS[event["kind"]][0], event["code"])
    loaded = await named.load(pool)
    return {"ledger": {"position": position, "projectedPosition": projected},
            "auditTrail": {"edges": [{"cursor": cursor, "node": {
                "id": global_id("LedgerEvent", str(event["position"])),
                "position": event["position"], "recordKind": event["kind"],
                "recordCode": event["code"], "record": _record(event, loaded),
                "version": event["version"], "type": event["event_type"],
                "recordedAt": event["recorded_at"], "actor": event["actor"],
                "commandId": event["command_id"], "correlationId": event["correlation_id"],
                "reason": event["reason"]}} for cursor, event in found.edges],
                "pageInfo": page_info(found)}}


def _record(event: Json, loaded: Loaded) -> Json | None:
    """The record an event belongs to, with the fields the operation's fragments select."""
    if event["kind"] == "holding":
        competence = competences.split_holding_code(event["code"])[0]
        return {"__typename": "Holding",
                "competence": loaded.pick("competences", competence, "title")}
    kind, type_name = RECORDS[event["kind"]]
    selected = {"Decision": ("title", "status"), "Body": ("name",)}.get(type_name, ())
    found = loaded.pick(kind, event["code"], *selected)
    return {"__typename": type_name, **found} if found is not None else None


KEPT = TileSet(keep=transparency.KEPT_TILES)
"""The tiles this process keeps for its proofs, as an API process keeps them (one database)."""


async def inclusion_proof(pool: asyncpg.Pool, variables: Json) -> Json:
    """The API's own function makes the proof (api/schema/transparency.py): the SQL and the
    hashing are the same; what is left out is GraphQL's."""
    (proof,) = await transparency.inclusion_proofs(pool, [variables["position"]],
                                                   variables.get("treeSize"), tiles=KEPT,
                                                   published_only=True)
    checkpoint = proof.checkpoint
    return {"inclusionProof": {
        "position": proof.position, "leafIndex": proof.leaf_index, "treeSize": proof.tree_size,
        "leafHash": proof.leaf_hash, "leafData": proof.leaf_data, "rootHash": proof.root_hash,
        "hashes": proof.hashes,
        "checkpoint": {"origin": checkpoint.origin, "size": checkpoint.size,
                       "rootHash": checkpoint.root_hash, "signedNote": checkpoint.signed_note}
        if checkpoint is not None else None}}


# The accountability report ----------------------------------------------------------------------


async def accountability_report(pool: asyncpg.Pool, variables: Json) -> Json:
    """The report's model (projections/report/model.py), and the bodies and grants its
    decisions' chains name, loaded per decision date as the API's loaders load them (a chain
    names its records as they stood on the date its decision was taken)."""
    at = await moment(pool, variables)
    report = await model.accountability_report(
        pool, variables["jurisdiction"], model.Period(date.fromisoformat(variables["from"]),
                                                      date.fromisoformat(variables["to"])),
        known_at=at.known_at, published_only=True)
    on_dates: dict[date, Named] = {}
    for d in report.regional_decisions:
        named = on_dates.setdefault(d.taken_on, Named(Moment(d.taken_on, at.known_at)))
        for link in d.chain:
            named.add("bodies", link["grantee"], link.get("grantor"))
            named.add("grants", _grant_key(d.competence, d.jurisdiction, link.get("grant")))
    loaded = {on: await named.load(pool) for on, named in on_dates.items()}
    local = ("code", "title", "body", "taken_on", "competence", "capacity", "status", "position")
    return {"accountabilityReport": {
        "jurisdictionName": report.jurisdiction_name,
        "period": {"start": report.period.start, "end": report.period.end},
        "view": report.view,
        "memberships": [fields(m, "region", "joined_on", "left_on")
                        for m in report.memberships],
        "summary": fields(report.summary, *vars(report.summary)),
        "regionalDecisions": [{
            **fields(d, *local[:5], "legal_basis", *local[5:]),
            "chain": [{
                "kind": enum_name(link["kind"]),
                "grantor": loaded[d.taken_on].pick("bodies", link.get("grantor"), "code", "name"),
                "grantee": loaded[d.taken_on].pick("bodies", link["grantee"], "code", "name"),
                "viaGrant": loaded[d.taken_on].pick(
                    "grants", _grant_key(d.competence, d.jurisdiction, link.get("grant")),
                    "code", "status"),
                "legalBasis": link["legal_basis"]} for link in d.chain],
            "annulled": _undoing(d.annulled), "repealed": _undoing(d.repealed),
            "corrections": [{"reason": c["reason"]} for c in d.corrections],
        } for d in report.regional_decisions],
        "localDecisions": [fields(d, *local) for d in report.local_decisions],
        "grants": [fields(g, "code", "kind", "grantor", "grantee", "events",
                          "revocation_reason") for g in report.grants],
        "commissions": [fields(c, "code", "subject", "issued_by", "issued_to", "due_on",
                               "binding", "state", "progress_reports")
                        for c in report.commissions],
        "consultations": [fields(c, "code", "council", "respond_by", "view_given_on", "in_time",
                                 "considered_by") for c in report.consultations],
        "verification": fields(report.verification, "position", "checkpoint_size",
                               "checkpoint_root_hash", "chain_head")
        if report.verification is not None else None}}


def _undoing(step: Json | None) -> Json | None:
    return {"on": step.get("on"), "reason": step.get("reason")} if step is not None else None


ENDPOINTS: dict[str, Endpoint] = {
    "AccountabilityReport": accountability_report,
    "AuditTrailPage": audit_trail_page,
    "CompetenceMap": competence_map,
    "Competences": competence_list,
    "DecisionHistory": decision_history,
    "DecisionRegister": decision_register,
    "DecisionWithChain": decision_with_chain,
    "InclusionProof": inclusion_proof,
    "OpenCommissions": open_commissions,
    "WhoIsCompetent": who_is_competent,
}
"""The documented operations with a floor; the others have no floor figure yet."""


# The app ----------------------------------------------------------------------------------------


def create_floor_app(database_url: str) -> Starlette:
    """The endpoints over one pool with the API's settings (api/app.py)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.pool = await create_pool(database_url, command_timeout=STATEMENT_SECONDS)
        try:
            yield
        finally:
            await app.state.pool.close()

    def route(name: str, endpoint: Endpoint) -> Route:
        async def answer(request: Request) -> Response:
            variables = orjson.loads(await request.body()).get("variables") or {}
            data = await endpoint(request.app.state.pool, variables)
            return Response(orjson.dumps({"data": data}), media_type="application/json")

        return Route(f"/{name}", answer, methods=["POST"])

    async def healthz(request: Request) -> Response:
        return Response("ok")  # as the API's, for tests/servers.py's wait_until_healthy

    return Starlette(routes=[*(route(name, endpoint) for name, endpoint in ENDPOINTS.items()),
                             Route("/healthz", healthz)], lifespan=lifespan)


@click.command()
@click.option("--port", required=True, type=int)
def main(port: int) -> None:
    """Serve the floor on loopback, as `bevoegd serve` serves the API: one process."""
    uvicorn.run(create_floor_app(os.environ[DATABASE_URL_VARIABLE]), host="127.0.0.1",
                port=port, log_level="warning")


if __name__ == "__main__":
    main()
