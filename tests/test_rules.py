"""The legitimacy rules L1–L12 of docs/architecture.md and the lifecycle rules of the aggregates, checked on
in-memory domain objects (no database). Each refusal is checked for its stable code (and field),
and for leaving the aggregate without a new event; each rule also has its accepted counterpart."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction
from typing import Any

import pytest
from domain_builders import (
    FOUNDED,
    LAW,
    META,
    WGR,
    World,
    adopted,
    body,
    decision,
    delegate,
    mandate,
    refused,
    take,
    world,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from ledger import commands as c
from ledger.domain.commission import Commission
from ledger.domain.competence import CompetenceHolding, GrantTerms
from ledger.domain.consultation import Consultation
from ledger.domain.decision import Decision, check_votes_support_outcome
from ledger.domain.jurisdiction import Jurisdiction
from ledger.errors import RuleViolation, UnknownReference
from ledger.rules import check_framework, check_grant_citation
from ledger.values import ChainLink, Interval, MemberVote, Votes

D = date


@pytest.fixture
def w() -> World:
    return world()


def kinds(chain: list[ChainLink]) -> list[tuple[str, str | None, str]]:
    return [(link.kind, link.grant, link.grantee) for link in chain]


def lookup(*decisions: Decision):
    known = {d.code: d for d in decisions}
    return known.get


# L1 — the body exists and is not dissolved ------------------------------------------------------


def test_L1_body_not_active_before_establishment():
    b = body("drechtraad", "regional_council", established_on=D(2006, 1, 1))
    with refused(b, "BODY_NOT_ACTIVE", "body"):
        b.check_active_on(D(2005, 12, 31))
    b.check_active_on(D(2006, 1, 1))  # the establishment day itself is active


def test_L1_abolition_day_is_already_inactive():
    b = body("drechtraad", "regional_council")
    b.abolish(D(2020, 1, 1), "Gemeenschappelijke regeling gewijzigd", None, META)
    b.collect_events()
    b.check_active_on(D(2019, 12, 31))
    for on in (D(2020, 1, 1), D(2021, 6, 1)):
        with refused(b, "BODY_NOT_ACTIVE", "body"):
            b.check_active_on(on)
    assert b.is_active_on(D(2019, 12, 31)) and not b.is_active_on(D(2020, 1, 1))


def test_L1_grant_to_a_body_not_yet_established_is_refused(w: World):
    h = w.holding()
    young = body("dordrecht-uitvoering", "committee", established_on=D(2015, 1, 1))
    source = adopted("besluit-d1", w.college, D(2014, 6, 1))
    with refused(h, "BODY_NOT_ACTIVE", "grantee"):
        h.grant_delegation(
            "d1", GrantTerms(w.college, young, WGR, source, Interval(D(2014, 6, 1)), None, None), META
        )
    h.grant_delegation(
        "d1", GrantTerms(w.college, young, WGR, source, Interval(D(2015, 1, 1)), None, None), META
    )
    assert h.chain_for(young, D(2015, 1, 1))[-1].grant == "d1"


def test_L1_attribution_to_an_abolished_body_is_refused(w: World):
    h = w.holding(attributed=False)
    w.raad.abolish(D(2010, 1, 1), "samengevoegd", None, META)
    with refused(h, "BODY_NOT_ACTIVE", "body"):
        h.attribute(w.raad, LAW, Interval(D(2010, 1, 1)), None, META)
    h.attribute(w.raad, LAW, Interval(D(2009, 1, 1), D(2010, 1, 1)), None, META)


def test_L1_an_abolished_body_is_not_abolished_again_on_an_earlier_date():
    """L9: abolishing once more, earlier, would silently rewrite the abolition date."""
    b = body("drechtraad", "regional_council")
    b.abolish(D(2020, 1, 1), "opgeheven", None, META)
    version = b.version
    with pytest.raises(RuleViolation) as info:
        b.abolish(D(2019, 1, 1), "nog eens", None, META)
    assert info.value.code in {"ALREADY_ABOLISHED", "BODY_NOT_ACTIVE"}
    assert b.version == version and b.abolished_on == D(2020, 1, 1)


# L2 — a chain runs from the attribution to the deciding body -----------------------------------


def test_L2_attributed_holder_chain_is_the_attribution(w: World):
    chain = w.holding().chain_for(w.college, D(2013, 3, 5))
    assert kinds(chain) == [("attribution", None, "dordrecht-college")]
    assert chain[0].legal_basis == LAW and chain[0].valid_from == FOUNDED


def test_L2_body_without_chain_is_not_competent(w: World):
    h = w.holding()
    with refused(h, "NOT_COMPETENT", "body"):
        h.chain_for(w.raad, D(2013, 3, 5))


def test_L2_not_attributed_before_the_attribution_and_after_its_end(w: World):
    h = w.holding(since=D(2010, 1, 1))
    h.end_attribution("dordrecht-college", D(2015, 1, 1), "wet gewijzigd", META)
    for on in (D(2009, 12, 31), D(2015, 1, 1)):
        with refused(h, "NOT_ATTRIBUTED", "competence"):
            h.chain_for(w.college, on)
    assert h.chain_for(w.college, D(2014, 12, 31))[0].valid_until == D(2015, 1, 1)


def test_L2_delegation_chain_lists_every_delegation_in_order(w: World):
    h = w.holding()
    delegate(h, "d-dsb", w.college, w.dsb, D(2005, 1, 1))
    delegate(h, "d-raad", w.dsb, w.drechtraad, D(2006, 1, 1))
    chain = h.chain_for(w.drechtraad, D(2013, 3, 5))
    assert kinds(chain) == [
        ("attribution", None, "dordrecht-college"),
        ("delegation", "d-dsb", "dsb"),
        ("delegation", "d-raad", "drechtraad"),
    ]
    assert [link.grantor for link in chain] == [None, "dordrecht-college", "dsb"]
    assert chain[1].source_decision == "besluit-d-dsb" and chain[1].legal_basis == WGR


def test_L2_mandate_chain_and_the_mandator_stays_competent(w: World):
    h = w.holding()
    mandate(h, "m1", w.college, w.burgemeester, D(2010, 1, 1))
    assert kinds(h.chain_for(w.burgemeester, D(2013, 3, 5))) == [
        ("attribution", None, "dordrecht-college"),
        ("mandate", "m1", "dordrecht-burgemeester"),
    ]
    assert kinds(h.chain_for(w.college, D(2013, 3, 5))) == [("attribution", None, "dordrecht-college")]


def test_L2_submandate_chain(w: World):
    h = w.holding()
    mandate(h, "m1", w.college, w.burgemeester, D(2010, 1, 1), allows_submandate=True)
    mandate(h, "sm1", w.burgemeester, w.ambtenaar, D(2011, 1, 1), parent="m1")
    chain = h.chain_for(w.ambtenaar, D(2013, 3, 5))
    assert kinds(chain) == [
        ("attribution", None, "dordrecht-college"),
        ("mandate", "m1", "dordrecht-burgemeester"),
        ("submandate", "sm1", "dordrecht-ambtenaar"),
    ]
    assert chain[2].grantor == "dordrecht-burgemeester"


def test_L2_of_two_chains_the_one_ending_in_the_cited_grant_is_taken(w: World):
    h = w.holding()
    mandate(h, "m1", w.college, w.burgemeester, D(2010, 1, 1))
    mandate(h, "m2", w.college, w.burgemeester, D(2010, 1, 1))
    assert h.chain_for(w.burgemeester, D(2013, 3, 5), relied_on="m2")[-1].grant == "m2"
    assert h.chain_for(w.burgemeester, D(2013, 3, 5), relied_on="m1")[-1].grant == "m1"
    assert h.chain_for(w.burgemeester, D(2013, 3, 5))[-1].grant == "m1"


def test_L2_overlapping_attribution_is_refused(w: World):
    h = w.holding(since=D(2010, 1, 1))
    with refused(h, "ALREADY_ATTRIBUTED", "valid_from"):
        h.attribute(w.raad, LAW, Interval(D(2012, 1, 1)), None, META)
    h.attribute(w.raad, LAW, Interval(D(2005, 1, 1), D(2010, 1, 1)), None, META)  # touches only
    assert h.chain_for(w.raad, D(2009, 12, 31))[0].grantee == "dordrecht-raad"


# L3 — the delegator does not exercise while its delegation stands -------------------------------


def test_L3_delegator_may_not_exercise_while_delegation_stands(w: World):
    h = w.holding()
    delegate(h, "d1", w.college, w.dsb, D(2013, 1, 1))
    with refused(h, "DELEGATED_AWAY", "body"):
        h.chain_for(w.college, D(2013, 1, 1))
    assert kinds(h.chain_for(w.college, D(2012, 12, 31))) == [("attribution", None, "dordrecht-college")]


def test_L3_delegator_competent_again_after_revocation(w: World):
    h = w.holding()
    delegate(h, "d1", w.college, w.dsb, D(2013, 1, 1))
    h.revoke_grant("d1", D(2016, 1, 1), "taak terug naar de gemeente", META)
    with refused(h, "DELEGATED_AWAY"):
        h.chain_for(w.college, D(2015, 12, 31))
    assert h.chain_for(w.college, D(2016, 1, 1))[-1].kind == "attribution"
    with refused(h, "DELEGATION_REVOKED", "cited_grant"):
        h.chain_for(w.dsb, D(2016, 1, 1))


def test_L3_delegator_competent_again_after_expiry(w: World):
    h = w.holding()
    delegate(h, "d1", w.college, w.dsb, D(2013, 1, 1), D(2017, 1, 1))
    with refused(h, "DELEGATED_AWAY"):
        h.chain_for(w.college, D(2016, 12, 31))
    assert h.chain_for(w.college, D(2017, 1, 1))[-1].kind == "attribution"


# L4 — delegation: delegable, legal basis, to a body that is not subordinate ---------------------


def test_L4_not_delegable(w: World):
    h = w.holding(delegable=False)
    source = adopted("besluit-d1", w.college, D(2013, 1, 1))
    with refused(h, "NOT_DELEGABLE", "competence"):
        h.grant_delegation(
            "d1", GrantTerms(w.college, w.dsb, WGR, source, Interval(D(2013, 1, 1)), None, None), META
        )


@pytest.mark.parametrize("basis", ["", "   "])
def test_L4_delegation_needs_a_legal_basis(w: World, basis: str):
    h = w.holding()
    source = adopted("besluit-d1", w.college, D(2013, 1, 1))
    with refused(h, "MISSING_LEGAL_BASIS", "legal_basis"):
        h.grant_delegation(
            "d1", GrantTerms(w.college, w.dsb, basis, source, Interval(D(2013, 1, 1)), None, None), META
        )


def test_L3_a_delegation_back_up_the_chain_is_refused(w: World):
    h = w.holding()
    delegate(h, "d-dsb", w.college, w.dsb, D(2005, 1, 1))
    source = adopted("besluit-terug", w.dsb, D(2006, 1, 1))
    with refused(h, "DELEGATION_CYCLE", "grantee"):
        h.grant_delegation(
            "d-terug", GrantTerms(w.dsb, w.college, WGR, source, Interval(D(2006, 1, 1))), META
        )
    h.revoke_grant("d-dsb", D(2006, 1, 1), "terug naar de gemeente", META)
    assert h.chain_for(w.college, D(2006, 1, 1))[-1].kind == "attribution"


@pytest.mark.parametrize("grantee", ["official", "subordinate committee"])
def test_L4_no_delegation_to_a_subordinate(w: World, grantee: str):
    h = w.holding()
    to = (
        body("dordrecht-ambtenaar", "official")
        if grantee == "official"
        # any official
        else body("dordrecht-commissie", "committee", subordinate_to="dordrecht-college")
    )
    source = adopted("besluit-d1", w.college, D(2013, 1, 1))
    with refused(h, "SUBORDINATE_GRANTEE", "grantee"):
        h.grant_delegation(
            "d1", GrantTerms(w.college, to, WGR, source, Interval(D(2013, 1, 1)), None, None), META
        )
    # a mandate to the same subordinate is the lawful route
    h.grant_mandate(
        "m1",
        GrantTerms(w.college, to, "Awb 10:3", source, Interval(D(2013, 1, 1)), None, None),
        False,
        None,
        META,
    )


def test_L4_no_grant_to_oneself(w: World):
    h = w.holding()
    source = adopted("besluit-d1", w.college, D(2013, 1, 1))
    with refused(h, "SELF_GRANT", "grantee"):
        h.grant_delegation(
            "d1", GrantTerms(w.college, w.college, WGR, source, Interval(D(2013, 1, 1)), None, None), META
        )


def test_L4_grantor_must_hold_the_competence(w: World):
    h = w.holding()
    source = adopted("besluit-d1", w.raad, D(2013, 1, 1))
    with refused(h, "GRANTOR_NOT_COMPETENT", "grantor"):
        h.grant_delegation(
            "d1", GrantTerms(w.raad, w.dsb, WGR, source, Interval(D(2013, 1, 1)), None, None), META
        )


def test_L4_grantor_must_hold_every_subject_of_the_scope(w: World):
    h = w.holding()
    delegate(h, "d1", w.college, w.dsb, D(2012, 1, 1), scope=("tarieven",))
    source = adopted("besluit-m1", w.college, D(2013, 1, 1))
    with refused(h, "GRANTOR_NOT_COMPETENT", "grantor"):
        h.grant_mandate(
            "m1",
            GrantTerms(
                w.college,
                w.burgemeester,
                "Awb 10:3",
                source,
                Interval(D(2013, 1, 1)),
                ("indicatie", "tarieven"),
                None,
            ),
            False,
            None,
            META,
        )
    h.grant_mandate(
        "m1",
        GrantTerms(
            w.college, w.burgemeester, "Awb 10:3", source, Interval(D(2013, 1, 1)), ("indicatie",), None
        ),
        False,
        None,
        META,
    )


def test_L4_delegation_recorded_as_one_event(w: World):
    h = w.holding()
    h.collect_events()
    delegate(h, "d1", w.college, w.dsb, D(2013, 1, 1), scope=("indicatie",))
    [recorded] = h.collect_events()
    assert type(recorded).__name__ == "GrantRecorded"
    assert (recorded.code, recorded.kind, recorded.grantor, recorded.grantee, recorded.scope) == (
        "d1",
        "delegation",
        "dordrecht-college",
        "dsb",
        ["indicatie"],
    )


# L5 — mandate: mandatable, competent mandator, sub-mandate only where allowed -------------------


def test_L5_not_mandatable(w: World):
    h = w.holding(mandatable=False)
    source = adopted("besluit-m1", w.college, D(2013, 1, 1))
    with refused(h, "NOT_MANDATABLE", "competence"):
        h.grant_mandate(
            "m1",
            GrantTerms(w.college, w.burgemeester, "Awb 10:3", source, Interval(D(2013, 1, 1)), None, None),
            False,
            None,
            META,
        )


def test_L5_mandator_must_be_competent(w: World):
    h = w.holding()
    delegate(h, "d1", w.college, w.dsb, D(2012, 1, 1))
    source = adopted("besluit-m1", w.college, D(2013, 1, 1))
    with refused(h, "GRANTOR_NOT_COMPETENT", "grantor"):  # it delegated the competence away
        h.grant_mandate(
            "m1",
            GrantTerms(w.college, w.burgemeester, "Awb 10:3", source, Interval(D(2013, 1, 1)), None, None),
            False,
            None,
            META,
        )


def test_L5_submandate_only_where_the_mandate_allows_it(w: World):
    h = w.holding()
    mandate(h, "m1", w.college, w.burgemeester, D(2010, 1, 1), allows_submandate=False)
    delegate(h, "d1", w.college, w.dsb, D(2012, 1, 1), scope=("tarieven",))
    source = adopted("besluit-sm1", w.burgemeester, D(2011, 1, 1))
    for parent in ("m1", "d1"):
        with refused(h, "SUBMANDATE_NOT_ALLOWED", "parent"):
            h.grant_mandate(
                "sm1",
                GrantTerms(
                    w.burgemeester, w.ambtenaar, "Awb 10:9", source, Interval(D(2013, 1, 1)), None, None
                ),
                False,
                parent,
                META,
            )


def test_L5_only_the_mandatee_submandates_and_only_while_the_mandate_stands(w: World):
    h = w.holding()
    mandate(h, "m1", w.college, w.burgemeester, D(2010, 1, 1), D(2014, 1, 1), allows_submandate=True)
    by_raad = adopted("besluit-raad", w.raad, D(2011, 1, 1))
    with refused(h, "GRANTOR_NOT_COMPETENT", "grantor"):
        h.grant_mandate(
            "sm1",
            GrantTerms(w.raad, w.ambtenaar, "Awb 10:9", by_raad, Interval(D(2011, 1, 1)), None, None),
            False,
            "m1",
            META,
        )
    source = adopted("besluit-sm1", w.burgemeester, D(2011, 1, 1))
    with refused(h, "MANDATE_EXPIRED", "parent"):
        h.grant_mandate(
            "sm1",
            GrantTerms(w.burgemeester, w.ambtenaar, "Awb 10:9", source, Interval(D(2014, 1, 1)), None, None),
            False,
            "m1",
            META,
        )


def test_L5_mandate_expired(w: World):
    h = w.holding()
    mandate(h, "m1", w.college, w.burgemeester, D(2010, 1, 1), D(2014, 1, 1))
    with refused(h, "MANDATE_EXPIRED", "cited_grant"):
        h.chain_for(w.burgemeester, D(2014, 1, 1))
    assert h.chain_for(w.burgemeester, D(2013, 12, 31))[-1].grant == "m1"


def test_L5_mandate_revoked(w: World):
    h = w.holding()
    mandate(h, "m1", w.college, w.burgemeester, D(2010, 1, 1))
    h.revoke_grant("m1", D(2013, 6, 1), "ingetrokken door het college", META)
    with refused(h, "MANDATE_REVOKED", "cited_grant"):
        h.chain_for(w.burgemeester, D(2013, 6, 1))
    assert h.chain_for(w.burgemeester, D(2013, 5, 31))[-1].grant == "m1"


def test_L5_outside_grant_scope(w: World):
    h = w.holding()
    mandate(h, "m1", w.college, w.burgemeester, D(2010, 1, 1), scope=("indicatie",))
    for subject in ("tarieven", None):
        with refused(h, "OUTSIDE_GRANT_SCOPE", "subject"):
            h.chain_for(w.burgemeester, D(2013, 1, 1), subject)
    assert h.chain_for(w.burgemeester, D(2013, 1, 1), "indicatie")[-1].grant == "m1"


@pytest.mark.parametrize("how", ["delegated away", "attribution ended"])
def test_L5_mandator_lost_the_competence_later(w: World, how: str):
    h = w.holding()
    mandate(h, "m1", w.college, w.burgemeester, D(2010, 1, 1))
    if how == "delegated away":
        delegate(h, "d1", w.college, w.dsb, D(2015, 1, 1))
    else:
        h.end_attribution("dordrecht-college", D(2015, 1, 1), "wet gewijzigd", META)
    with refused(h, "MANDATOR_NOT_COMPETENT", "cited_grant"):
        h.chain_for(w.burgemeester, D(2015, 1, 1))
    assert h.chain_for(w.burgemeester, D(2014, 12, 31))[-1].grant == "m1"


def test_L5_submandate_falls_with_its_mandate(w: World):
    h = w.holding()
    mandate(h, "m1", w.college, w.burgemeester, D(2010, 1, 1), allows_submandate=True)
    mandate(h, "sm1", w.burgemeester, w.ambtenaar, D(2011, 1, 1), parent="m1")
    h.revoke_grant("m1", D(2013, 1, 1), "ingetrokken", META)
    assert h.chain_for(w.ambtenaar, D(2012, 12, 31))[-1].grant == "sm1"
    with refused(h, "MANDATOR_NOT_COMPETENT"):
        h.chain_for(w.ambtenaar, D(2013, 1, 1))


def test_L5_grant_not_yet_valid(w: World):
    h = w.holding()
    mandate(h, "m1", w.college, w.burgemeester, D(2015, 1, 1))
    with refused(h, "GRANT_NOT_YET_VALID", "cited_grant"):
        h.chain_for(w.burgemeester, D(2014, 12, 31))


# L6 — a grant rests on an adopted decision of its grantor; attributions cite the law ------------


def _not_taken(w: World) -> Decision:
    return decision("besluit-d1")


def _rejected(w: World) -> Decision:
    return take(decision("besluit-d1"), w.college, D(2013, 1, 1), "rejected")


def _annulled(w: World) -> Decision:
    d = adopted("besluit-d1", w.college, D(2013, 1, 1))
    d.annul(D(2013, 2, 1), "Raad van State", "in strijd met de wet", META)
    return d


@pytest.mark.parametrize("source", [_not_taken, _rejected, _annulled])
def test_L6_source_decision_not_adopted(w: World, source):
    h = w.holding()
    with refused(h, "SOURCE_DECISION_NOT_ADOPTED", "source_decision"):
        h.grant_delegation(
            "d1", GrantTerms(w.college, w.dsb, WGR, source(w), Interval(D(2013, 3, 1)), None, None), META
        )


def test_L6_source_decision_of_another_body(w: World):
    h = w.holding()
    by_raad = adopted("besluit-d1", w.raad, D(2013, 1, 1))
    with refused(h, "SOURCE_DECISION_OTHER_BODY", "source_decision"):
        h.grant_mandate(
            "m1",
            GrantTerms(w.college, w.burgemeester, "Awb 10:3", by_raad, Interval(D(2013, 1, 1)), None, None),
            False,
            None,
            META,
        )


def test_L6_source_decision_taken_after_the_grant_starts(w: World):
    h = w.holding()
    source = adopted("besluit-d1", w.college, D(2013, 3, 1))
    with refused(h, "SOURCE_DECISION_LATER", "source_decision"):
        h.grant_delegation(
            "d1", GrantTerms(w.college, w.dsb, WGR, source, Interval(D(2013, 2, 28)), None, None), META
        )
    h.grant_delegation(
        "d1", GrantTerms(w.college, w.dsb, WGR, source, Interval(D(2013, 3, 1)), None, None), META
    )


@pytest.mark.parametrize("basis", ["", " \t "])
def test_L6_attribution_needs_a_legal_basis(w: World, basis: str):
    h = w.holding(attributed=False)
    with refused(h, "MISSING_LEGAL_BASIS", "legal_basis"):
        h.attribute(w.college, basis, Interval(FOUNDED), None, META)


# L7 — local decisions stay local -----------------------------------------------------------------


def test_L7_regional_body_refused_on_a_local_competence_without_a_chain(w: World):
    h = w.holding()
    with refused(h, "LOCAL_COMPETENCE", "body"):
        h.chain_for(w.dsb, D(2013, 3, 5))


def test_L7_regional_body_allowed_with_a_delegation(w: World):
    h = w.holding()
    delegate(h, "d1", w.college, w.dsb, D(2013, 1, 1))
    assert kinds(h.chain_for(w.dsb, D(2013, 3, 5))) == [
        ("attribution", None, "dordrecht-college"),
        ("delegation", "d1", "dsb"),
    ]


# L8 — a commission transfers no competence -------------------------------------------------------


def test_L8_commissioned_body_is_still_not_competent(w: World):
    agenda = CompetenceHolding(
        competence="regionale-agenda",
        jurisdiction="drechtsteden",
        jurisdiction_kind="region",
        delegable=True,
        mandatable=True,
        meta=META,
    )
    agenda.attribute(
        w.drechtraad, "Gemeenschappelijke regeling Drechtsteden, art. 9", Interval(D(2006, 1, 1)), None, META
    )
    commission = Commission(
        code="opdracht-agenda",
        subject="Werk de regionale agenda uit",
        issued_by="drechtraad",
        issued_to="dsb",
        dossier=None,
        issued_on=D(2013, 1, 15),
        due_on=D(2013, 6, 1),
        binding=True,
        source_decision=None,
        meta=META,
    )
    commission.accept(D(2013, 1, 20), META)
    agenda.collect_events()
    with refused(agenda, "NOT_COMPETENT", "body"):
        agenda.chain_for(w.dsb, D(2013, 3, 5))
    assert agenda.chain_for(w.drechtraad, D(2013, 3, 5))[-1].grantee == "drechtraad"


# L9 — revocations, annulments and corrections are new events -------------------------------------


@pytest.mark.parametrize("reason", ["", "   "])
def test_L9_revocation_needs_a_reason(w: World, reason: str):
    h = w.holding()
    delegate(h, "d1", w.college, w.dsb, D(2013, 1, 1))
    with refused(h, "REASON_REQUIRED", "reason"):
        h.revoke_grant("d1", D(2014, 1, 1), reason, META)


def test_L9_grant_is_not_revoked_twice(w: World):
    h = w.holding()
    delegate(h, "d1", w.college, w.dsb, D(2013, 1, 1))
    h.revoke_grant("d1", D(2014, 1, 1), "terug naar de gemeente", META)
    with refused(h, "ALREADY_REVOKED", "grant"):
        h.revoke_grant("d1", D(2013, 6, 1), "eerder", META)


def test_L9_revocation_does_not_undercut_a_decision_already_taken(w: World):
    h = w.holding()
    delegate(h, "d1", w.college, w.dsb, D(2013, 1, 1))
    on = D(2013, 3, 5)
    h.record_exercise("b1", "dsb", on, h.chain_for(w.dsb, on), META)
    for revoked_on in (D(2013, 2, 1), on):
        with refused(h, "RELIED_ON_AFTER", "on"):
            h.revoke_grant("d1", revoked_on, "terug naar de gemeente", META)
    with refused(h, "RELIED_ON_AFTER", "on"):
        h.end_attribution("dordrecht-college", on, "wet gewijzigd", META)
    with refused(h, "REASON_REQUIRED", "reason"):
        h.end_attribution("dordrecht-college", D(2014, 1, 1), " ", META)
    h.revoke_grant("d1", on + timedelta(days=1), "terug naar de gemeente", META)


def test_L9_revocation_is_a_new_event_and_history_replays(w: World):
    h = w.holding()
    delegate(h, "d1", w.college, w.dsb, D(2013, 1, 1))
    h.revoke_grant("d1", D(2014, 1, 1), "terug naar de gemeente", META)
    events = h.collect_events()
    names = [type(e).__name__ for e in events]
    assert names == ["Opened", "Attributed", "GrantRecorded", "GrantRevoked"]
    revoked = events[-1]
    assert (revoked.grant, revoked.on, revoked.reason, revoked.meta.actor) == (
        "d1",
        D(2014, 1, 1),
        "terug naar de gemeente",
        "t",
    )
    assert events[2].valid_until is None  # the grant as recorded is untouched
    replayed = None
    for e in events:
        replayed = e.mutate(replayed)
    assert replayed.grants["d1"].revoked_on == D(2014, 1, 1)
    assert replayed.chain_for(w.dsb, D(2013, 12, 31))[-1].grant == "d1"
    assert replayed.chain_for(w.college, D(2014, 1, 1))[-1].kind == "attribution"


def test_L9_decision_is_taken_only_once(w: World):
    d = adopted("b1", w.college, D(2013, 3, 5))
    with refused(d, "ALREADY_TAKEN", "code"):
        take(d, w.college, D(2013, 3, 6), "rejected")
    with refused(d, "ALREADY_TAKEN", "code"):
        d.propose(w.raad, D(2013, 3, 6), META)


def test_L9_only_an_adopted_decision_is_published_or_annulled(w: World):
    pending = decision("b1")
    with refused(pending, "NOT_ADOPTED", "code"):
        pending.publish(D(2013, 3, 6), "Gemeenteblad 2013, 12", META)
    rejected = take(decision("b2"), w.college, D(2013, 3, 5), "rejected")
    with refused(rejected, "NOT_ADOPTED", "code"):
        rejected.annul(D(2013, 4, 1), "rechter", "onrechtmatig", META)


def test_L9_decision_is_published_once_and_not_before_it_was_taken(w: World):
    d = adopted("b1", w.college, D(2013, 3, 5))
    with refused(d, "BEFORE_DECISION", "on"):
        d.publish(D(2013, 3, 4), "Gemeenteblad 2013, 12", META)
    d.publish(D(2013, 3, 5), "Gemeenteblad 2013, 12", META)
    with refused(d, "ALREADY_PUBLISHED", "code"):
        d.publish(D(2013, 3, 6), "Gemeenteblad 2013, 13", META)
    assert d.publication == "Gemeenteblad 2013, 12"


def test_L9_decision_enters_into_force_only_after_publication(w: World):
    d = adopted("b1", w.college, D(2013, 3, 5))
    with refused(d, "NOT_PUBLISHED", "code"):
        d.enter_into_force(D(2013, 4, 1), None, META)
    d.publish(D(2013, 3, 10), "Gemeenteblad 2013, 12", META)
    d.enter_into_force(D(2013, 4, 1), None, META)
    assert d.in_force_on(D(2013, 4, 1)) and not d.in_force_on(D(2013, 3, 31))


def test_L9_decision_is_annulled_once_by_a_new_event(w: World):
    d = adopted("b1", w.college, D(2013, 3, 5))
    d.annul(D(2014, 1, 1), "Raad van State", "onbevoegd genomen", META)
    with refused(d, "ALREADY_ANNULLED", "code"):
        d.annul(D(2014, 2, 1), "rechtbank", "nogmaals", META)
    annulled = d.collect_events()[-1]
    assert (type(annulled).__name__, annulled.annulled_by, annulled.reason) == (
        "Annulled",
        "Raad van State",
        "onbevoegd genomen",
    )


def test_L9_correction_names_what_it_changes(w: World):
    d = adopted("b1", w.college, D(2013, 3, 5))
    with refused(d, "EMPTY_CORRECTION"):
        d.correct(None, None, None, "typefout", META)
    d.correct("Besluit b1 (gecorrigeerd)", None, None, "typefout in de titel", META)
    events = d.collect_events()
    assert events[0].title == "Besluit b1"  # the original record stays as it was
    assert (events[-1].title, events[-1].reason) == ("Besluit b1 (gecorrigeerd)", "typefout in de titel")
    assert d.title == "Besluit b1 (gecorrigeerd)"


# L10 — valid time is half-open -------------------------------------------------------------------


@pytest.mark.parametrize("until", [D(2013, 1, 1), D(2012, 12, 31)])
def test_L10_empty_period_is_refused(until: date):
    with pytest.raises(RuleViolation) as info:
        Interval(D(2013, 1, 1), until)
    assert (info.value.code, info.value.field) == ("EMPTY_PERIOD", "valid_until")


def test_L10_interval_is_half_open():
    period = Interval(D(2013, 1, 1), D(2014, 1, 1))
    assert [period.contains(d) for d in (D(2012, 12, 31), D(2013, 1, 1), D(2013, 12, 31), D(2014, 1, 1))] == [
        False,
        True,
        True,
        False,
    ]
    assert Interval(D(2013, 1, 1)).contains(D(2199, 12, 31))


def test_L10_grant_valid_until_D_gives_no_authority_on_D(w: World):
    h = w.holding()
    delegate(h, "d1", w.college, w.dsb, D(2013, 1, 1), D(2014, 1, 1))
    assert h.chain_for(w.dsb, D(2013, 12, 31))[-1].grant == "d1"
    with refused(h, "DELEGATION_EXPIRED", "cited_grant"):
        h.chain_for(w.dsb, D(2014, 1, 1))


def test_L10_grant_is_not_revoked_before_it_starts(w: World):
    h = w.holding()
    delegate(h, "d1", w.college, w.dsb, D(2013, 1, 1))
    with refused(h, "EMPTY_PERIOD", "on"):
        h.revoke_grant("d1", D(2012, 12, 31), "vergissing", META)


def test_L10_attribution_end_must_lie_after_its_start(w: World):
    h = w.holding(since=D(2010, 1, 1))
    with refused(h, "EMPTY_PERIOD", "valid_until"):
        h.end_attribution("dordrecht-college", D(2010, 1, 1), "wet gewijzigd", META)


def test_L10_legal_effect_is_a_third_clock(w: World):
    d = adopted("b1", w.college, D(2013, 3, 5), published=(D(2013, 3, 10), "Gemeenteblad"))
    with refused(d, "BEFORE_PUBLICATION", "on"):
        d.enter_into_force(D(2013, 3, 9), None, META)
    with refused(d, "EMPTY_PERIOD", "retroactive_from"):
        d.enter_into_force(D(2013, 4, 1), D(2013, 4, 2), META)
    d.enter_into_force(D(2013, 4, 1), D(2013, 1, 1), META)  # retroactive to the new year
    r = adopted("b2", w.college, D(2014, 6, 1))
    d.repeal(D(2015, 1, 1), r.code, "vervangen", META)
    assert [d.in_force_on(x) for x in (D(2012, 12, 31), D(2013, 1, 1), D(2014, 12, 31), D(2015, 1, 1))] == [
        False,
        True,
        True,
        False,
    ]


# L11 — a decision under a grant cites it and its publication ------------------------------------


PUBLISHED = (D(2013, 1, 20), "Staatscourant 2013, 1234")


@pytest.fixture
def delegated(w: World) -> tuple[CompetenceHolding, Decision]:
    h = w.holding()
    source = delegate(h, "d1", w.college, w.dsb, D(2013, 1, 15), published=PUBLISHED)
    return h, source


def test_L11_decision_under_delegation_must_cite_the_grant(w: World, delegated):
    h, source = delegated
    chain = h.chain_for(w.dsb, D(2013, 3, 5))
    with pytest.raises(RuleViolation) as info:
        check_grant_citation(chain, None, None, D(2013, 3, 5), lookup(source))
    assert (info.value.code, info.value.field) == ("GRANT_NOT_CITED", "cited_grant")


def test_L11_cited_grant_must_be_the_one_relied_on(w: World, delegated):
    h, source = delegated
    chain = h.chain_for(w.dsb, D(2013, 3, 5))
    with pytest.raises(RuleViolation) as info:
        check_grant_citation(chain, "d0", PUBLISHED[1], D(2013, 3, 5), lookup(source))
    assert (info.value.code, info.value.field) == ("CITED_GRANT_NOT_IN_CHAIN", "cited_grant")


def test_L11_holder_in_its_own_name_cites_no_grant(w: World, delegated):
    h, source = delegated
    chain = h.chain_for(w.college, D(2013, 1, 1))  # before the delegation
    with pytest.raises(RuleViolation) as info:
        check_grant_citation(chain, "d1", PUBLISHED[1], D(2013, 1, 1), lookup(source))
    assert (info.value.code, info.value.field) == ("CITED_GRANT_NOT_IN_CHAIN", "cited_grant")
    assert check_grant_citation(chain, None, None, D(2013, 1, 1), lookup(source)) is None


@pytest.mark.parametrize("published", [None, (D(2013, 3, 6), "Staatscourant 2013, 1234")])
def test_L11_grant_not_published_by_the_decision_date(w: World, published):
    h = w.holding()
    source = delegate(h, "d1", w.college, w.dsb, D(2013, 1, 15), published=published)
    chain = h.chain_for(w.dsb, D(2013, 3, 5))
    with pytest.raises(RuleViolation) as info:
        check_grant_citation(chain, "d1", "Staatscourant 2013, 1234", D(2013, 3, 5), lookup(source))
    assert (info.value.code, info.value.field) == ("GRANT_NOT_PUBLISHED", "cited_publication")


@pytest.mark.parametrize("cited", ["Gemeenteblad 2013, 7", None])
def test_L11_publication_mismatch(w: World, delegated, cited):
    h, source = delegated
    chain = h.chain_for(w.dsb, D(2013, 3, 5))
    with pytest.raises(RuleViolation) as info:
        check_grant_citation(chain, "d1", cited, D(2013, 3, 5), lookup(source))
    assert (info.value.code, info.value.field) == ("PUBLICATION_MISMATCH", "cited_publication")


def test_L11_a_holder_relies_on_its_own_name_not_on_a_mandate_back_to_it(w: World):
    """The college holds the competence and mandates the mayor, who sub-mandates it back to the
    college: the college still decides in its own name, so it cites nothing, and citing that
    sub-mandate is citing a grant outside its chain."""
    h = w.holding()
    m1 = mandate(h, "m1", w.college, w.burgemeester, D(2010, 1, 1), allows_submandate=True,
                 published=(D(2010, 1, 5), "Gemeenteblad 2010, 1"))
    sm1 = mandate(h, "sm1", w.burgemeester, w.college, D(2011, 1, 1), parent="m1",
                  published=(D(2011, 1, 5), "Gemeenteblad 2011, 3"))
    chain = h.chain_for(w.college, D(2013, 1, 1), relied_on="sm1")
    assert kinds(chain) == kinds(h.chain_for(w.college, D(2013, 1, 1)))
    with pytest.raises(RuleViolation) as info:
        check_grant_citation(chain, "sm1", "Gemeenteblad 2011, 3", D(2013, 1, 1), lookup(m1, sm1))
    assert info.value.code == "CITED_GRANT_NOT_IN_CHAIN"


def test_L11_correct_citation_is_accepted(w: World, delegated):
    h, source = delegated
    on = PUBLISHED[0]  # published that same day is published by then
    chain = h.chain_for(w.dsb, on)
    assert check_grant_citation(chain, "d1", PUBLISHED[1], on, lookup(source)) is None


def test_L11_submandatee_cites_its_submandate(w: World):
    h = w.holding()
    m1 = mandate(
        h,
        "m1",
        w.college,
        w.burgemeester,
        D(2010, 1, 1),
        allows_submandate=True,
        published=(D(2010, 1, 5), "Gemeenteblad 2010, 1"),
    )
    sm1 = mandate(
        h,
        "sm1",
        w.burgemeester,
        w.ambtenaar,
        D(2011, 1, 1),
        parent="m1",
        published=(D(2011, 1, 5), "Gemeenteblad 2011, 3"),
    )
    chain = h.chain_for(w.ambtenaar, D(2013, 1, 1))
    with pytest.raises(RuleViolation) as info:
        check_grant_citation(chain, "m1", "Gemeenteblad 2010, 1", D(2013, 1, 1), lookup(m1, sm1))
    assert info.value.code == "CITED_GRANT_NOT_IN_CHAIN"
    check_grant_citation(chain, "sm1", "Gemeenteblad 2011, 3", D(2013, 1, 1), lookup(m1, sm1))


# L12 — conditional competence needs a standing framework ----------------------------------------


ON = D(2013, 6, 1)


@pytest.fixture
def framed(w: World) -> list[ChainLink]:
    """The DSB decides on the regional social service only within the Drechtraad's framework."""
    h = CompetenceHolding(
        competence="sociale-dienst",
        jurisdiction="drechtsteden",
        jurisdiction_kind="region",
        delegable=True,
        mandatable=True,
        meta=META,
    )
    h.attribute(w.dsb, "GR Drechtsteden, art. 12", Interval(D(2006, 1, 1)), "drechtraad", META)
    return h.chain_for(w.dsb, ON)


