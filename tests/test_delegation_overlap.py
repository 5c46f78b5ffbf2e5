"""L3: a holder delegates a subject to one body at a time. A delegation transfers the competence,
so a second delegation of a subject already delegated, for days in common, is refused
(ALREADY_DELEGATED); delegations of disjoint subjects or periods stand side by side, mandates may
overlap (they transfer nothing), and a revoked delegation stops blocking from its revocation on.
A delegation without a scope covers every subject, so it shares a subject with any other."""

from __future__ import annotations

from datetime import date

import pytest
from domain_builders import META, World, delegate, mandate, refused, world

D = date


@pytest.fixture
def w() -> World:
    return world()


@pytest.mark.parametrize(("standing", "new"), [
    (None, None),
    (("jeugdhulp",), None),
    (None, ("jeugdhulp",)),
    (("jeugdhulp", "wmo-vervoer"), ("wmo-vervoer",)),
])
def test_overlapping_delegation_of_a_shared_subject_is_refused(
    w: World, standing: tuple[str, ...] | None, new: tuple[str, ...] | None
) -> None:
    h = w.holding()
    delegate(h, "d1", w.college, w.dsb, D(2015, 1, 1), scope=standing)
    h.collect_events()
    # starting earlier, so that the college still holds the competence on the first day
    with refused(h, "ALREADY_DELEGATED", "valid_from") as info:
        delegate(h, "d2", w.college, w.drechtraad, D(2013, 1, 1), scope=new)
    assert "d1" in info.value.message and "Awb 10:13" in info.value.message


def test_delegations_of_disjoint_subjects_are_allowed(w: World) -> None:
    h = w.holding()
    delegate(h, "d1", w.college, w.dsb, D(2013, 1, 1), scope=("jeugdhulp",))
    delegate(h, "d2", w.college, w.drechtraad, D(2013, 1, 1), scope=("wmo-vervoer",))
    assert h.chain_for(w.dsb, D(2014, 1, 1), "jeugdhulp")[-1].grant == "d1"
    assert h.chain_for(w.drechtraad, D(2014, 1, 1), "wmo-vervoer")[-1].grant == "d2"


def test_delegations_of_disjoint_periods_are_allowed(w: World) -> None:
    h = w.holding()
    delegate(h, "d1", w.college, w.dsb, D(2013, 1, 1), D(2015, 1, 1))
    delegate(h, "d2", w.college, w.drechtraad, D(2015, 1, 1))  # from the day d1 ends
    delegate(h, "d0", w.college, w.drechtraad, D(2010, 1, 1), D(2013, 1, 1))  # up to d1
    assert h.chain_for(w.drechtraad, D(2012, 12, 31))[-1].grant == "d0"
    assert h.chain_for(w.dsb, D(2014, 12, 31))[-1].grant == "d1"
    assert h.chain_for(w.drechtraad, D(2015, 1, 1))[-1].grant == "d2"


def test_overlapping_mandates_are_allowed(w: World) -> None:
    h = w.holding()
    mandate(h, "m1", w.college, w.ambtenaar, D(2013, 1, 1))
    mandate(h, "m2", w.college, w.burgemeester, D(2013, 1, 1))
    exercisers = {body for body, _ in h.exercisers_on(D(2014, 1, 1))}
    assert {w.ambtenaar.code, w.burgemeester.code} <= exercisers


def test_a_revoked_delegation_blocks_no_longer_from_its_revocation(w: World) -> None:
    h = w.holding()
    delegate(h, "d1", w.college, w.dsb, D(2013, 1, 1), scope=("jeugdhulp",))
    h.revoke_grant("d1", D(2016, 1, 1), "taak terug naar de gemeente", META)
    h.collect_events()
    with refused(h, "ALREADY_DELEGATED"):
        delegate(h, "d2", w.college, w.drechtraad, D(2015, 12, 1))
    delegate(h, "d2", w.college, w.drechtraad, D(2016, 1, 1))
    assert h.chain_for(w.drechtraad, D(2016, 1, 1), "jeugdhulp")[-1].grant == "d2"
