"""A deliberately naive reference of the read side (projections/), computed in memory from the
ledger's stored events, to hold the projections against (tests/test_projections_model.py).

Written from docs/architecture.md, not from projections/ or ledger/domain: the events are decoded with plain
`json`, every question replays the events known at the asked position from the start, and the
legitimacy chain is walked by hand:

- the root of every chain is an attribution whose period holds the date (an ended attribution
  ends on its end date, once that end is known);
- from the holder the walk follows a delegation of that holder active on the date and covering
  the subject, moving the competence to the delegatee, until no delegation leads on. At most
  one delegation of a holder applies (L3: a subject is delegated to one body at a time; the walk
  checks it), and a delegation back to a body already on the chain is not followed (a cycle of
  delegations confers nothing further: the spec leaves cycles undefined);
- a holder's mandates active on the date and covering the subject reach their mandatees, and a
  mandate that allows it reaches the sub-mandatees of its sub-mandates given by its mandatee
  (one level: what the ledger checks decisions against);
- a grant scoped to subjects covers only those subjects (a decision on the competence as a whole
  is outside it); a grant is active in [valid_from, valid_until) and not from the day of its
  revocation, once that revocation is known.

Nothing here is fast or clever on purpose: it is meant to be obviously right.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

KINDS = {
    "Jurisdiction": "jurisdiction",
    "Body": "body",
    "Competence": "competence",
    "CompetenceHolding": "holding",
    "Decision": "decision",
    "Commission": "commission",
    "Consultation": "consultation",
    "Dossier": "dossier",
}
"""The record kinds of the audit trail (`KIND:CODE`), by the aggregate that stores them."""

Known = int | None
"""A ledger position to read as known at; None: everything recorded."""


# Decoding the stored events ---------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    position: int
    record_id: UUID
    version: int
    record: str  # the aggregate's class, e.g. "Decision"
    type: str  # e.g. "Taken"
    data: dict[str, Any]

    @property
    def meta(self) -> dict[str, Any]:
        return self.data["meta"]

    def is_(self, record: str, kind: str) -> bool:
        return self.record == record and self.type == kind


def unwrap(value: Any) -> Any:
    """The stored JSON without the transcoder's wrappers: {"_type_": t, "_data_": d}."""
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"_type_", "_data_"}:
        kind, data = value["_type_"], value["_data_"]
        if kind == "date_iso":
            return date.fromisoformat(data)
        if kind == "datetime_iso":
            return datetime.fromisoformat(data)
        return unwrap(data)  # a value object (ChainLink, Meta, ...): its fields
    return {key: unwrap(item) for key, item in value.items()}


def decode(row: Mapping[str, Any]) -> Event:
    """One row of the events table (`notification_id`, `originator_id`, ..., `state`)."""
    # the topic reads "ledger.domain.decision:Decision.Taken"
    record, _, kind = row["topic"].split(":")[-1].partition(".")
    return Event(
        position=row["notification_id"],
        record_id=row["originator_id"],
        version=row["originator_version"],
        record=record,
        type=kind,
        data=unwrap(json.loads(bytes(row["state"]))),
    )