def test_L12_framework_required(framed):
    with pytest.raises(RuleViolation) as info:
        check_framework(framed, None, ON, lookup())
    assert (info.value.code, info.value.field) == ("FRAMEWORK_REQUIRED", "framework_decision")


def _by_dsb(w: World) -> Decision:
    return adopted("kader", w.dsb, D(2013, 1, 1))


def _rejected_framework(w: World) -> Decision:
    return take(decision("kader"), w.drechtraad, D(2013, 1, 1), "rejected")


def _later_framework(w: World) -> Decision:
    return adopted("kader", w.drechtraad, ON.replace(day=2))


def _annulled_framework(w: World) -> Decision:
    d = adopted("kader", w.drechtraad, D(2013, 1, 1))
    d.annul(D(2013, 2, 1), "Raad van State", "vernietigd", META)
    return d


def _repealed_framework(w: World) -> Decision:
    d = adopted("kader", w.drechtraad, D(2013, 1, 1))
    d.repeal(ON, "kader-2", "vervangen door een nieuw kader", META)  # repealed on the day itself
    return d


@pytest.mark.parametrize(
    "framework", [_by_dsb, _rejected_framework, _later_framework, _annulled_framework, _repealed_framework]
)
def test_L12_framework_invalid(w: World, framed, framework):
    with pytest.raises(RuleViolation) as info:
        check_framework(framed, "kader", ON, lookup(framework(w)))
    assert (info.value.code, info.value.field) == ("FRAMEWORK_INVALID", "framework_decision")


