"""Stored events replayed in memory, without a database, through the ledger's own aggregates, and
every decision's chain of competence checked again against the holding as it stood when the
decision was taken: for an auditor holding an export, who trusts neither the server that made it
nor the chain each decision carries (L2, L3, L5, L7, L11, L12).

A decision whose chain does not hold is reported, not refused: the events are history, and the
point is to find what should not be in it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent

from ledger.domain.body import Body
from ledger.domain.competence import CompetenceHolding, holding_id
from ledger.domain.decision import Decision
from ledger.errors import LedgerError
from ledger.rules import check_framework, check_grant_citation
from ledger.transcoding import ledger_mapper


@dataclass(frozen=True)
class Doubt:
    """A decision whose chain does not hold on replay, and why."""

    position: int
    decision: str
    problem: str


@dataclass
class Replay:
    """Every record as the events so far make it, by id."""

    records: dict[UUID, Aggregate]

    def find(self, kind: type[Aggregate], record: UUID) -> Any:
        found = self.records.get(record)
        return found if isinstance(found, kind) else None


def replay(stored: Iterable[tuple[int, StoredEvent]]) -> tuple[Replay, list[Doubt]]:
    """Applies the events (position, stored event) in ledger order; returns the records as they
    end and the decisions whose chain did not hold when they were taken."""
    mapper = ledger_mapper()
    state = Replay({})
    doubts: list[Doubt] = []
    for position, event in stored:
        domain_event = mapper.to_domain_event(event)
        if isinstance(domain_event, Decision.Taken):
            problem = _chain_problem(state, state.records[event.originator_id], domain_event)
            if problem is not None:
                doubts.append(Doubt(position, state.records[event.originator_id].code, problem))
        state.records[event.originator_id] = domain_event.mutate(
            state.records.get(event.originator_id))
    return state, doubts


def _chain_problem(state: Replay, decision: Any, taken: Any) -> str | None:
    """Why the decision could not be taken as recorded, checked as the ledger checks a command;
    None if its chain holds and is the chain it carries."""
    body = state.find(Body, Body.create_id(code=taken.body))
    holding = state.find(CompetenceHolding, holding_id(decision.competence, decision.jurisdiction))
    if body is None or holding is None:
        return f"its body {taken.body} or its holding was not recorded before it"

    def lookup(code: str) -> Decision | None:
        found: Decision | None = state.find(Decision, Decision.create_id(code=code))
        return found

    try:
        body.check_active_on(taken.on)
        chain = holding.chain_for(body, taken.on, decision.subject, taken.cited_grant)
        check_grant_citation(chain, taken.cited_grant, taken.cited_publication, taken.on, lookup)
        check_framework(chain, taken.framework_decision, taken.on, lookup)
    except LedgerError as refusal:
        return f"{refusal.code}: {refusal.message}"
    if list(chain) != list(taken.chain):
        return "the chain it carries is not the chain the grants gave on its date"
    return None


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def state_on(state: Replay, doubts: list[Doubt], on: date) -> dict[str, Any]:
    """What the replayed records say on `on`: who may exercise each competence and through
    which chain (the competence map), every grant (the grant register), and every decision with
    its status and whether its chain held when it was taken."""
    holdings = sorted((r for r in state.records.values() if isinstance(r, CompetenceHolding)),
                      key=lambda h: (h.competence, h.jurisdiction))
    decisions = sorted((r for r in state.records.values() if isinstance(r, Decision)),
                       key=lambda d: d.code)
    doubted = {doubt.decision: doubt.problem for doubt in doubts}
    return {
        "on": on.isoformat(),
        "competence_map": [
            {"competence": h.competence, "jurisdiction": h.jurisdiction, "body": body,
             "capacity": chain[-1].kind, "chain": [link.as_json() for link in chain]}
            for h in holdings for body, chain in h.exercisers_on(on)],
        "grants": [
            {"competence": h.competence, "jurisdiction": h.jurisdiction, "code": g.code,
             "kind": g.kind, "grantor": g.grantor, "grantee": g.grantee,
             "valid_from": _day(g.period.valid_from), "valid_until": _day(g.period.valid_until),
             "revoked_on": _day(g.revoked_on), "parent": g.parent,
             "scope": list(g.scope) if g.scope is not None else None}
            for h in holdings for g in sorted(h.grants.values(), key=lambda g: g.code)],
        "decisions": [
            {"code": d.code, "competence": d.competence, "jurisdiction": d.jurisdiction,
             "body": d.body, "taken_on": _day(d.taken_on), "published_on": _day(d.published_on),
             "annulled_on": _day(d.annulled_on), "repealed_on": _day(d.repealed_on),
             "chain_held": d.code not in doubted, "doubt": doubted.get(d.code)}
            for d in decisions],
    }