class History:
    """Events the ledger stored, in order, as the reference has read them. Answers are kept per
    position asked about (`memo`), since the same replay serves many dates."""

    def __init__(self, events: Iterable[Event] = ()) -> None:
        self.events: list[Event] = list(events)
        self.answers: dict[tuple[str, Known], Any] = {}

    @property
    def last(self) -> int:
        return self.events[-1].position if self.events else 0

    def extend(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            event = decode(row)
            assert event.position > self.last, "events come in position order"
            self.events.append(event)
        self.answers.clear()

    def since(self, after: int) -> History:
        """The events after position `after` (one example's records, say)."""
        return History(e for e in self.events if e.position > after)

    def memo(self, question: str, known_at: Known, answer: Callable[[], Any]) -> Any:
        key = (question, known_at)
        if key not in self.answers:
            self.answers[key] = answer()
        return self.answers[key]

    def known_at(self, known_at: Known) -> list[Event]:
        return [e for e in self.events if known_at is None or e.position <= known_at]

    def creation(self, record_id: UUID) -> Event:
        for event in self.events:
            if event.record_id == record_id and event.version == 1:
                return event
        raise KeyError(record_id)


def known(position: int | None, known_at: Known) -> bool:
    return position is not None and (known_at is None or position <= known_at)


def in_period(day: date, start: date, end: date | None) -> bool:
    return start <= day and (end is None or day < end)


# Audit trail and ledger info --------------------------------------------------------------


def record_code(event: Event) -> str:
    if event.record == "CompetenceHolding":
        return f"{event.data['competence']}@{event.data['jurisdiction']}"
    return event.data["code"]


def decision_of(event: Event, creation: Event) -> str | None:
    """The decision an event belongs to: the public sees it once that one is published."""
    if event.record == "Decision":
        return record_code(creation)
    if (event.record, event.type) == ("CompetenceHolding", "Exercised"):
        return str(event.data["decision"])
    return None


def audit_trail(history: History, after: int = 0) -> list[dict[str, Any]]:
    """Every event after `after`, once, in order, with what it belongs to and its metadata."""
    trail = []
    for event in history.events:
        if event.position <= after:
            continue
        creation = history.creation(event.record_id)
        trail.append({
            "position": event.position,
            "record_id": event.record_id,
            "kind": KINDS[event.record],
            "code": record_code(creation),
            "version": event.version,
            "event_type": f"{event.record}.{event.type}",
            "recorded_at": event.meta["recorded_at"],
            "actor": event.meta["actor"],
            "command_id": event.meta["command_id"],
            "correlation_id": event.meta["correlation_id"],
            "reason": event.data.get("reason"),
            "decision": decision_of(event, creation),
        })
    return trail


def event_counts(events: Iterable[Event]) -> Counter[str]:
    return Counter(f"{event.record}.{event.type}" for event in events)


# Holdings: attributions and grants as known at a position ---------------------------------


Link = tuple[str, str, str | None, date, date | None]
"""One step of a chain as the map shows it: kind, grantee, grant, valid from, valid until (its
period's end or, once known, its revocation, whichever comes first)."""
Chain = tuple[Link, ...]


@dataclass
class RAttribution:
    body: str
    valid_from: date
    valid_until: date | None  # its end, once known, included

    def active_on(self, day: date) -> bool:
        return in_period(day, self.valid_from, self.valid_until)

    def link(self) -> Link:
        return ("attribution", self.body, None, self.valid_from, self.valid_until)


@dataclass
class RGrant:
    code: str
    kind: str  # delegation, mandate, submandate
    grantor: str
    grantee: str
    valid_from: date
    valid_until: date | None
    scope: list[str] | None
    allows_submandate: bool
    parent: str | None
    source_decision: str
    recorded_position: int
    revoked_on: date | None = None  # once known
    revocation_reason: str | None = None
    revoked_position: int | None = None

    def active_on(self, day: date) -> bool:
        if self.revoked_on is not None and self.revoked_on <= day:
            return False
        return in_period(day, self.valid_from, self.valid_until)

    def covers(self, subject: str | None) -> bool:
        if self.scope is None:
            return True
        return subject is not None and subject in self.scope

    def link(self) -> Link:
        ends = [d for d in (self.valid_until, self.revoked_on) if d is not None]
        return (self.kind, self.grantee, self.code, self.valid_from, min(ends, default=None))


@dataclass
class RHolding:
    competence: str
    jurisdiction: str
    attributions: list[RAttribution] = field(default_factory=list)
    grants: list[RGrant] = field(default_factory=list)  # in the order they were recorded

    def grant(self, code: str) -> RGrant:
        for grant in self.grants:
            if grant.code == code:
                return grant
        raise KeyError(code)


def holdings(history: History, known_at: Known) -> dict[tuple[str, str], RHolding]:
    """Every holding (competence, jurisdiction) replayed from the events known at `known_at`."""
    return history.memo("holdings", known_at, lambda: replay_holdings(history, known_at))


def replay_holdings(history: History, known_at: Known) -> dict[tuple[str, str], RHolding]:
    found: dict[UUID, RHolding] = {}
    for e in history.known_at(known_at):
        if e.record != "CompetenceHolding":
            continue
        d = e.data
        if e.type == "Opened":
            found[e.record_id] = RHolding(d["competence"], d["jurisdiction"])
            continue
        holding = found[e.record_id]
        if e.type == "Attributed":
            holding.attributions.append(RAttribution(d["body"], d["valid_from"], d["valid_until"]))
        elif e.type == "AttributionEnded":
            for attribution in holding.attributions:
                if attribution.body == d["body"] and attribution.valid_until is None:
                    attribution.valid_until = d["on"]
        elif e.type == "GrantRecorded":
            holding.grants.append(RGrant(
                d["code"], d["kind"], d["grantor"], d["grantee"], d["valid_from"],
                d["valid_until"], d["scope"], d["allows_submandate"], d["parent"],
                d["source_decision"], e.position))
        elif e.type == "GrantRevoked":
            grant = holding.grant(d["grant"])
            grant.revoked_on, grant.revocation_reason = d["on"], d["reason"]
            grant.revoked_position = e.position
    return {(h.competence, h.jurisdiction): h for h in found.values()}


# The chain walk ----------------------------------------------------------------------------


def holders(holding: RHolding, day: date, subject: str | None) -> list[tuple[str, Chain]]:
    """Who holds the competence in its own name on `day` for `subject`, and by which chain."""
    result = []
    for attribution in holding.attributions:
        if not attribution.active_on(day):
            continue
        body, chain = attribution.body, (attribution.link(),)
        visited = [body]
        while True:
            applying = [grant for grant in holding.grants
                        if grant.kind == "delegation" and grant.grantor == body
                        and grant.active_on(day) and grant.covers(subject)]
            assert len(applying) <= 1, f"{body} delegated {subject} twice on {day}: {applying}"
            following = applying[0] if applying else None
            if following is None or following.grantee in visited:
                break
            body, chain = following.grantee, (*chain, following.link())
            visited.append(body)
        result.append((body, chain))
    return result


def exercisers(holding: RHolding, day: date, subject: str | None) -> list[tuple[str, Chain]]:
    """Holders, the mandatees of holders, and sub-mandatees where the mandate allows it."""
    result = []
    for holder, chain in holders(holding, day, subject):
        result.append((holder, chain))
        for mandate in holding.grants:
            if not (mandate.kind == "mandate" and mandate.grantor == holder
                    and mandate.active_on(day) and mandate.covers(subject)):
                continue
            result.append((mandate.grantee, (*chain, mandate.link())))
            if not mandate.allows_submandate:
                continue
            for sub in holding.grants:
                if (sub.kind == "submandate" and sub.parent == mandate.code
                        and sub.grantor == mandate.grantee
                        and sub.active_on(day) and sub.covers(subject)):
                    result.append((sub.grantee, (*chain, mandate.link(), sub.link())))
    return result


def may_exercise(holding: RHolding, body: str, day: date, subject: str | None) -> bool:
    return any(who == body for who, _ in exercisers(holding, day, subject))


# The competence map ----------------------------------------------------------------------


@dataclass(frozen=True)
class MapEntry:
    """Who may exercise a competence on a date, through which chain, for which of the subjects
    of the holding (see `subjects_of`), and over which valid period exactly this holds."""

    competence: str
    body: str
    chain: Chain
    covers: frozenset[str | None]  # None among them: the competence as a whole
    valid_from: date
    valid_until: date | None


def subjects_of(holding: RHolding) -> list[str | None]:
    """The competence as a whole (None) and every subject a scope of the holding names: any
    other subject is covered exactly where the competence as a whole is."""
    return [None, *sorted({s for grant in holding.grants for s in grant.scope or ()})]


def coverage(holding: RHolding, day: date, subjects: list[str | None]
             ) -> dict[tuple[str, Chain], frozenset[str | None]]:
    """For each (body, chain) on `day`, the subjects it reaches."""
    found: dict[tuple[str, Chain], set[str | None]] = {}
    for subject in subjects:
        for body, chain in exercisers(holding, day, subject):
            found.setdefault((body, chain), set()).add(subject)
    return {key: frozenset(covered) for key, covered in found.items()}


def boundaries(holding: RHolding) -> list[date]:
    """The dates on which anything in the holding starts or ends."""
    dates: set[date | None] = set()
    for attribution in holding.attributions:
        dates |= {attribution.valid_from, attribution.valid_until}
    for grant in holding.grants:
        dates |= {grant.valid_from, grant.valid_until, grant.revoked_on}
    return sorted(d for d in dates if d is not None)


def competence_map(history: History, jurisdiction: str, day: date, known_at: Known
                   ) -> Counter[MapEntry]:
    """Every exerciser of every competence of `jurisdiction` on `day` as known at `known_at`.

    The map is the same between two consecutive boundary dates, so an entry's period is found
    by looking at the boundaries on either side of `day` until what it covers changes."""
    entries: Counter[MapEntry] = Counter()
    for (competence, held_for), holding in holdings(history, known_at).items():
        if held_for != jurisdiction:
            continue
        subjects = subjects_of(holding)
        today = coverage(holding, day, subjects)
        for (body, chain), covered in today.items():
            start, end = period(holding, day, (body, chain), covered, subjects)
            entries[MapEntry(competence, body, chain, covered, start, end)] += 1
    return entries


def period(holding: RHolding, day: date, key: tuple[str, Chain], covered: frozenset[str | None],
           subjects: list[str | None]) -> tuple[date, date | None]:
    """The longest period around `day` in which `key` (body, chain) covers just `covered`."""
    dates = boundaries(holding)

    def same(on: date) -> bool:
        return coverage(holding, on, subjects).get(key) == covered

    before = [d for d in dates if d <= day]
    start = before[-1]  # an attribution started on or before `day`
    for earlier in reversed(before[:-1]):
        if not same(earlier):
            break
        start = earlier
    end = next((d for d in dates if d > day and not same(d)), None)
    return start, end


# Grant register ----------------------------------------------------------------------------


def grant_status(grant: RGrant, day: date) -> str:
    if grant.revoked_on is not None and grant.revoked_on <= day:
        return "revoked"
    if grant.valid_until is not None and grant.valid_until <= day:
        return "expired"
    if day < grant.valid_from:
        return "pending"
    return "active"


def effective_end(grant: Mapping[str, Any]) -> date | None:
    """When a grant in the register stops having effect: its period's end or its revocation."""
    ends = [d for d in (grant["valid_until"], grant["revoked_on"]) if d is not None]
    return min(ends, default=None)


def grant_register(history: History, jurisdiction: str, day: date, known_at: Known
                   ) -> list[dict[str, Any]]:
    """Every grant for `jurisdiction` known at `known_at`, with its status on `day`, in the order
    the grants were recorded."""
    rows = []
    for (competence, held_for), holding in holdings(history, known_at).items():
        if held_for != jurisdiction:
            continue
        for grant in holding.grants:
            rows.append({
                "competence": competence, "code": grant.code, "kind": grant.kind,
                "grantor": grant.grantor, "grantee": grant.grantee,
                "valid_from": grant.valid_from, "valid_until": grant.valid_until,
                "scope": grant.scope, "allows_submandate": grant.allows_submandate,
                "parent": grant.parent, "source_decision": grant.source_decision,
                "recorded_position": grant.recorded_position, "revoked_on": grant.revoked_on,
                "revocation_reason": grant.revocation_reason,
                "revoked_position": grant.revoked_position,
                "status": grant_status(grant, day),
            })
    return sorted(rows, key=lambda row: row["recorded_position"])


# Decision register ----------------------------------------------------------------------


@dataclass
class RDecision:
    record_id: UUID
    code: str
    title: str
    summary: str | None
    competence: str
    jurisdiction: str
    subject: str | None
    recorded_position: int
    proposed_by: str | None = None
    proposed_on: date | None = None
    proposed_position: int | None = None
    body: str | None = None
    taken_on: date | None = None
    outcome: str | None = None
    chain: list[dict[str, Any]] | None = None
    cited_grant: str | None = None
    taken_position: int | None = None
    published_on: date | None = None
    publication: str | None = None
    published_position: int | None = None
    in_force_from: date | None = None
    in_force_position: int | None = None
    repealed_on: date | None = None
    repealed_by: str | None = None
    repealed_position: int | None = None
    annulled_on: date | None = None
    annulled_by: str | None = None
    annulled_position: int | None = None
    exercised_position: int | None = None


def decisions_as_known(history: History, known_at: Known) -> list[RDecision]:
    """Every decision known at `known_at`, as it was known then (corrections included)."""
    return history.memo("decisions", known_at, lambda: replay_decisions(history, known_at))


def replay_decisions(history: History, known_at: Known) -> list[RDecision]:
    found: dict[UUID, RDecision] = {}
    by_code: dict[str, RDecision] = {}
    for e in history.known_at(known_at):
        d, at = e.data, e.position
        if e.is_("CompetenceHolding", "Exercised"):
            by_code[d["decision"]].exercised_position = at
        if e.record != "Decision":
            continue
        if e.type == "Registered":
            decision = RDecision(e.record_id, d["code"], d["title"], d["summary"],
                                 d["competence"], d["jurisdiction"], d["subject"], at)
            found[e.record_id] = by_code[d["code"]] = decision
            continue
        decision = found[e.record_id]
        if e.type == "Proposed":
            decision.proposed_by, decision.proposed_on = d["by"], d["on"]
            decision.proposed_position = at
        elif e.type == "Taken":
            decision.body, decision.taken_on, decision.outcome = d["body"], d["on"], d["outcome"]
            decision.chain, decision.cited_grant = d["chain"], d["cited_grant"]
            decision.taken_position = at
        elif e.type == "Published":
            decision.published_on, decision.publication = d["on"], d["publication"]
            decision.published_position = at
        elif e.type == "EnteredIntoForce":
            # a retroactive entry into force applies from the earlier date
            decision.in_force_from = d["retroactive_from"] or d["on"]
            decision.in_force_position = at
        elif e.type == "Repealed":
            decision.repealed_on, decision.repealed_by = d["on"], d["repealed_by"]
            decision.repealed_position = at
        elif e.type == "Annulled":
            decision.annulled_on, decision.annulled_by = d["on"], d["annulled_by"]
            decision.annulled_position = at
        elif e.type == "Corrected":
            decision.title = d["title"] if d["title"] is not None else decision.title
            decision.summary = d["summary"] if d["summary"] is not None else decision.summary
    return sorted(found.values(), key=lambda decision: decision.recorded_position)


def decision_status(decision: RDecision, day: date) -> str:
    """The last step of the decision's life (registered, proposed, taken with its outcome,
    published, in force, repealed, annulled) that is dated on or before `day`; a proposal of
    unknown date counts as made. `decision` is already as known at the position asked."""
    status = "registered"
    if decision.proposed_position is not None and (
            decision.proposed_on is None or decision.proposed_on <= day):
        status = "proposed"
    steps = [
        (decision.taken_on, decision.outcome),
        (decision.published_on, "published"),
        (decision.in_force_from, "in_force"),
        (decision.repealed_on, "repealed"),
        (decision.annulled_on, "annulled"),
    ]
    for on, step in steps:
        if on is not None and on <= day:
            status = step  # type: ignore[assignment]
    return status


def legitimate(history: History, decision: RDecision, known_at: Known) -> bool:
    """Whether, as known at `known_at`, a chain reaches the decision's body on its date."""
    assert decision.body is not None and decision.taken_on is not None
    holding = holdings(history, known_at)[(decision.competence, decision.jurisdiction)]
    return may_exercise(holding, decision.body, decision.taken_on, decision.subject)


def verdict_turns(history: History, code: str) -> list[tuple[int, bool]]:
    """The positions after a decision was taken where its legitimacy turned, and to what: the
    first holding event at which the answer differs from the one before."""
    return history.memo(f"turns of {code}", None, lambda: replay_verdicts(history, code))


def replay_verdicts(history: History, code: str) -> list[tuple[int, bool]]:
    final = {d.code: d for d in decisions_as_known(history, None)}[code]
    if final.exercised_position is None:
        return []
    assert final.taken_position is not None
    turns: list[tuple[int, bool]] = []
    current = legitimate(history, final, final.exercised_position)
    for e in history.events:
        if (e.position <= final.exercised_position or e.record != "CompetenceHolding"
                or holding_of(history, e) != (final.competence, final.jurisdiction)):
            continue
        now = legitimate(history, final, e.position)
        if now != current:
            turns.append((e.position, now))
            current = now
    return turns


def holding_of(history: History, event: Event) -> tuple[str, str]:
    opened = history.creation(event.record_id)
    return opened.data["competence"], opened.data["jurisdiction"]


def decision_register(history: History, jurisdiction: str, day: date, known_at: Known
                      ) -> list[dict[str, Any]]:
    """The decisions of `jurisdiction` known at `known_at`, with their status on `day` and their
    legitimacy as known then, in the order they were recorded."""
    rows = []
    for decision in decisions_as_known(history, known_at):
        if decision.jurisdiction != jurisdiction:
            continue
        rows.append(decision_row(history, decision, day, known_at))
    return rows


def decision_row(history: History, decision: RDecision, day: date, known_at: Known
                 ) -> dict[str, Any]:
    turns = verdict_turns(history, decision.code)
    taken = decision.taken_position is not None
    earlier = [(at, verdict) for at, verdict in turns if known(at, known_at)]
    if earlier:
        verdict: bool | None = earlier[-1][1]
        verdict_position = earlier[-1][0]
    else:
        verdict = True if taken else None
        verdict_position = decision.taken_position
    if taken and decision.exercised_position is not None:
        # the verdict as kept must be the one a replay gives
        assert verdict == legitimate(history, decision, known_at), decision.code
    return {
        "code": decision.code, "title": decision.title, "summary": decision.summary,
        "competence": decision.competence, "subject": decision.subject,
        "recorded_position": decision.recorded_position,
        "proposed_by": decision.proposed_by, "proposed_on": decision.proposed_on,
        "body": decision.body, "taken_on": decision.taken_on, "outcome": decision.outcome,
        "chain": decision.chain, "cited_grant": decision.cited_grant,
        "published_on": decision.published_on, "publication": decision.publication,
        "in_force_from": decision.in_force_from,
        "repealed_on": decision.repealed_on, "repealed_by": decision.repealed_by,
        "annulled_on": decision.annulled_on, "annulled_by": decision.annulled_by,
        "status": decision_status(decision, day),
        "legitimate": verdict,
        "verdict_position": verdict_position,
        "verdict_differs_later": any(not known(at, known_at) for at, _ in turns),
    }


# Structure -------------------------------------------------------------------------------


def members_on(history: History, region: str, day: date, known_at: Known) -> list[str]:
    spells: list[list[Any]] = []  # [member, joined_on, left_on]
    region_id = None
    for e in history.known_at(known_at):
        if e.is_("Jurisdiction", "Established") and e.data["code"] == region:
            region_id = e.record_id
        elif e.record_id == region_id and e.type == "MemberJoined":
            spells.append([e.data["member"], e.data["on"], None])
        elif e.record_id == region_id and e.type == "MemberLeft":
            for spell in spells:
                if spell[0] == e.data["member"] and spell[2] is None:
                    spell[2] = e.data["on"]
    return sorted({m for m, joined, left in spells if in_period(day, joined, left)})


def body_on(history: History, code: str, day: date, known_at: Known) -> dict[str, Any] | None:
    """A body as known at `known_at`: its name on `day` (before it had any name, the last name
    known then), whether it acted on `day`, and who sat on it then."""
    body: dict[str, Any] | None = None
    names: list[tuple[date, str]] = []
    seats: list[dict[str, Any]] = []
    for e in history.known_at(known_at):
        if e.record != "Body" or (body is None and e.type != "Established"):
            continue
        d = e.data
        if e.type == "Established":
            if d["code"] != code:
                continue
            body = {"record_id": e.record_id, "code": code, "kind": d["kind"],
                    "jurisdiction": d["jurisdiction"], "established_on": d["established_on"],
                    "subordinate_to": d["subordinate_to"], "abolished_on": None,
                    "successor": None}
            names.append((d["established_on"], d["name"]))
        elif e.record_id != body["record_id"]:
            continue
        elif e.type == "Renamed":
            names.append((d["on"], d["name"]))
        elif e.type == "Abolished":
            body.update(abolished_on=d["on"], successor=d["successor"])
        elif e.type == "SeatFilled":
            seats.append({"seat": d["seat"], "holder": d["holder"], "political_group": d["group"],
                          "valid_from": d["on"], "valid_until": None})
        elif e.type == "SeatVacated":
            for seat in seats:
                if seat["seat"] == d["seat"] and seat["valid_until"] is None:
                    seat["valid_until"] = d["on"]
    if body is None:
        return None
    dated = [name for since, name in names if since <= day]
    body["name"] = dated[-1] if dated else names[-1][1]
    body["active"] = in_period(day, body["established_on"], body["abolished_on"])
    body["seats"] = sorted((s for s in seats if in_period(day, s["valid_from"], s["valid_until"])),
                           key=lambda s: s["seat"])
    del body["record_id"]
    return body


# Commissions and consultations -------------------------------------------------------------


def commissions(history: History, day: date, known_at: Known, issued_by: set[str]
                ) -> list[dict[str, Any]]:
    """Commissions issued by one of `issued_by` on or before `day`, as known at `known_at`."""
    found: dict[UUID, dict[str, Any]] = {}
    for e in history.known_at(known_at):
        if e.record != "Commission":
            continue
        d = e.data
        if e.type == "Issued":
            found[e.record_id] = {
                "code": d["code"], "subject": d["subject"], "issued_by": d["issued_by"],
                "issued_to": d["issued_to"], "issued_on": d["issued_on"], "due_on": d["due_on"],
                "binding": d["binding"], "recorded_position": e.position,
                "accepted_on": None, "fulfilled_on": None, "fulfilled_by_decision": None,
                "withdrawn_on": None, "withdrawal_reason": None, "progress": []}
            continue
        commission = found[e.record_id]
        if e.type == "Accepted":
            commission["accepted_on"] = d["on"]
        elif e.type == "ProgressReported":
            commission["progress"].append(d["on"])
        elif e.type == "Fulfilled":
            commission.update(fulfilled_on=d["on"], fulfilled_by_decision=d["decision"])
        elif e.type == "Withdrawn":
            commission.update(withdrawn_on=d["on"], withdrawal_reason=d["reason"])
    rows = []
    for commission in found.values():
        if commission["issued_by"] not in issued_by or commission["issued_on"] > day:
            continue
        progress = commission.pop("progress")
        commission["progress_reports"] = sum(1 for on in progress if on <= day)
        commission["state"] = commission_state(commission, day)
        rows.append(commission)
    return sorted(rows, key=lambda row: row["recorded_position"])


def commission_state(commission: Mapping[str, Any], day: date) -> str:
    if commission["withdrawn_on"] is not None and commission["withdrawn_on"] <= day:
        return "withdrawn"
    if commission["fulfilled_on"] is not None and commission["fulfilled_on"] <= day:
        return "fulfilled"
    if commission["due_on"] is not None and commission["due_on"] < day:
        return "overdue"
    return "open"


def consultations(history: History, day: date, known_at: Known, opened_by: set[str]
                  ) -> list[dict[str, Any]]:
    """Consultations opened by one of `opened_by` on or before `day`, with the views received
    by then, as known at `known_at`."""
    found: dict[UUID, dict[str, Any]] = {}
    for e in history.known_at(known_at):
        if e.record != "Consultation":
            continue
        d = e.data
        if e.type == "Opened":
            found[e.record_id] = {
                "code": d["code"], "subject": d["subject"], "opened_by": d["opened_by"],
                "consulted": d["consulted"], "opened_on": d["opened_on"],
                "respond_by": d["respond_by"], "recorded_position": e.position,
                "closed_on": None, "views_at_closing": None, "views": []}
        elif e.type == "ViewSubmitted":
            found[e.record_id]["views"].append({
                "council": d["council"], "submitted_on": d["on"], "stance": d["position"],
                "late": d["late"]})
        elif e.type == "Closed":
            found[e.record_id].update(closed_on=d["on"], views_at_closing=d["views_received"])
    rows = []
    for consultation in found.values():
        if consultation["opened_by"] not in opened_by or consultation["opened_on"] > day:
            continue
        closed = consultation["closed_on"] is not None and consultation["closed_on"] <= day
        if not closed:
            consultation.update(closed_on=None, views_at_closing=None)
        consultation["closed"] = closed
        views = [v for v in consultation["views"] if v["submitted_on"] <= day]
        consultation["views"] = sorted(views, key=lambda v: (v["submitted_on"], v["council"]))
        responded = {v["council"] for v in views}
        consultation["not_responded"] = [c for c in consultation["consulted"]
                                         if c not in responded]
        rows.append(consultation)
    return sorted(rows, key=lambda row: row["recorded_position"])


def day_before(day: date) -> date:
    return day - timedelta(days=1)
