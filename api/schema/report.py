"""The accountability report (verantwoordingsrapportage) in the API: the field
`accountabilityReport(jurisdiction, from, to)` and its types, the report's JSON form
(projections/report/model.py) as GraphQL objects. The public gets the public edition; auditors
and admins everything, and the report's `view` says which."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import strawberry

from api.schema.arguments import KnownAt
from api.schema.context import ContextInfo, Moment
from api.schema.types import ChainLink
from projections.report import model


@strawberry.type(description="The period a report covers, both days included.")
class ReportPeriod:
    start: date = strawberry.field(description="The first day.")
    end: date = strawberry.field(description="The last day.")


@strawberry.type(description="A region (gemeenschappelijke regeling) the municipality was a "
                             "member of during the period.")
class ReportMembership:
    region: str = strawberry.field(description="The region's code.")
    joined_on: date = strawberry.field(description="The day it joined.")
    left_on: date | None = strawberry.field(description="The day it left; none if still a member.")


@strawberry.type(description="What a council member reads in one minute.")
class ReportSummary:
    regional_decisions: int = strawberry.field(
        description="Decisions of the regions that concerned the municipality.")
    local_decisions: int = strawberry.field(
        description="Decisions on the municipality's own (local) competences.")
    competences: list[str] = strawberry.field(
        description="The competences the regional decisions were taken under.")
    annulled: int = strawberry.field(description="Decisions annulled (vernietigd).")
    repealed: int = strawberry.field(description="Decisions repealed (ingetrokken).")
    corrected: int = strawberry.field(description="Decisions corrected.")
    flagged: int = strawberry.field(
        description="Decisions whose chain does not hold, or whose verdict differs under later "
                    "knowledge.")
    commissions_open: int = strawberry.field(description="Commissions open, overdue included.")
    commissions_overdue: int = strawberry.field(description="Commissions past their due date.")
    consultations_awaiting: int = strawberry.field(
        description="Consultations (zienswijzen) of the period without the council's view.")


@strawberry.type(description="A later step that undid a decision: an annulment or a repeal.")
class ReportUndoing:
    on: date | None = strawberry.field(description="The day it took effect.")
    by: str | None = strawberry.field(description="Who annulled or repealed it.")
    reason: str | None = strawberry.field(description="Why.")


@strawberry.type(description="A correction of a decision's text.")
class ReportCorrection:
    position: int = strawberry.field(description="The ledger position that recorded it.")
    reason: str = strawberry.field(description="Why it was corrected.")


@strawberry.type(description="A decision (besluit) in the report, with the chain of grants "
                             "that made its body competent.")
class ReportDecision:
    code: str = strawberry.field(description="The decision's code.")
    title: str = strawberry.field(description="Its title, as known at the report's position.")
    body: str = strawberry.field(description="The body that took it.")
    jurisdiction: str = strawberry.field(description="The jurisdiction it was taken for.")
    taken_on: date = strawberry.field(description="The day it was taken.")
    competence: str = strawberry.field(description="The competence (bevoegdheid) it exercised.")
    outcome: str = strawberry.field(description="adopted or rejected.")
    status: str = strawberry.field(
        description="Its status on the period's last day, as known at the report's position.")
    capacity: str = strawberry.field(
        description="How the body held the competence: attribution, delegation, mandate or "
                    "submandate (the chain's last link).")
    legal_basis: str | None = strawberry.field(description="The legal basis of the attribution.")
    chain: list[ChainLink] = strawberry.field(description="From the attribution to the body.")
    position: int = strawberry.field(
        description="The ledger position of the event recording it as taken: check it with an "
                    "inclusion proof.")
    published: bool = strawberry.field(description="Whether it was published (bekendgemaakt).")
    annulled: ReportUndoing | None = strawberry.field(description="Its annulment, if any.")
    repealed: ReportUndoing | None = strawberry.field(description="Its repeal, if any.")
    corrections: list[ReportCorrection] = strawberry.field(description="Its corrections.")
    legitimate: bool | None = strawberry.field(
        description="Whether a chain reached its body on its date, as known then.")
    verdict_explanation: str | None = strawberry.field(description="Why, if not.")
    verdict_differs_later: bool = strawberry.field(
        description="Whether a verdict recorded later says otherwise.")


@strawberry.type(description="A grant (delegation, mandate, sub-mandate) that moved in the "
                             "period or expires soon after.")
class ReportGrant:
    code: str = strawberry.field(description="The grant's code.")
    kind: str = strawberry.field(description="delegation, mandate or submandate.")
    competence: str = strawberry.field(description="The competence granted.")
    jurisdiction: str = strawberry.field(description="The jurisdiction it is held for.")
    grantor: str = strawberry.field(description="The body that granted it.")
    grantee: str = strawberry.field(description="The body that received it.")
    legal_basis: str = strawberry.field(description="Its legal basis.")
    valid_from: date = strawberry.field(description="First day of validity.")
    valid_until: date | None = strawberry.field(description="First day no longer valid.")
    revoked_on: date | None = strawberry.field(description="The day it was revoked, if it was.")
    revocation_reason: str | None = strawberry.field(description="Why it was revoked.")
    events: list[str] = strawberry.field(
        description="What happened to it: started, ended, revoked, expiring (within 90 days "
                    "after the period).")


@strawberry.type(description="A commission (opdracht) given by or to the council's bodies or "
                             "those of its regions.")
class ReportCommission:
    code: str = strawberry.field(description="The commission's code.")
    subject: str = strawberry.field(description="What was asked.")
    issued_by: str = strawberry.field(description="The body that gave it.")
    issued_to: str = strawberry.field(description="The body that received it.")
    issued_on: date = strawberry.field(description="The day it was given.")
    due_on: date | None = strawberry.field(description="When it is due.")
    binding: bool = strawberry.field(description="Whether it binds the receiver.")
    state: str = strawberry.field(
        description="open, overdue, fulfilled or withdrawn on the period's last day.")
    progress_reports: int = strawberry.field(description="Progress reports received by then.")
    fulfilled_by_decision: str | None = strawberry.field(
        description="The decision that fulfilled it.")
    withdrawal_reason: str | None = strawberry.field(description="Why it was withdrawn.")
    position: int = strawberry.field(description="The ledger position that recorded it.")


@strawberry.type(description="A consultation (zienswijze) asking the council's view.")
class ReportConsultation:
    code: str = strawberry.field(description="The consultation's code.")
    subject: str = strawberry.field(description="What the view was asked on.")
    opened_by: str = strawberry.field(description="The body that asked.")
    opened_on: date = strawberry.field(description="The day it was opened.")
    respond_by: date = strawberry.field(description="The deadline.")
    council: str = strawberry.field(description="The council asked.")
    view_given_on: date | None = strawberry.field(description="When the council gave its view.")
    in_time: bool | None = strawberry.field(
        description="Whether the view came by the deadline; none if no view was given.")
    stance: str | None = strawberry.field(description="The view itself.")
    draft_decision: str | None = strawberry.field(description="The draft decision consulted on.")
    considered_by: str | None = strawberry.field(
        description="The decision that names the council's view as received.")
    position: int = strawberry.field(description="The ledger position that recorded it.")


@strawberry.type(description="One cell of the competence matrix: a competence exercised by a "
                             "body in one capacity.")
class ReportMatrixCell:
    competence: str = strawberry.field(description="The competence.")
    body: str = strawberry.field(description="The body that exercised it.")
    capacity: str = strawberry.field(description="attribution, delegation, mandate or submandate.")
    decisions: int = strawberry.field(description="How many decisions of the period.")


@strawberry.type(description="Decisions taken in one month of the period.")
class ReportMonth:
    month: str = strawberry.field(description="The month, YYYY-MM.")
    local: int = strawberry.field(description="Decisions on local competences.")
    regional: int = strawberry.field(description="Regional decisions.")


@strawberry.type(description="How many commissions were in one state.")
class ReportStateCount:
    state: str = strawberry.field(description="open, overdue, fulfilled or withdrawn.")
    commissions: int = strawberry.field(description="How many.")


@strawberry.type(description="A code the report mentions and its name.")
class ReportName:
    code: str = strawberry.field(description="A body's, competence's or jurisdiction's code.")
    name: str = strawberry.field(description="Its name.")


@strawberry.type(description="Where to check the report against the ledger.")
class ReportVerification:
    position: int = strawberry.field(
        description="The ledger position the report was cut at: everything known then.")
    checkpoint_size: int | None = strawberry.field(
        description="The tree size of the latest signed checkpoint within the position.")
    checkpoint_root_hash: str | None = strawberry.field(description="Its root hash, base64.")
    checkpoint_note: str | None = strawberry.field(description="The signed checkpoint itself.")
    chain_head: str | None = strawberry.field(
        description="The hash chain's head at the position, hex.")


@strawberry.type(description="The accountability report (verantwoordingsrapportage) to a "
                             "municipality's council for one period.")
class AccountabilityReport:
    jurisdiction: str = strawberry.field(description="The municipality's code.")
    jurisdiction_name: str = strawberry.field(description="The municipality's name.")
    period: ReportPeriod = strawberry.field(description="The period covered.")
    issued_on: date = strawberry.field(description="The date of issue.")
    view: str = strawberry.field(
        description="public (published decisions only) or auditor (everything).")
    memberships: list[ReportMembership] = strawberry.field(
        description="The regions it was a member of during the period.")
    summary: ReportSummary = strawberry.field(description="The summary.")
    regional_decisions: list[ReportDecision] = strawberry.field(
        description="Regional decisions taken while it was a member.")
    local_decisions: list[ReportDecision] = strawberry.field(
        description="Decisions on its own competences, and who took them.")
    grants: list[ReportGrant] = strawberry.field(
        description="Grants that started, ended, were revoked, or expire within 90 days after.")
    commissions: list[ReportCommission] = strawberry.field(description="Commissions.")
    consultations: list[ReportConsultation] = strawberry.field(
        description="Consultations of the council.")
    competence_matrix: list[ReportMatrixCell] = strawberry.field(
        description="Who exercised which competence, and how.")
    timeline: list[ReportMonth] = strawberry.field(description="Decisions per month.")
    commissions_by_state: list[ReportStateCount] = strawberry.field(
        description="Commissions by state.")
    names: list[ReportName] = strawberry.field(description="The names of the codes mentioned.")
    verification: ReportVerification | None = strawberry.field(
        description="Where to check it against the ledger.")

    @staticmethod
    def of(report: model.Report, known_at: int | None) -> AccountabilityReport:
        return AccountabilityReport(
            jurisdiction=report.jurisdiction, jurisdiction_name=report.jurisdiction_name,
            period=ReportPeriod(start=report.period.start, end=report.period.end),
            issued_on=report.issued_on, view=report.view,
            memberships=[ReportMembership(region=m.region, joined_on=m.joined_on,
                                          left_on=m.left_on) for m in report.memberships],
            summary=ReportSummary(**vars(report.summary)),
            regional_decisions=[_decision(d, known_at) for d in report.regional_decisions],
            local_decisions=[_decision(d, known_at) for d in report.local_decisions],
            grants=[ReportGrant(**vars(g)) for g in report.grants],
            commissions=[ReportCommission(**vars(c)) for c in report.commissions],
            consultations=[ReportConsultation(**vars(c)) for c in report.consultations],
            competence_matrix=[ReportMatrixCell(**vars(c)) for c in report.competence_matrix],
            timeline=[ReportMonth(**month) for month in report.timeline],
            commissions_by_state=[ReportStateCount(state=s, commissions=n)
                                  for s, n in sorted(report.commissions_by_state.items())],
            names=[ReportName(code=c, name=n) for c, n in sorted(report.names.items())],
            verification=(ReportVerification(**vars(report.verification))
                          if report.verification else None))


def _undoing(step: dict[str, Any] | None) -> ReportUndoing | None:
    return None if step is None else ReportUndoing(**step)


def _decision(d: model.DecisionEntry, known_at: int | None) -> ReportDecision:
    """Its chain's links name their bodies as they were on the decision's date, as known where
    the report was cut."""
    moment = Moment(d.taken_on, known_at)
    return ReportDecision(**(vars(d) | {
        "chain": [ChainLink.of(link, d.competence, d.jurisdiction, moment) for link in d.chain],
        "annulled": _undoing(d.annulled), "repealed": _undoing(d.repealed),
        "corrections": [ReportCorrection(**c) for c in d.corrections]}))


Jurisdiction = Annotated[str, strawberry.argument(description="The municipality's code.")]
From = Annotated[date, strawberry.argument(name="from", description="The period's first day.")]
To = Annotated[date, strawberry.argument(description="The period's last day (included).")]


async def accountability_report(info: ContextInfo, jurisdiction: Jurisdiction, from_: From,
                                to: To, known_at: KnownAt = None
                                ) -> AccountabilityReport:
    # the position is checked as on every field (it names `knownAt`); the report then also
    # needs the read models to have reached it
    known_at = await info.context.ledger_position(known_at, "knownAt")
    return AccountabilityReport.of(await model.accountability_report(
        info.context.pool, jurisdiction, model.Period(from_, to), known_at=known_at,
        published_only=info.context.published_only), known_at)
