"""Competences and their holdings: attributions, delegations, mandates and sub-mandates.

A holding is one competence for one jurisdiction. It is the consistency boundary of the ledger:
every grant and every exercise of the competence is recorded on it, so a decision saved
concurrently with the revocation of the grant it relies on conflicts on the holding's version.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.domain.body import Body
from ledger.errors import AlreadyRecorded, RuleViolation, UnknownReference
from ledger.values import ChainLink, Interval, Meta, check_reason, record_id

if TYPE_CHECKING:
    from ledger.domain.decision import Decision as SourceDecision

GrantKind = Literal["delegation", "mandate", "submandate"]


class Competence(Aggregate):
    """A power over a subject (bevoegdheid), defined once; held per jurisdiction."""

    @staticmethod
    def create_id(code: str, **_: Any) -> UUID:
        return record_id("competence", code)

    @event("Defined")
    def __init__(
        self, code: str, title: str, delegable: bool, mandatable: bool, meta: Meta
    ) -> None:
        self.code = code
        self.title = title
        self.delegable = delegable
        self.mandatable = mandatable


@dataclass(frozen=True)
class GrantTerms:
    """What a grant says, whatever its kind: who to whom, on what basis, by which decision."""

    grantor: Body
    grantee: Body
    legal_basis: str
    source_decision: SourceDecision
    period: Interval
    scope: tuple[str, ...] | None = None
    framework_body: str | None = None


@dataclass(frozen=True)
class Attribution:
    body: str
    legal_basis: str
    period: Interval
    framework_body: str | None

    def link(self) -> ChainLink:
        return ChainLink(
            kind="attribution",
            grantee=self.body,
            legal_basis=self.legal_basis,
            valid_from=self.period.valid_from,
            valid_until=self.period.valid_until,
            framework_body=self.framework_body,
        )


@dataclass(frozen=True)
class Grant:
    code: str
    kind: GrantKind
    grantor: str
    grantee: str
    legal_basis: str
    source_decision: str
    period: Interval
    scope: tuple[str, ...] | None
    allows_submandate: bool
    parent: str | None
    framework_body: str | None
    revoked_on: date | None = None

    def active_on(self, on: date) -> bool:
        return self.period.contains(on) and (self.revoked_on is None or on < self.revoked_on)

    def covers(self, subject: str | None) -> bool:
        return self.scope is None or subject in self.scope

    @property
    def ends_on(self) -> date | None:
        """The end of the grant's effect: its period's end, or its revocation if earlier."""
        ends = [d for d in (self.period.valid_until, self.revoked_on) if d is not None]
        return min(ends, default=None)

    def link(self) -> ChainLink:
        return ChainLink(
            kind=self.kind,
            grantee=self.grantee,
            legal_basis=self.legal_basis,
            valid_from=self.period.valid_from,
            valid_until=self.ends_on,
            grant=self.code,
            grantor=self.grantor,
            source_decision=self.source_decision,
            framework_body=self.framework_body,
        )


def attribution_key(body: str) -> str:
    return f"attribution:{body}"


def holding_id(competence: str, jurisdiction: str) -> UUID:
    return record_id("holding", f"{competence}@{jurisdiction}")


class CompetenceHolding(Aggregate):
    serialises_writers = True
    """The consistency boundary where many officials decide at once: its writers take turns
    rather than race."""

    commuting_events = ("Exercised",)
    """Events that change nothing a decision relies on (they only raise `last_relied_on`, to
    the latest date): decisions recording them need not see each other's, and may be written
    in either order."""

    @staticmethod
    def create_id(competence: str, jurisdiction: str, **_: Any) -> UUID:
        return holding_id(competence, jurisdiction)

    @event("Opened")
    def __init__(
        self,
        competence: str,
        jurisdiction: str,
        jurisdiction_kind: str,
        delegable: bool,
        mandatable: bool,
        meta: Meta,
    ) -> None:
        self.competence = competence
        self.jurisdiction = jurisdiction
        self.jurisdiction_kind = jurisdiction_kind
        self.delegable = delegable
        self.mandatable = mandatable
        self.attributions: list[Attribution] = []
        self.grants: dict[str, Grant] = {}
        self.last_relied_on: dict[str, date] = {}

    @property
    def label(self) -> str:
        return f"'{self.competence}' for {self.jurisdiction}"

    # Who holds the competence ------------------------------------------------------------

    def holders_on(
        self, on: date, subject: str | None = None
    ) -> tuple[list[tuple[str, list[ChainLink]]], dict[str, Grant]]:
        return holders_on(self.attributions, self.grants.values(), on, subject)

    def exercisers_on(
        self, on: date, subject: str | None = None
    ) -> list[tuple[str, list[ChainLink]]]:
        return exercisers_on(self.attributions, self.grants.values(), on, subject)

    def chain_for(self, body: Body, on: date, subject: str | None = None,
                  relied_on: str | None = None) -> list[ChainLink]:
        """L2, L3, L5, L7: the chain from the attribution to `body` on `on`, or a refusal. A
        body that holds the competence in its own name (attributed or delegated) exercises it in
        its own name: a mandate that comes back to it adds nothing. Where several chains reach
        the body (two mandates, say), the one ending in the grant the body relies on is taken;
        otherwise the first."""
        chains = self._chains_of(body.code, on, subject)
        for chain in chains:
            if relied_on is not None and chain[-1].grant == relied_on:
                return chain
        if chains:
            return chains[0]
        holders, delegated_away = self.holders_on(on, subject)
        if body.code in delegated_away:
            delegation = delegated_away[body.code]
            raise RuleViolation(
                f"{body.name} delegated {self.label} to {delegation.grantee} (grant "
                f"{delegation.code}, from {delegation.period.valid_from}); while that delegation "
                f"stands, {body.name} may not exercise it itself (Awb 10:17).",
                code="DELEGATED_AWAY",
                field="body",
            )
        self._explain_unusable_grant(body, on, subject, {h for h, _ in holders})
        if not holders:
            raise RuleViolation(
                f"On {on} no body held {self.label}: it was not attributed then.",
                code="NOT_ATTRIBUTED",
                field="competence",
            )
        holder_names = ", ".join(h for h, _ in holders)
        if body.is_regional and self.jurisdiction_kind == "municipality":
            raise RuleViolation(
                f"{body.name} is a regional body and {self.label} is a local competence held by "
                f"{holder_names} on {on}. Without a delegation or mandate from the local holder, "
                "the local council decides: local decisions stay local.",
                code="LOCAL_COMPETENCE",
                field="body",
            )
        raise RuleViolation(
            f"{body.name} was not competent for {self.label} on {on}: it is held by "
            f"{holder_names}, and no delegation or mandate ran to {body.name}.",
            code="NOT_COMPETENT",
            field="body",
        )

    def _chains_of(self, body: str, on: date, subject: str | None) -> list[list[ChainLink]]:
        holds = [chain for holder, chain in self.holders_on(on, subject)[0] if holder == body]
        return holds or [chain for exerciser, chain in self.exercisers_on(on, subject)
                         if exerciser == body]

    def _explain_unusable_grant(
        self, body: Body, on: date, subject: str | None, holders: set[str]
    ) -> None:
        # The grant closest to usable explains best: one whose period holds the date, else the
        # most recent one.
        candidates = sorted(
            (g for g in self.grants.values() if g.grantee == body.code),
            key=lambda g: (g.period.contains(on), g.period.valid_from),
            reverse=True,
        )
        for grant in candidates:
            delegation = grant.kind == "delegation"
            noun = "delegation" if delegation else "mandate"
            if grant.revoked_on is not None and grant.revoked_on <= on:
                raise RuleViolation(
                    f"The {noun} {grant.code} to {body.name} was revoked on {grant.revoked_on}; "
                    f"it gave no authority on {on}.",
                    code="DELEGATION_REVOKED" if delegation else "MANDATE_REVOKED",
                    field="cited_grant",
                )
            if grant.period.valid_until is not None and on >= grant.period.valid_until:
                raise RuleViolation(
                    f"The {noun} {grant.code} to {body.name} ran until {grant.period.valid_until} "
                    f"and had expired on {on}.",
                    code="DELEGATION_EXPIRED" if delegation else "MANDATE_EXPIRED",
                    field="cited_grant",
                )
            if on < grant.period.valid_from:
                raise RuleViolation(
                    f"The {noun} {grant.code} to {body.name} applies only from "
                    f"{grant.period.valid_from}, after {on}.",
                    code="GRANT_NOT_YET_VALID",
                    field="cited_grant",
                )
            if not grant.covers(subject):
                raise RuleViolation(
                    f"The {noun} {grant.code} covers only {', '.join(grant.scope or ())}; "
                    f"a decision on '{subject or 'the competence as a whole'}' is outside it.",
                    code="OUTSIDE_GRANT_SCOPE",
                    field="subject",
                )
            if grant.kind != "delegation" and grant.grantor not in holders:
                raise RuleViolation(
                    f"The {noun} {grant.code} came from {grant.grantor}, which no longer held "
                    f"{self.label} on {on}; a mandate reaches no further than its mandator.",
                    code="MANDATOR_NOT_COMPETENT",
                    field="cited_grant",
                )

    def grant(self, code: str) -> Grant:
        try:
            return self.grants[code]
        except KeyError:
            raise UnknownReference(
                f"No grant {code} is recorded for {self.label}.", field="grant"
            ) from None

    # Commands --------------------------------------------------------------------------------

    def attribute(
        self,
        body: Body,
        legal_basis: str,
        period: Interval,
        framework_body: str | None,
        meta: Meta,
    ) -> None:
        self.check_legal_basis(legal_basis, "An attribution cites the law or regulation it rests on.")
        body.check_active_on(period.valid_from)
        for attribution in self.attributions:
            if _overlaps(attribution.period, period):
                raise RuleViolation(
                    f"{self.label} is already attributed to {attribution.body} from "
                    f"{attribution.period.valid_from}; end that attribution first.",
                    code="ALREADY_ATTRIBUTED",
                    field="valid_from",
                )
        self._attributed(
            body=body.code,
            legal_basis=legal_basis,
            valid_from=period.valid_from,
            valid_until=period.valid_until,
            framework_body=framework_body,
            meta=meta,
        )

    def end_attribution(self, body: str, on: date, reason: str, meta: Meta) -> None:
        current = self._open_attribution(body)
        if current is None:
            raise RuleViolation(
                f"{self.label} has no open-ended attribution to {body}.",
                code="NOT_ATTRIBUTED",
                field="body",
            )
        Interval(current.period.valid_from, on)
        check_reason(reason)
        self.check_not_relied_on_from(attribution_key(body), f"The attribution to {body}", on)
        self._attribution_ended(body=body, on=on, reason=reason, meta=meta)

    def grant_delegation(self, code: str, terms: GrantTerms, meta: Meta) -> None:
        """L4, L6: a delegation of a delegable competence, on a legal basis, by its holder."""
        self.check_new_grant_code(code)
        if not self.delegable:
            raise RuleViolation(
                f"{self.label} is not delegable: it may only be exercised by its holder or under "
                "mandate.",
                code="NOT_DELEGABLE",
                field="competence",
            )
        self.check_legal_basis(terms.legal_basis, "A delegation needs a basis in law (Awb 10:15).")
        if terms.grantee.is_subordinate_of(terms.grantor):
            raise RuleViolation(
                f"{terms.grantee.name} is subordinate to {terms.grantor.name}; a competence is not "
                "delegated to a subordinate (Awb 10:14). Use a mandate instead.",
                code="SUBORDINATE_GRANTEE",
                field="grantee",
            )
        self._check_grant_parties(terms)
        self.check_no_delegation_cycle(terms)
        self.check_not_delegated_already(terms)
        self._granted(code, "delegation", terms, False, None, meta)

    def grant_mandate(self, code: str, terms: GrantTerms, allows_submandate: bool,
                      parent: str | None, meta: Meta) -> None:
        """L5, L6: a mandate from a competent mandator; a sub-mandate only where allowed."""
        self.check_new_grant_code(code)
        if not self.mandatable:
            raise RuleViolation(
                f"{self.label} may not be mandated: its holder must exercise it itself.",
                code="NOT_MANDATABLE",
                field="competence",
            )
        if parent is None:
            self._check_grant_parties(terms)
            kind: GrantKind = "mandate"
        else:
            self._check_submandate(self.grant(parent), terms.grantor, terms.period)
            self._check_grant_parties(terms, mandator_holds=False)
            kind = "submandate"
        self._granted(code, kind, terms, allows_submandate, parent, meta)

    def revoke_grant(self, code: str, on: date, reason: str, meta: Meta) -> None:
        grant = self.grant(code)
        if grant.revoked_on is not None:
            raise RuleViolation(
                f"Grant {code} was already revoked on {grant.revoked_on}.",
                code="ALREADY_REVOKED",
                field="grant",
            )
        if on < grant.period.valid_from:
            raise RuleViolation(
                f"Grant {code} starts on {grant.period.valid_from}; it cannot be revoked before.",
                code="EMPTY_PERIOD",
                field="on",
            )
        check_reason(reason)
        self.check_not_relied_on_from(code, f"Grant {code}", on)
        self._revoked(grant=code, on=on, reason=reason, meta=meta)

    def record_exercise(self, decision: str, body: str, on: date, chain: list[ChainLink],
                        meta: Meta) -> None:
        """Records a decision taken under this holding, and what in its chain it relied on."""
        relied_on = [link.grant or attribution_key(link.grantee) for link in chain
                     if link.grant is not None or link.kind == "attribution"]
        self._exercised(decision=decision, body=body, on=on, relied_on=relied_on, meta=meta)

    # Named checks ----------------------------------------------------------------------------

    def check_new_grant_code(self, code: str) -> None:
        if code in self.grants:
            raise AlreadyRecorded(f"A grant {code} is already recorded for {self.label}.",
                                  field="code")

    @staticmethod
    def check_legal_basis(legal_basis: str, why: str) -> None:
        if not legal_basis.strip():
            raise RuleViolation(why, code="MISSING_LEGAL_BASIS", field="legal_basis")

    def check_no_delegation_cycle(self, terms: GrantTerms) -> None:
        """A competence delegated away is revoked, not delegated back: a delegation to a body
        that already passed it on would leave no one holding it in its own name (L3)."""
        for subject in terms.scope or (None,):
            _, delegated_away = self.holders_on(terms.period.valid_from, subject)
            if terms.grantee.code in delegated_away:
                raise RuleViolation(
                    f"{terms.grantee.name} itself passed {self.label} on to {terms.grantor.name}; "
                    "delegating it back would make a cycle. Revoke that delegation instead.",
                    code="DELEGATION_CYCLE",
                    field="grantee",
                )

    def check_not_delegated_already(self, terms: GrantTerms) -> None:
        """L3: a delegation transfers the competence (Awb 10:13), so a holder delegates a subject
        to one body at a time: two delegations standing at once would both make their delegatee
        competent. Delegations of disjoint subjects or periods may stand side by side, and so may
        mandates, which transfer nothing."""
        for standing in self.grants.values():
            if (standing.kind == "delegation" and standing.grantor == terms.grantor.code
                    and _scopes_meet(standing.scope, terms.scope)
                    and _in_effect_during(standing, terms.period)):
                until = f" until {standing.ends_on}" if standing.ends_on is not None else ""
                raise RuleViolation(
                    f"{terms.grantor.name} already delegated {self.label} to {standing.grantee} "
                    f"(grant {standing.code}, from {standing.period.valid_from}{until}), for "
                    "subjects and a period this delegation shares; a delegation transfers the "
                    "competence (Awb 10:13), so it goes to one body at a time. Revoke "
                    f"{standing.code} from the day the new delegation starts.",
                    code="ALREADY_DELEGATED",
                    field="valid_from",
                )

    def check_not_relied_on_from(self, key: str, what: str, on: date) -> None:
        """A revocation cannot pull the ground from under a decision already taken on it: this
        is also what makes a decision and a concurrent revocation never both succeed."""
        last = self.last_relied_on.get(key)
        if last is not None and last >= on:
            raise RuleViolation(
                f"{what} was relied on by a decision taken on {last}; it cannot end on {on}, "
                "before that decision: end it on a later date.",
                code="RELIED_ON_AFTER",
                field="on",
            )

    def _check_grant_parties(self, terms: GrantTerms, *, mandator_holds: bool = True) -> None:
        grantor, grantee, period = terms.grantor, terms.grantee, terms.period
        if grantor.code == grantee.code:
            raise RuleViolation(f"{grantor.name} cannot grant a competence to itself.",
                                code="SELF_GRANT", field="grantee")
        grantee.check_active_on(period.valid_from, field="grantee")
        terms.source_decision.check_adopted_by(grantor, period.valid_from)
        if not mandator_holds:
            return
        if not all(
            grantor.code in {h for h, _ in self.holders_on(period.valid_from, subject)[0]}
            for subject in (terms.scope or (None,))
        ):
            raise RuleViolation(
                f"{grantor.name} did not hold {self.label} in its own name on "
                f"{period.valid_from}, so it cannot pass it on.",
                code="GRANTOR_NOT_COMPETENT",
                field="grantor",
            )

    def _check_submandate(self, parent: Grant, grantor: Body, period: Interval) -> None:
        if parent.kind == "delegation":
            raise RuleViolation(
                f"{parent.code} is a delegation; a sub-mandate passes on a mandate.",
                code="SUBMANDATE_NOT_ALLOWED",
                field="parent",
            )
        if not parent.allows_submandate:
            raise RuleViolation(
                f"Mandate {parent.code} does not allow sub-mandating.",
                code="SUBMANDATE_NOT_ALLOWED",
                field="parent",
            )
        if parent.grantee != grantor.code:
            raise RuleViolation(
                f"Only {parent.grantee}, the mandatee of {parent.code}, may sub-mandate it.",
                code="GRANTOR_NOT_COMPETENT",
                field="grantor",
            )
        if not parent.active_on(period.valid_from):
            raise RuleViolation(
                f"Mandate {parent.code} was not in force on {period.valid_from}.",
                code="MANDATE_EXPIRED",
                field="parent",
            )

    def _open_attribution(self, body: str) -> Attribution | None:
        for attribution in self.attributions:
            if attribution.body == body and attribution.period.valid_until is None:
                return attribution
        return None

    def _granted(self, code: str, kind: GrantKind, terms: GrantTerms, allows_submandate: bool,
                 parent: str | None, meta: Meta) -> None:
        self._grant_recorded(
            code=code,
            kind=kind,
            grantor=terms.grantor.code,
            grantee=terms.grantee.code,
            legal_basis=terms.legal_basis,
            source_decision=terms.source_decision.code,
            valid_from=terms.period.valid_from,
            valid_until=terms.period.valid_until,
            scope=list(terms.scope) if terms.scope is not None else None,
            allows_submandate=allows_submandate,
            parent=parent,
            framework_body=terms.framework_body,
            meta=meta,
        )

    # Events ----------------------------------------------------------------------------------

    @event("Attributed")
    def _attributed(
        self,
        body: str,
        legal_basis: str,
        valid_from: date,
        valid_until: date | None,
        framework_body: str | None,
        meta: Meta,
    ) -> None:
        self.attributions.append(
            Attribution(body, legal_basis, Interval(valid_from, valid_until), framework_body)
        )

    @event("AttributionEnded")
    def _attribution_ended(self, body: str, on: date, reason: str, meta: Meta) -> None:
        current = self._open_attribution(body)
        assert current is not None
        index = self.attributions.index(current)
        self.attributions[index] = replace(
            current, period=Interval(current.period.valid_from, on)
        )

    @event("GrantRecorded")
    def _grant_recorded(
        self,
        code: str,
        kind: GrantKind,
        grantor: str,
        grantee: str,
        legal_basis: str,
        source_decision: str,
        valid_from: date,
        valid_until: date | None,
        scope: list[str] | None,
        allows_submandate: bool,
        parent: str | None,
        framework_body: str | None,
        meta: Meta,
    ) -> None:
        self.grants[code] = Grant(
            code=code,
            kind=kind,
            grantor=grantor,
            grantee=grantee,
            legal_basis=legal_basis,
            source_decision=source_decision,
            period=Interval(valid_from, valid_until),
            scope=tuple(scope) if scope is not None else None,
            allows_submandate=allows_submandate,
            parent=parent,
            framework_body=framework_body,
        )

    @event("GrantRevoked")
    def _revoked(self, grant: str, on: date, reason: str, meta: Meta) -> None:
        self.grants[grant] = replace(self.grants[grant], revoked_on=on)

    @event("Exercised")
    def _exercised(self, decision: str, body: str, on: date, relied_on: list[str],
                   meta: Meta) -> None:
        for key in relied_on:
            if key not in self.last_relied_on or self.last_relied_on[key] < on:
                self.last_relied_on[key] = on


def holders_on(
    attributions: Iterable[Attribution], grants: Iterable[Grant], on: date,
    subject: str | None = None,
) -> tuple[list[tuple[str, list[ChainLink]]], dict[str, Grant]]:
    """Bodies holding a competence in their own name on `on`, each with its chain, and the
    delegations by which other bodies gave it away (those may not exercise it: L3)."""
    grants = list(grants)
    holders: list[tuple[str, list[ChainLink]]] = []
    delegated_away: dict[str, Grant] = {}
    for attribution in attributions:
        if not attribution.period.contains(on):
            continue
        body, chain = attribution.body, [attribution.link()]
        while (delegation := next(iter(_grants_from(grants, "delegation", body, on, subject)),
                                  None)) is not None:
            if delegation.grantee in delegated_away or delegation.grantee == attribution.body:
                break  # a cycle of delegations confers nothing further
            delegated_away[body] = delegation
            body, chain = delegation.grantee, [*chain, delegation.link()]
        holders.append((body, chain))
    return holders, delegated_away


def exercisers_on(
    attributions: Iterable[Attribution], grants: Iterable[Grant], on: date,
    subject: str | None = None,
) -> list[tuple[str, list[ChainLink]]]:
    """Everyone who may exercise a competence on `on`: holders in their own name, then their
    mandatees and the sub-mandatees of mandates that allow it, each with its chain. The ledger
    checks decisions with it and the projections draw the competence map with it."""
    grants = list(grants)
    holders, _ = holders_on(attributions, grants, on, subject)
    exercisers = list(holders)
    for holder, chain in holders:
        for mandate in _grants_from(grants, "mandate", holder, on, subject):
            exercisers.append((mandate.grantee, [*chain, mandate.link()]))
            if not mandate.allows_submandate:
                continue
            for sub in _grants_from(grants, "submandate", mandate.grantee, on, subject):
                if sub.parent == mandate.code:
                    exercisers.append((sub.grantee, [*chain, mandate.link(), sub.link()]))
    return exercisers


def _grants_from(
    grants: Iterable[Grant], kind: GrantKind, grantor: str, on: date, subject: str | None
) -> list[Grant]:
    return [g for g in grants
            if g.kind == kind and g.grantor == grantor and g.active_on(on) and g.covers(subject)]


def _scopes_meet(a: tuple[str, ...] | None, b: tuple[str, ...] | None) -> bool:
    """Whether two grants cover a subject in common; a grant without scope covers them all."""
    return a is None or b is None or not set(a).isdisjoint(b)


def _in_effect_during(grant: Grant, period: Interval) -> bool:
    """Whether the grant has effect on some day of `period`: its own period, cut short by its
    revocation, shares a day with it."""
    ends = [end for end in (grant.ends_on, period.valid_until) if end is not None]
    return max(grant.period.valid_from, period.valid_from) < min(ends, default=date.max)


def _overlaps(a: Interval, b: Interval) -> bool:
    a_end, b_end = a.valid_until or date.max, b.valid_until or date.max
    return a.valid_from < b_end and b.valid_from < a_end

