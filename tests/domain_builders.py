"""Small builders for in-memory domain aggregates (no database, no application service).

The world they build is a slice of the Drechtsteden story: the municipality of Dordrecht with its
council, executive, mayor and an official, and the region Drechtsteden with the Drechtraad and the
Drechtsteden Bestuur (DSB)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from eventsourcing.domain import Aggregate

from ledger.domain.body import Body
from ledger.domain.competence import CompetenceHolding, GrantTerms
from ledger.domain.decision import Decision
from ledger.errors import LedgerError
from ledger.values import Interval, Meta

META = Meta(recorded_at=datetime(2024, 1, 1, tzinfo=UTC), actor="t", command_id="c", correlation_id="c")

FOUNDED = date(2000, 1, 1)
LAW = "Wet maatschappelijke ondersteuning 2015, art. 2.1.1"
WGR = "Wet gemeenschappelijke regelingen, art. 30"

_ANY = object()


@contextmanager
def refused(
    aggregate: Aggregate, code: str, field: str | None | object = _ANY
) -> Iterator[pytest.ExceptionInfo[LedgerError]]:
    """The block raises a ledger error with `code` (and `field`), and `aggregate` records nothing."""
    version, pending = aggregate.version, list(aggregate.pending_events)
    with pytest.raises(LedgerError) as info:
        yield info
    assert info.value.code == code, f"{info.value.code}: {info.value.message}"
    if field is not _ANY:
        assert info.value.field == field, info.value.message
    assert aggregate.version == version
    assert aggregate.pending_events == pending


def body(
    code: str,
    kind: str = "council",
    *,
    jurisdiction: str = "dordrecht",
    jurisdiction_kind: str = "municipality",
    established_on: date = FOUNDED,
    subordinate_to: str | None = None,
    name: str | None = None,
) -> Body:
    return Body(
        code=code,
        name=name or code.replace("-", " ").title(),
        kind=kind,
        jurisdiction=jurisdiction,
        jurisdiction_kind=jurisdiction_kind,
        established_on=established_on,
        subordinate_to=subordinate_to,
        meta=META,
    )


def decision(
    code: str, *, competence: str = "wmo", jurisdiction: str = "dordrecht", subject: str | None = None
) -> Decision:
    return Decision(
        code=code,
        title=f"Besluit {code}",
        summary=None,
        competence=competence,
        jurisdiction=jurisdiction,
        subject=subject,
        dossier=None,
        affected_jurisdictions=[jurisdiction],
        addressee=None,
        meta=META,
    )


def take(d: Decision, by: Body, on: date, outcome: str = "adopted", **kwargs: object) -> Decision:
    args: dict[str, object] = dict(
        votes=None,
        chain=[],
        cited_grant=None,
        cited_publication=None,
        framework_decision=None,
        consultation=None,
        views_received=[],
        documents=[],
    )
    args.update(kwargs)
    d.take(by, on, outcome, meta=META, **args)  # type: ignore[arg-type]
    return d


def adopted(code: str, by: Body, on: date, *, published: tuple[date, str] | None = None) -> Decision:
    """A decision of `by` taken (adopted) on `on`, published on the given date and place."""
    d = take(decision(code), by, on)
    if published is not None:
        d.publish(published[0], published[1], META)
    return d


@dataclass
class World:
    raad: Body
    college: Body
    burgemeester: Body
    ambtenaar: Body
    drechtraad: Body
    dsb: Body

    def holding(
        self,
        *,
        delegable: bool = True,
        mandatable: bool = True,
        holder: Body | None = None,
        since: date = FOUNDED,
        framework_body: str | None = None,
        attributed: bool = True,
    ) -> CompetenceHolding:
        """'wmo' for Dordrecht, attributed by law to the executive (or `holder`) from `since`."""
        h = CompetenceHolding(
            competence="wmo",
            jurisdiction="dordrecht",
            jurisdiction_kind="municipality",
            delegable=delegable,
            mandatable=mandatable,
            meta=META,
        )
        if attributed:
            h.attribute(holder or self.college, LAW, Interval(since), framework_body, META)
        return h


def world() -> World:
    return World(
        raad=body("dordrecht-raad", "council"),
        college=body("dordrecht-college", "executive"),
        burgemeester=body("dordrecht-burgemeester", "officeholder"),
        ambtenaar=body("dordrecht-ambtenaar", "official", subordinate_to="dordrecht-college"),
        drechtraad=body(
            "drechtraad", "regional_council", jurisdiction="drechtsteden", jurisdiction_kind="region"
        ),
        dsb=body("dsb", "regional_board", jurisdiction="drechtsteden", jurisdiction_kind="region"),
    )


def delegate(
    h: CompetenceHolding,
    code: str,
    grantor: Body,
    grantee: Body,
    since: date,
    until: date | None = None,
    *,
    scope: tuple[str, ...] | None = None,
    framework_body: str | None = None,
    published: tuple[date, str] | None = None,
) -> Decision:
    """Record a delegation resting on a fresh adopted decision of the grantor; returns it."""
    source = adopted(f"besluit-{code}", grantor, since, published=published)
    h.grant_delegation(
        code, GrantTerms(grantor, grantee, WGR, source, Interval(since, until), scope, framework_body), META
    )
    return source


def mandate(
    h: CompetenceHolding,
    code: str,
    grantor: Body,
    grantee: Body,
    since: date,
    until: date | None = None,
    *,
    scope: tuple[str, ...] | None = None,
    allows_submandate: bool = False,
    parent: str | None = None,
    published: tuple[date, str] | None = None,
) -> Decision:
    """Record a mandate (or, with `parent`, a sub-mandate) on a fresh adopted decision."""
    source = adopted(f"besluit-{code}", grantor, since, published=published)
    h.grant_mandate(
        code,
        GrantTerms(grantor, grantee, "Awb 10:3", source, Interval(since, until), scope, None),
        allows_submandate,
        parent,
        META,
    )
    return source