def test_L12_unknown_framework_decision(framed):
    with pytest.raises(UnknownReference) as info:
        check_framework(framed, "kader", ON, lookup())
    assert (info.value.code, info.value.field) == ("UNKNOWN_REFERENCE", "framework_decision")


@pytest.mark.parametrize("taken_on", [D(2013, 1, 1), ON])
def test_L12_standing_framework_is_accepted(w: World, framed, taken_on):
    framework = adopted("kader", w.drechtraad, taken_on)
    assert check_framework(framed, "kader", ON, lookup(framework)) is None


def test_L12_framework_condition_on_a_delegation(w: World):
    h = w.holding()
    source = adopted("besluit-d1", w.college, D(2013, 1, 1))
    h.grant_delegation(
        "d1", GrantTerms(w.college, w.dsb, WGR, source, Interval(D(2013, 1, 1)), None, "drechtraad"), META
    )
    chain = h.chain_for(w.dsb, ON)
    with pytest.raises(RuleViolation) as info:
        check_framework(chain, None, ON, lookup())
    assert info.value.code == "FRAMEWORK_REQUIRED"
    assert check_framework(h.chain_for(w.college, D(2012, 1, 1)), None, ON, lookup()) is None


# Votes: the outcome can be recomputed -----------------------------------------------------------


