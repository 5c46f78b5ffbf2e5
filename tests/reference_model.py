"""A deliberately naive reference model of the legitimacy rules for one competence C of one
municipality, written from the specification (the rules L1-L6 and L11 of docs/architecture.md),
not from ledger/domain.

Everything is kept in plain lists and recomputed from scratch for every question. A verdict says
whether a command is accepted and, where the specification names one, which code a refusal has
(`code=None` means "refused, any code": several rules may be broken, or the spec names none).

Two rules beyond the brief the model was written from, both read from docs/architecture.md: a body
is abolished once (L9: nothing is edited; ALREADY_ABOLISHED), and a grant cannot be revoked on or
before the date of a decision that relied on it ("a decision and the revocation it relies on must
not both succeed"; RELIED_ON_AFTER). A decision may cite any grant through which its body is
competent on that day (L11: "cites the grant it relies on"), not one chain picked by the ledger.
A rule decided later (L3): a holder does not delegate a subject twice for days in common, since a
delegation transfers the competence (ALREADY_DELEGATED); mandates may overlap.

Cycles of delegations (A delegates to B, B back to A) are not defined by the specification: the
walk "follow the delegation to the grantee" never ends. The model raises `Undefined` there and the
test then compares nothing for that command (it follows the ledger's outcome to keep in step).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


class Undefined(Exception):
    """The specification does not say what happens (a cycle of delegations)."""


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    code: str | None = None  # expected refusal code, None = any

    @staticmethod
    def accept() -> Verdict:
        return Verdict(True)

    @staticmethod
    def refuse(code: str | None = None) -> Verdict:
        return Verdict(False, code)


@dataclass
class MBody:
    code: str
    kind: str
    subordinate_to: str | None
    established_on: date
    abolitions: list[date] = field(default_factory=list)


@dataclass
class MSource:
    """A decision a grant can rest on (L6); `text` is the publication a clerk would cite."""

    code: str
    body: str
    adopted: bool
    text: str
    published_on: date | None


@dataclass
class MGrant:
    code: str
    kind: str  # "delegation" | "mandate" | "submandate"
    grantor: str
    grantee: str
    source: str
    valid_from: date
    valid_until: date | None
    scope: list[str] | None
    allows_submandate: bool = False
    parent: str | None = None
    revocations: list[date] = field(default_factory=list)


@dataclass
class MAttribution:
    body: str
    valid_from: date
    valid_until: date | None


def in_period(day: date, start: date, end: date | None) -> bool:
    return start <= day and (end is None or day < end)


class Model:
    def __init__(self, delegable: bool, mandatable: bool) -> None:
        self.delegable = delegable
        self.mandatable = mandatable
        self.bodies: list[MBody] = []
        self.attributions: list[MAttribution] = []
        self.sources: list[MSource] = []
        self.grants: list[MGrant] = []  # in the order they were recorded
        # code, date, grants relied on (None: unknown, its chain ran through a cycle)
        self.decisions: list[tuple[str, date, list[str] | None]] = []

    # Lookups ---------------------------------------------------------------------------------

    def body(self, code: str) -> MBody:
        for body in self.bodies:
            if body.code == code:
                return body
        raise KeyError(code)

    def grant(self, code: str) -> MGrant | None:
        for grant in self.grants:
            if grant.code == code:
                return grant
        return None

    def source(self, code: str) -> MSource | None:
        for source in self.sources:
            if source.code == code:
                return source
        return None

    # Basic predicates --------------------------------------------------------------------

    def body_active(self, code: str, day: date) -> bool:
        body = self.body(code)
        if day < body.established_on:
            return False
        return all(abolished > day for abolished in body.abolitions)

    @staticmethod
    def revoked_on_or_before(grant: MGrant, day: date) -> bool:
        return any(revoked <= day for revoked in grant.revocations)

    def grant_active(self, grant: MGrant, day: date) -> bool:
        return in_period(day, grant.valid_from, grant.valid_until) and not (
            self.revoked_on_or_before(grant, day))

    @staticmethod
    def covers(grant: MGrant, subject: str | None) -> bool:
        if grant.scope is None:
            return True
        return subject is not None and subject in grant.scope

    def is_subordinate(self, grantee: str, grantor: str) -> bool:
        body = self.body(grantee)
        return body.kind == "official" or body.subordinate_to == grantor

    # Who holds, who exercises ------------------------------------------------------------

    def holders(self, day: date, subject: str | None) -> list[tuple[str, list[MGrant]]]:
        """Each holder on `day` for `subject`, with the delegations leading to it."""
        result = []
        for attribution in self.attributions:
            if not in_period(day, attribution.valid_from, attribution.valid_until):
                continue
            current = attribution.body
            visited = [current]
            chain: list[MGrant] = []
            while True:
                following = None
                for grant in self.grants:
                    if (grant.kind == "delegation" and grant.grantor == current
                            and self.grant_active(grant, day) and self.covers(grant, subject)):
                        following = grant
                        break
                if following is None:
                    break
                if following.grantee in visited:
                    raise Undefined(f"delegation cycle through {following.code} on {day}")
                chain = chain + [following]
                current = following.grantee
                visited.append(current)
            result.append((current, chain))
        return result

    def exercisers(self, day: date, subject: str | None) -> list[tuple[str, list[MGrant]]]:
        """Holders, their mandatees, and sub-mandatees of mandates that allow it."""
        result = []
        holders = self.holders(day, subject)
        for holder, chain in holders:
            result.append((holder, chain))
        for holder, chain in holders:
            for mandate in self.grants:
                if not (mandate.kind == "mandate" and mandate.grantor == holder
                        and self.grant_active(mandate, day) and self.covers(mandate, subject)):
                    continue
                result.append((mandate.grantee, chain + [mandate]))
                if not mandate.allows_submandate:
                    continue
                for sub in self.grants:
                    if (sub.kind == "submandate" and sub.parent == mandate.code
                            and sub.grantor == mandate.grantee
                            and self.grant_active(sub, day) and self.covers(sub, subject)):
                        result.append((sub.grantee, chain + [mandate, sub]))
        return result

    def chains_of(self, body: str, day: date, subject: str | None) -> list[list[MGrant]]:
        """The chains by which `body` may exercise C: its holder chain if it holds in its own
        name, otherwise every mandate or sub-mandate chain that reaches it."""
        holder_chains = [chain for holder, chain in self.holders(day, subject) if holder == body]
        if holder_chains:
            return holder_chains
        return [chain for who, chain in self.exercisers(day, subject) if who == body]

    # Questions: would the ledger accept this command? ------------------------------------

    def take_decision(self, code: str, body: str, day: date, subject: str | None,
                      cited: str | None, publication: str | None) -> Verdict:
        for taken, _, _ in self.decisions:
            if taken == code:
                return Verdict.refuse("ALREADY_TAKEN")
        if not self.body_active(body, day):
            return Verdict.refuse("BODY_NOT_ACTIVE")
        chains = self.chains_of(body, day, subject)
        if not chains:
            return Verdict.refuse()  # not an exerciser: the code depends on why
        cited_grant = self.grant(cited) if cited is not None else None
        finals = [chain[-1] if chain else None for chain in chains]
        if None in finals:  # holds by attribution: nothing to cite
            if cited is None:
                return Verdict.accept()
            return Verdict.refuse("CITED_GRANT_NOT_IN_CHAIN" if cited_grant else None)
        if cited is None:
            return Verdict.refuse("GRANT_NOT_CITED" if publication is None else None)
        if cited_grant is None:
            return Verdict.refuse()  # an unknown grant: any code
        publication_ok, publication_problem = self.publication_check(cited_grant, day,
                                                                     publication)
        for final in finals:
            if final is not None and final.code == cited:
                if publication_ok:
                    return Verdict.accept()
                return Verdict.refuse(publication_problem)
        in_some_chain = False
        for chain in chains:
            for grant in chain:
                if grant.code == cited:
                    in_some_chain = True
        if not in_some_chain and publication_ok:
            return Verdict.refuse("CITED_GRANT_NOT_IN_CHAIN")
        return Verdict.refuse()

    def publication_check(self, grant: MGrant, day: date, publication: str | None
                          ) -> tuple[bool, str | None]:
        """(ok, code if exactly one thing is wrong)."""
        source = self.source(grant.source)
        assert source is not None
        published = source.published_on is not None and source.published_on <= day
        same_text = publication == source.text
        if published and same_text:
            return True, None
        if publication is None:
            return False, None
        if published:
            return False, "PUBLICATION_MISMATCH"
        if same_text:
            return False, "GRANT_NOT_PUBLISHED"
        return False, None

    def _party_checks(self, grantor: str, grantee: str, source: str, valid_from: date
                      ) -> list[str | None]:
        problems: list[str | None] = []
        if grantor == grantee:
            problems.append("SELF_GRANT")
        if not self.body_active(grantee, valid_from):
            problems.append("BODY_NOT_ACTIVE")
        found = self.source(source)
        if found is None or not found.adopted or found.body != grantor:
            problems.append(None)  # L6; the spec names no code for it
        return problems

    def _holds(self, grantor: str, valid_from: date, scope: list[str] | None) -> bool:
        subjects: list[str | None] = list(scope) if scope is not None else [None]
        for subject in subjects:
            holders = [holder for holder, _ in self.holders(valid_from, subject)]
            if grantor not in holders:
                return False
        return True

    @staticmethod
    def _first(problems: list[str | None]) -> Verdict:
        if not problems:
            return Verdict.accept()
        return Verdict.refuse(problems[0])

    def grant_delegation(self, code: str, grantor: str, grantee: str, source: str,
                         valid_from: date, valid_until: date | None, scope: list[str] | None
                         ) -> Verdict:
        if self.source(source) is None:
            return Verdict.refuse()  # an unknown source decision
        problems: list[str | None] = []
        if self.grant(code) is not None:
            problems.append("ALREADY_EXISTS")
        if not self.delegable:
            problems.append("NOT_DELEGABLE")
        if self.is_subordinate(grantee, grantor):
            problems.append("SUBORDINATE_GRANTEE")
        problems += self._party_checks(grantor, grantee, source, valid_from)
        if not self._holds(grantor, valid_from, scope):
            problems.append("GRANTOR_NOT_COMPETENT")
        if self._passed_it_on(grantee, valid_from, scope):
            problems.append("DELEGATION_CYCLE")
        if self._delegates_already(grantor, valid_from, valid_until, scope):
            problems.append("ALREADY_DELEGATED")
        return self._first(problems)

    def _delegates_already(self, grantor: str, valid_from: date, valid_until: date | None,
                           scope: list[str] | None) -> bool:
        """Whether, on some day of the period, a delegation of `grantor` stands that covers a
        subject the new one covers (L3: delegation transfers the competence, so one body at a
        time has it). Asked day by day over the days where anything changes."""
        days = {valid_from}
        for grant in self.grants:
            days.add(grant.valid_from)
        subjects: list[str | None] = [None, *(scope or [])]
        subjects += [s for grant in self.grants for s in grant.scope or []]
        new = MGrant("new", "delegation", grantor, "", "", valid_from, valid_until, scope)
        for day in days:
            if not in_period(day, valid_from, valid_until):
                continue
            for subject in subjects:
                if not self.covers(new, subject):
                    continue
                for grant in self.grants:
                    if (grant.kind == "delegation" and grant.grantor == grantor
                            and self.grant_active(grant, day) and self.covers(grant, subject)):
                        return True
        return False

    def _passed_it_on(self, body: str, valid_from: date, scope: list[str] | None) -> bool:
        """Whether `body` delegated the competence away (it stands before the holder)."""
        subjects: list[str | None] = list(scope) if scope is not None else [None]
        for subject in subjects:
            for _, chain in self.holders(valid_from, subject):
                if chain and body in [chain[0].grantor] + [g.grantee for g in chain[:-1]]:
                    return True
        return False

    def grant_mandate(self, code: str, grantor: str, grantee: str, source: str,
                      valid_from: date, scope: list[str] | None, parent: str | None
                      ) -> Verdict:
        if self.source(source) is None:
            return Verdict.refuse()
        problems: list[str | None] = []
        if self.grant(code) is not None:
            problems.append("ALREADY_EXISTS")
        if not self.mandatable:
            problems.append("NOT_MANDATABLE")
        if parent is None:
            problems += self._party_checks(grantor, grantee, source, valid_from)
            if not self._holds(grantor, valid_from, scope):
                problems.append("GRANTOR_NOT_COMPETENT")
            return self._first(problems)
        parent_grant = self.grant(parent)
        if parent_grant is None:
            problems.append("UNKNOWN_REFERENCE")
            return self._first(problems)
        if parent_grant.kind == "delegation" or not parent_grant.allows_submandate:
            problems.append("SUBMANDATE_NOT_ALLOWED")
        if parent_grant.grantee != grantor:
            problems.append("GRANTOR_NOT_COMPETENT")
        if not self.grant_active(parent_grant, valid_from):
            problems.append("MANDATE_EXPIRED")
        problems += self._party_checks(grantor, grantee, source, valid_from)
        return self._first(problems)

    def revoke_grant(self, code: str, day: date) -> Verdict:
        grant = self.grant(code)
        if grant is None:
            return Verdict.refuse("UNKNOWN_REFERENCE")
        if grant.revocations:
            return Verdict.refuse("ALREADY_REVOKED")
        if day < grant.valid_from:
            return Verdict.refuse("EMPTY_PERIOD")
        # A revocation may not pull the ground from under a decision already taken on it
        # (docs/architecture.md: "a decision and the revocation it relies on never both succeed").
        for _, taken_on, relied_on in self.decisions:
            if relied_on is None and taken_on >= day:
                raise Undefined("a later decision rests on a chain the model cannot follow")
            if relied_on is not None and code in relied_on and taken_on >= day:
                return Verdict.refuse("RELIED_ON_AFTER")
        return Verdict.accept()

    def abolish_body(self, code: str, day: date) -> Verdict:
        if self.body(code).abolitions:  # nothing is edited (L9): a body is abolished once
            return Verdict.refuse("ALREADY_ABOLISHED")
        if not self.body_active(code, day):
            return Verdict.refuse("BODY_NOT_ACTIVE")
        return Verdict.accept()

    # Recording what the ledger accepted ------------------------------------------------------

    def record_grant(self, grant: MGrant) -> None:
        self.grants.append(grant)

    def record_revocation(self, code: str, day: date) -> None:
        grant = self.grant(code)
        assert grant is not None
        grant.revocations.append(day)

    def record_abolition(self, code: str, day: date) -> None:
        self.body(code).abolitions.append(day)

    def relied_on(self, body: str, day: date, subject: str | None, cited: str | None
                  ) -> list[str]:
        """The grants of the chain an accepted decision rested on: the one ending in the cited
        grant, or the holder's own chain."""
        for chain in self.chains_of(body, day, subject):
            if (not chain and cited is None) or (chain and chain[-1].code == cited):
                return [grant.code for grant in chain]
        raise AssertionError("an accepted decision rests on a chain")

    def record_decision(self, code: str, day: date, relied_on: list[str] | None) -> None:
        self.decisions.append((code, day, relied_on))