def carried(rule: str, in_favour: int, against: int) -> bool:
    """Independent model: a share of the votes cast (abstentions do not count)."""
    cast = in_favour + against
    if cast == 0:
        return False
    share = Fraction(in_favour, cast)
    return {"simple": share > Fraction(1, 2), "two_thirds": share >= Fraction(2, 3), "unanimous": share == 1}[
        rule
    ]


def verdict(votes: Votes, outcome: str) -> str | None:
    try:
        check_votes_support_outcome(votes, outcome)  # type: ignore[arg-type]
    except RuleViolation as error:
        return error.code
    return None


def test_votes_contradicting_the_outcome_are_refused(w: World):
    d = decision("b1")
    votes = Votes(votes_for=10, votes_against=20, abstentions=2)
    with refused(d, "VOTES_CONTRADICT_OUTCOME", "outcome"):
        take(d, w.raad, D(2013, 3, 5), "adopted", votes=votes)
    take(d, w.raad, D(2013, 3, 5), "rejected", votes=votes)
    assert d.outcome == "rejected"


def test_votes_inconsistent_with_member_votes_are_refused(w: World):
    d = decision("b1")
    members = (MemberVote("a", "for"), MemberVote("b", "for"), MemberVote("c", "against"))
    with refused(d, "VOTES_INCONSISTENT", "votes"):
        take(d, w.raad, D(2013, 3, 5), "adopted", votes=Votes(votes_for=3, members=members))
    with refused(d, "VOTES_INCONSISTENT", "votes"):
        take(d, w.raad, D(2013, 3, 5), "adopted", votes=Votes(abstentions=1, members=members))
    take(d, w.raad, D(2013, 3, 5), "adopted", votes=Votes(votes_for=2, members=members))


def test_votes_a_member_voting_twice_is_inconsistent():
    votes = Votes(members=(MemberVote("vvd-dordrecht", "for"), MemberVote("vvd-dordrecht", "for")))
    assert verdict(votes, "adopted") == "VOTES_INCONSISTENT"


def test_votes_more_cast_than_present_are_inconsistent():
    votes = Votes(votes_for=20, votes_against=15, abstentions=0, present=30)
    assert verdict(votes, "adopted") == "VOTES_INCONSISTENT"
    assert verdict(Votes(votes_for=20, votes_against=10, present=30), "adopted") is None


@pytest.mark.parametrize(
    "votes",
    [Votes(), Votes(votes_for=3), Votes(votes_against=30), Votes(majority_rule="unanimous", abstentions=4)],
)
@pytest.mark.parametrize("outcome", ["adopted", "rejected"])
def test_votes_unknown_counts_leave_the_outcome_as_recorded(votes: Votes, outcome: str):
    assert verdict(votes, outcome) is None


@pytest.mark.parametrize(
    ("rule", "in_favour", "against", "adopted"),
    [
        ("simple", 16, 15, True),
        ("simple", 15, 15, False),
        ("two_thirds", 20, 10, True),
        ("two_thirds", 19, 10, False),
        ("unanimous", 30, 0, True),
        ("unanimous", 30, 1, False),
        ("unanimous", 0, 0, False),
    ],
)
def test_votes_majority_rule_examples(rule, in_favour, against, adopted):
    votes = Votes(majority_rule=rule, votes_for=in_favour, votes_against=against, abstentions=5)
    assert verdict(votes, "adopted" if adopted else "rejected") is None
    assert verdict(votes, "rejected" if adopted else "adopted") == "VOTES_CONTRADICT_OUTCOME"


RULES = st.sampled_from(["simple", "two_thirds", "unanimous"])


@settings(max_examples=300, deadline=None)
@given(
    rule=RULES,
    in_favour=st.integers(0, 150),
    against=st.integers(0, 150),
    abstentions=st.none() | st.integers(0, 20),
)
def test_votes_majority_arithmetic(rule, in_favour, against, abstentions):
    votes = Votes(majority_rule=rule, votes_for=in_favour, votes_against=against, abstentions=abstentions)
    expected = "adopted" if carried(rule, in_favour, against) else "rejected"
    other = "rejected" if expected == "adopted" else "adopted"
    assert verdict(votes, expected) is None
    assert verdict(votes, other) == "VOTES_CONTRADICT_OUTCOME"


MEMBERS = st.lists(
    st.builds(
        MemberVote,
        member=st.sampled_from(
            [
                f"{party}-{town}"
                for party in ("vvd", "pvda", "cda", "sp", "d66")
                for town in ("dordrecht", "sliedrecht")
            ]
        ),
        vote=st.sampled_from(["for", "against", "abstain"]),
        weight=st.integers(1, 12),
    ),
    min_size=1,
    max_size=10,
    unique_by=lambda vote: vote.member,
)


@settings(max_examples=300, deadline=None)
@given(rule=RULES, members=MEMBERS, give_counts=st.booleans(), skew=st.integers(1, 3))
def test_votes_member_weights(rule, members, give_counts, skew):
    tally = {side: sum(m.weight for m in members if m.vote == side) for side in ("for", "against", "abstain")}
    expected = "adopted" if carried(rule, tally["for"], tally["against"]) else "rejected"
    counts = (
        dict(votes_for=tally["for"], votes_against=tally["against"], abstentions=tally["abstain"])
        if give_counts
        else {}
    )
    votes = Votes(majority_rule=rule, members=tuple(members), **counts)
    assert verdict(votes, expected) is None
    miscounted = Votes(majority_rule=rule, members=tuple(members), votes_for=tally["for"] + skew)
    assert verdict(miscounted, expected) == "VOTES_INCONSISTENT"


# Commissions ------------------------------------------------------------------------------------


def commission() -> Commission:
    return Commission(
        code="opdracht-1",
        subject="Werk voorstellen uit",
        issued_by="drechtraad",
        issued_to="dsb",
        dossier=None,
        issued_on=D(2013, 1, 15),
        due_on=D(2013, 6, 1),
        binding=False,
        source_decision=None,
        meta=META,
    )


@pytest.mark.parametrize(
    ("before", "action"),
    [
        (["accept"], "accept"),
        (["withdraw"], "accept"),
        (["fulfil"], "fulfil"),
        (["accept", "fulfil"], "report"),
        (["withdraw"], "withdraw"),
    ],
)
def test_commission_invalid_transition(before: list[str], action: str):
    steps = {
        "accept": lambda x: x.accept(D(2013, 2, 1), META),
        "report": lambda x: x.report_progress(D(2013, 2, 1), "halverwege", META),
        "fulfil": lambda x: x.fulfil(D(2013, 2, 1), None, META),
        "withdraw": lambda x: x.withdraw(D(2013, 2, 1), "niet meer nodig", META),
    }
    x = commission()
    for step in before:
        steps[step](x)
    with refused(x, "INVALID_TRANSITION", "code"):
        steps[action](x)


def test_commission_before_issue():
    x = commission()
    with refused(x, "BEFORE_ISSUE", "on"):
        x.accept(D(2013, 1, 14), META)


def test_commission_lifecycle_accepted():
    x = commission()
    x.accept(D(2013, 1, 15), META)
    x.report_progress(D(2013, 3, 1), "eerste voorstellen", META)
    x.report_progress(D(2013, 4, 1), "tweede ronde", META)
    x.fulfil(D(2013, 5, 30), "besluit-agenda", META)
    assert (x.status, x.progress_reports) == ("fulfilled", 2)


# Consultations ----------------------------------------------------------------------------------


def consultation() -> Consultation:
    return Consultation(
        code="begroting-2014",
        subject="Begroting 2014",
        opened_by="drechtraad",
        draft_decision=None,
        consulted=["dordrecht-raad", "zwijndrecht-raad"],
        opened_on=D(2013, 4, 1),
        respond_by=D(2013, 6, 1),
        meta=META,
    )


def test_consultation_view_only_from_a_consulted_council():
    x = consultation()
    with refused(x, "NOT_CONSULTED", "council"):
        x.submit_view("papendrecht-raad", D(2013, 5, 1), "positief", None, META)


def test_consultation_closed_takes_no_more_views():
    x = consultation()
    x.close(D(2013, 6, 15), META)
    with refused(x, "CONSULTATION_CLOSED", "code"):
        x.submit_view("dordrecht-raad", D(2013, 6, 20), "te laat", None, META)
    with refused(x, "CONSULTATION_CLOSED", "code"):
        x.close(D(2013, 6, 16), META)


def test_consultation_view_given_once_and_not_before_opening():
    x = consultation()
    with refused(x, "BEFORE_OPENING", "on"):
        x.submit_view("dordrecht-raad", D(2013, 3, 31), "vroeg", None, META)
    x.submit_view("dordrecht-raad", D(2013, 5, 1), "positief", None, META)
    with refused(x, "ALREADY_RECORDED", "council"):
        x.submit_view("dordrecht-raad", D(2013, 5, 2), "toch anders", None, META)


def test_consultation_late_views_are_recorded_and_flagged():
    x = consultation()
    x.collect_events()
    x.submit_view("dordrecht-raad", D(2013, 6, 1), "positief", None, META)  # on the deadline
    x.submit_view("zwijndrecht-raad", D(2013, 6, 2), "kritisch", None, META)
    on_time, late = x.collect_events()
    assert (on_time.council, on_time.late) == ("dordrecht-raad", False)
    assert (late.council, late.late) == ("zwijndrecht-raad", True)


def test_consultation_views_received_by_date():
    x = consultation()
    x.submit_view("dordrecht-raad", D(2013, 5, 1), "positief", None, META)
    x.submit_view("zwijndrecht-raad", D(2013, 6, 10), "kritisch", None, META)
    assert x.views_received_by(D(2013, 4, 30)) == []
    assert x.views_received_by(D(2013, 5, 1)) == ["dordrecht-raad"]
    assert x.views_received_by(D(2013, 6, 10)) == ["dordrecht-raad", "zwijndrecht-raad"]
    x.close(D(2013, 6, 5), META)
    assert x.collect_events()[-1].views_received == ["dordrecht-raad"]


# Jurisdictions: regions and their members --------------------------------------------------------


def jurisdiction(code: str, kind: str) -> Jurisdiction:
    return Jurisdiction(code=code, name=code.title(), kind=kind, meta=META)


def test_jurisdiction_only_a_region_has_members():
    dordrecht, zwijndrecht = (
        jurisdiction("dordrecht", "municipality"),
        jurisdiction("zwijndrecht", "municipality"),
    )
    with refused(dordrecht, "NOT_A_REGION", "region"):
        dordrecht.admit_member(zwijndrecht, D(2013, 1, 1), META)
    with refused(dordrecht, "NOT_A_REGION", "region"):
        dordrecht.release_member("zwijndrecht", D(2013, 1, 1), META)


def test_jurisdiction_member_must_be_a_municipality():
    region = jurisdiction("drechtsteden", "region")
    with refused(region, "MEMBER_NOT_A_MUNICIPALITY", "member"):
        region.admit_member(jurisdiction("zuid-holland", "province"), D(2013, 1, 1), META)


def test_jurisdiction_membership_over_time():
    region, dordrecht = jurisdiction("drechtsteden", "region"), jurisdiction("dordrecht", "municipality")
    with refused(region, "NOT_A_MEMBER", "member"):
        region.release_member("dordrecht", D(2013, 1, 1), META)
    region.admit_member(dordrecht, D(2006, 1, 1), META)
    with refused(region, "ALREADY_MEMBER", "member"):
        region.admit_member(dordrecht, D(2010, 1, 1), META)
    with refused(region, "EMPTY_PERIOD"):
        region.release_member("dordrecht", D(2006, 1, 1), META)
    region.release_member("dordrecht", D(2015, 1, 1), META)
    with refused(region, "ALREADY_MEMBER", "member"):
        region.admit_member(dordrecht, D(2014, 1, 1), META)  # would overlap the past term
    region.admit_member(dordrecht, D(2016, 1, 1), META)
    assert [region.members_on(d) for d in (D(2005, 12, 31), D(2006, 1, 1), D(2015, 1, 1), D(2016, 1, 1))] == [
        [],
        ["dordrecht"],
        [],
        ["dordrecht"],
    ]


# Bodies: seats and names over time ---------------------------------------------------------------


def test_body_seat_occupied_and_vacant():
    dsb = body("dsb", "regional_board")
    with refused(dsb, "SEAT_VACANT", "seat"):
        dsb.vacate_seat("voorzitter", D(2013, 1, 1), "vertrek", META)
    dsb.fill_seat("voorzitter", "A. Brok", None, D(2010, 1, 1), META)
    with refused(dsb, "SEAT_OCCUPIED", "seat"):
        dsb.fill_seat("voorzitter", "B. Jansen", None, D(2013, 1, 1), META)
    dsb.vacate_seat("voorzitter", D(2013, 1, 1), "benoemd elders", META)
    dsb.fill_seat("voorzitter", "B. Jansen", None, D(2013, 1, 1), META)
    assert dsb.holders_on(D(2012, 12, 31)) == {"voorzitter": "A. Brok"}
    assert dsb.holders_on(D(2013, 1, 1)) == {"voorzitter": "B. Jansen"}


def test_body_renaming_keeps_history():
    b = body("drechtraad", "regional_council", name="Drechtraad", established_on=D(2006, 1, 1))
    b.rename("Raad Drechtsteden", D(2016, 1, 1), META)
    assert (b.name_on(D(2015, 12, 31)), b.name_on(D(2016, 1, 1))) == ("Drechtraad", "Raad Drechtsteden")
    with refused(b, "OUT_OF_ORDER", "on"):
        b.rename("Tussennaam", D(2010, 1, 1), META)
    assert b.name == "Raad Drechtsteden"


# Command input validation --------------------------------------------------------------------------


VALID_SHA = "a" * 64
BASE: dict[str, dict[str, Any]] = {
    "admit": {"region": "drechtsteden", "member": "dordrecht", "on": "2013-02-28"},
    "grant": {
        "competence": "wmo",
        "jurisdiction": "dordrecht",
        "code": "d1",
        "grantor": "dordrecht-college",
        "grantee": "dsb",
        "legal_basis": WGR,
        "source_decision": "besluit-1",
        "valid_from": "2013-01-01",
    },
    "view": {
        "consultation": "begroting-2014",
        "council": "dordrecht-raad",
        "on": "2013-05-01",
        "position": "positief",
        "document": {"title": "Zienswijze", "address": "https://example.org/z.pdf", "sha256": VALID_SHA},
    },
    "annul": {"decision": "b1", "on": "2014-01-01", "annulled_by": "Raad van State", "reason": "onbevoegd"},
}
COMMAND = {"admit": c.AdmitMember, "grant": c.GrantDelegation, "view": c.SubmitView, "annul": c.AnnulDecision}


def test_commands_accept_valid_input():
    for key, data in BASE.items():
        COMMAND[key].model_validate(data)
    assert c.AdmitMember.model_validate(BASE["admit"]).on == D(2013, 2, 28)


def _with(key: str, **change: Any) -> tuple[str, dict[str, Any]]:
    data = dict(BASE[key])
    for name, value in change.items():
        if name == "sha256":
            data["document"] = {**data["document"], "sha256": value}
        else:
            data[name] = value
    return key, data


@pytest.mark.parametrize(
    ("key", "data"),
    [
        _with("admit", on="2013-02-30"),  # impossible date
        _with("admit", on="1799-12-31"),  # out of range
        _with("admit", on="2200-01-01"),
        _with("admit", on="13-02-2013"),
        _with("admit", member="Dordrecht"),  # codes: lowercase, no spaces, no injection
        _with("admit", member="dordrecht raad"),
        _with("admit", member="x'; DROP TABLE events; --"),
        _with("admit", member="dordrecht\n"),
        _with("admit", member=""),
        _with("admit", member="a" * 121),
        _with("admit", unexpected="x"),  # extra fields are refused
        _with("grant", valid_until="2013-01-01"),  # empty period
        _with("grant", bogus=True),
        _with("grant", legal_basis="   "),
        _with("view", sha256="A" * 64),  # bad sha256
        _with("view", sha256="a" * 63),
        _with("view", sha256="g" * 64),
        _with("annul", reason="  "),  # L9: an annulment states its reason
    ],
)
def test_commands_reject_malformed_input(key: str, data: dict[str, Any]):
    with pytest.raises(ValidationError):
        COMMAND[key].model_validate(data)
