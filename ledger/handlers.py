"""The command handlers: for each command, the checks against the current state and the events
it records, in a unit of work the pipeline saves. HANDLERS says which handler takes which command;
`acting_body` says, command by command, on whose behalf it is given."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledger import commands as c
from ledger.domain.body import Body
from ledger.domain.commission import Commission
from ledger.domain.competence import Competence, CompetenceHolding, GrantTerms, holding_id
from ledger.domain.consultation import Consultation
from ledger.domain.decision import Decision
from ledger.domain.dossier import Dossier
from ledger.domain.jurisdiction import Jurisdiction
from ledger.errors import InvalidCommand, RuleViolation
from ledger.personal_data import PersonalDataVault
from ledger.rules import check_framework, check_grant_citation
from ledger.unit_of_work import UnitOfWork
from ledger.values import Interval, Meta, record_id


class CommandHandlers:
    """One method per command: (uow, command, meta) to the command's result."""

    def __init__(self, vault: PersonalDataVault) -> None:
        self.vault = vault

    def handle(self, uow: UnitOfWork, command: c.Command, meta: Meta) -> dict[str, Any]:
        return HANDLERS[type(command)](self, uow, command, meta)

    # Jurisdictions and bodies ------------------------------------------------------------------

    def establish_jurisdiction(self, uow: UnitOfWork, command: c.EstablishJurisdiction,
                               meta: Meta) -> dict[str, Any]:
        uow.check_new(Jurisdiction, command.code)
        uow.add(Jurisdiction(code=command.code, name=command.title, kind=command.kind, meta=meta))
        return {"jurisdiction": command.code}

    def admit_member(self, uow: UnitOfWork, command: c.AdmitMember, meta: Meta
                     ) -> dict[str, Any]:
        region = uow.get(Jurisdiction, command.region, "region")
        region.admit_member(uow.get(Jurisdiction, command.member, "member"), command.on, meta)
        return {"region": command.region, "member": command.member}

    def release_member(self, uow: UnitOfWork, command: c.ReleaseMember, meta: Meta
                       ) -> dict[str, Any]:
        region = uow.get(Jurisdiction, command.region, "region")
        region.release_member(command.member, command.on, meta)
        return {"region": command.region, "member": command.member}

    def establish_body(self, uow: UnitOfWork, command: c.EstablishBody, meta: Meta
                       ) -> dict[str, Any]:
        uow.check_new(Body, command.code)
        jurisdiction = uow.get(Jurisdiction, command.jurisdiction, "jurisdiction")
        if command.subordinate_to is not None:
            uow.get(Body, command.subordinate_to, "subordinate_to")
        uow.add(Body(code=command.code, name=command.title, kind=command.kind,
                     jurisdiction=jurisdiction.code, jurisdiction_kind=jurisdiction.kind,
                     established_on=command.established_on,
                     subordinate_to=command.subordinate_to, meta=meta))
        return {"body": command.code}

    def rename_body(self, uow: UnitOfWork, command: c.RenameBody, meta: Meta) -> dict[str, Any]:
        uow.get(Body, command.body, "body").rename(command.title, command.on, meta)
        return {"body": command.body}

    def abolish_body(self, uow: UnitOfWork, command: c.AbolishBody, meta: Meta
                     ) -> dict[str, Any]:
        body = uow.get(Body, command.body, "body")
        if command.successor is not None:
            uow.get(Body, command.successor, "successor")
        body.abolish(command.on, command.reason, command.successor, meta)
        return {"body": command.body}

    def fill_seat(self, uow: UnitOfWork, command: c.FillSeat, meta: Meta) -> dict[str, Any]:
        body = uow.get(Body, command.body, "body")
        body.fill_seat(command.seat, command.holder, command.group, command.on, meta)
        return {"body": command.body, "seat": command.seat}

    def vacate_seat(self, uow: UnitOfWork, command: c.VacateSeat, meta: Meta) -> dict[str, Any]:
        body = uow.get(Body, command.body, "body")
        body.vacate_seat(command.seat, command.on, command.reason, meta)
        return {"body": command.body, "seat": command.seat}

    # Competences and grants --------------------------------------------------------------------

    def define_competence(self, uow: UnitOfWork, command: c.DefineCompetence, meta: Meta
                          ) -> dict[str, Any]:
        uow.check_new(Competence, command.code)
        uow.add(Competence(code=command.code, title=command.title, delegable=command.delegable,
                           mandatable=command.mandatable, meta=meta))
        return {"competence": command.code}

    def attribute_competence(self, uow: UnitOfWork, command: c.AttributeCompetence, meta: Meta
                             ) -> dict[str, Any]:
        competence = uow.get(Competence, command.competence, "competence")
        jurisdiction = uow.get(Jurisdiction, command.jurisdiction, "jurisdiction")
        body = uow.get(Body, command.body, "body")
        if command.framework_body is not None:
            uow.get(Body, command.framework_body, "framework_body")
        holding = uow.find(CompetenceHolding, holding_id(competence.code, jurisdiction.code))
        is_new = holding is None
        if holding is None:
            holding = CompetenceHolding(
                competence=competence.code, jurisdiction=jurisdiction.code,
                jurisdiction_kind=jurisdiction.kind, delegable=competence.delegable,
                mandatable=competence.mandatable, meta=meta)
        holding.attribute(body, command.legal_basis,
                          Interval(command.valid_from, command.valid_until),
                          command.framework_body, meta)
        if is_new:
            uow.add(holding)
        return {"competence": competence.code, "jurisdiction": jurisdiction.code,
                "body": body.code}

    def end_attribution(self, uow: UnitOfWork, command: c.EndAttribution, meta: Meta
                        ) -> dict[str, Any]:
        holding = self._holding(uow, command.competence, command.jurisdiction)
        holding.end_attribution(command.body, command.on, command.reason, meta)
        return {"competence": command.competence, "jurisdiction": command.jurisdiction,
                "body": command.body}

    def grant_delegation(self, uow: UnitOfWork, command: c.GrantDelegation, meta: Meta
                         ) -> dict[str, Any]:
        holding = self._holding(uow, command.competence, command.jurisdiction)
        holding.grant_delegation(command.code, self._grant_terms(uow, command), meta)
        return {"grant": command.code, "competence": command.competence,
                "jurisdiction": command.jurisdiction}

    def grant_mandate(self, uow: UnitOfWork, command: c.GrantMandate, meta: Meta
                      ) -> dict[str, Any]:
        holding = self._holding(uow, command.competence, command.jurisdiction)
        holding.grant_mandate(command.code, self._grant_terms(uow, command),
                              command.allows_submandate, command.parent, meta)
        return {"grant": command.code, "competence": command.competence,
                "jurisdiction": command.jurisdiction}

    @staticmethod
    def _grant_terms(uow: UnitOfWork, command: c.GrantInput) -> GrantTerms:
        if command.framework_body is not None:
            uow.get(Body, command.framework_body, "framework_body")
        return GrantTerms(
            grantor=uow.get(Body, command.grantor, "grantor"),
            grantee=uow.get(Body, command.grantee, "grantee"),
            legal_basis=command.legal_basis,
            source_decision=uow.get(Decision, command.source_decision, "source_decision"),
            period=Interval(command.valid_from, command.valid_until),
            scope=tuple(command.scope) if command.scope is not None else None,
            framework_body=command.framework_body,
        )

    def revoke_grant(self, uow: UnitOfWork, command: c.RevokeGrant, meta: Meta
                     ) -> dict[str, Any]:
        holding = self._holding(uow, command.competence, command.jurisdiction)
        holding.revoke_grant(command.grant, command.on, command.reason, meta)
        return {"grant": command.grant, "competence": command.competence,
                "jurisdiction": command.jurisdiction}

    def _holding(self, uow: UnitOfWork, competence: str, jurisdiction: str) -> CompetenceHolding:
        holding = uow.find(CompetenceHolding, holding_id(competence, jurisdiction))
        if holding is None:
            uow.get(Competence, competence, "competence")
            uow.get(Jurisdiction, jurisdiction, "jurisdiction")
            raise RuleViolation(
                f"'{competence}' was never attributed to any body for {jurisdiction}.",
                code="NOT_ATTRIBUTED", field="competence")
        return holding

    # Dossiers and decisions --------------------------------------------------------------------

    def open_dossier(self, uow: UnitOfWork, command: c.OpenDossier, meta: Meta
                     ) -> dict[str, Any]:
        uow.check_new(Dossier, command.code)
        uow.add(Dossier(code=command.code, title=command.title,
                        description=command.description, meta=meta))
        return {"dossier": command.code}

    def propose_decision(self, uow: UnitOfWork, command: c.ProposeDecision, meta: Meta
                         ) -> dict[str, Any]:
        proposer = uow.get(Body, command.proposed_by, "proposed_by")
        decision = uow.find(Decision, Decision.create_id(code=command.code))
        is_new = decision is None
        if decision is None:
            decision = self._register_decision(uow, command, meta)
        decision.propose(proposer, command.proposed_on, meta)
        if is_new:
            uow.add(decision)
        return {"decision": command.code}

    def take_decision(self, uow: UnitOfWork, command: c.TakeDecision, meta: Meta
                      ) -> dict[str, Any]:
        """L1, L2, L3, L5, L7, L11, L12, checked against the holding the decision exercises."""
        decision = uow.find(Decision, Decision.create_id(code=command.code))
        is_new = decision is None
        if decision is None:
            decision = self._register_decision(uow, command, meta)
        decision.check_not_taken()
        body = uow.get(Body, command.body, "body")
        body.check_active_on(command.taken_on)
        holding = self._holding(uow, decision.competence, decision.jurisdiction)
        chain = holding.chain_for(body, command.taken_on, decision.subject, command.cited_grant)

        def lookup(code: str) -> Decision | None:
            return uow.find(Decision, Decision.create_id(code=code))

        check_grant_citation(chain, command.cited_grant, command.cited_publication,
                             command.taken_on, lookup)
        check_framework(chain, command.framework_decision, command.taken_on, lookup)
        views: list[str] = []
        if command.consultation is not None:
            consultation = uow.get(Consultation, command.consultation, "consultation")
            consultation.check_open_by(command.taken_on)
            views = consultation.views_received_by(command.taken_on)
        if command.commission is not None:
            uow.get(Commission, command.commission, "commission")  # L8: it confers nothing
        decision.take(
            body, command.taken_on, command.outcome,
            votes=command.votes.value() if command.votes is not None else None,
            chain=chain, cited_grant=command.cited_grant,
            cited_publication=command.cited_publication,
            framework_decision=command.framework_decision, consultation=command.consultation,
            views_received=views, documents=[d.value() for d in command.documents], meta=meta)
        holding.record_exercise(decision.code, body.code, command.taken_on, chain, meta)
        if is_new:
            uow.add(decision)
        return {"decision": command.code, "chain": [link.as_json() for link in chain]}

    def _register_decision(self, uow: UnitOfWork, command: c.ProposeDecision | c.TakeDecision,
                           meta: Meta) -> Decision:
        missing = [f for f in ("title", "competence", "jurisdiction")
                   if getattr(command, f) is None]
        if missing:
            raise InvalidCommand(
                f"Decision {command.code} is new to the ledger: give its {', '.join(missing)}.",
                field=missing[0])
        assert command.competence is not None and command.jurisdiction is not None
        self._holding(uow, command.competence, command.jurisdiction)  # names both known records
        if command.dossier is not None:
            uow.get(Dossier, command.dossier, "dossier")
        for affected in command.affected_jurisdictions:
            uow.get(Jurisdiction, affected, "affected_jurisdictions")
        return Decision(
            code=command.code, title=command.title, summary=command.summary,
            competence=command.competence, jurisdiction=command.jurisdiction,
            subject=command.subject, dossier=command.dossier,
            affected_jurisdictions=command.affected_jurisdictions or [command.jurisdiction],
            addressee=self.vault.seal(command.addressee.person,
                                      command.addressee.model_dump(exclude={"person"},
                                                                   exclude_none=True))
            if command.addressee is not None else None,
            meta=meta)

    def publish_decision(self, uow: UnitOfWork, command: c.PublishDecision, meta: Meta
                         ) -> dict[str, Any]:
        decision = uow.get(Decision, command.decision, "decision")
        decision.publish(command.on, command.publication, meta)
        return {"decision": command.decision}

    def bring_into_force(self, uow: UnitOfWork, command: c.BringIntoForce, meta: Meta
                         ) -> dict[str, Any]:
        decision = uow.get(Decision, command.decision, "decision")
        decision.enter_into_force(command.on, command.retroactive_from, meta)
        return {"decision": command.decision}

    def repeal_decision(self, uow: UnitOfWork, command: c.RepealDecision, meta: Meta
                        ) -> dict[str, Any]:
        decision = uow.get(Decision, command.decision, "decision")
        uow.get(Decision, command.repealed_by, "repealed_by")
        decision.repeal(command.on, command.repealed_by, command.reason, meta)
        return {"decision": command.decision}

    def annul_decision(self, uow: UnitOfWork, command: c.AnnulDecision, meta: Meta
                       ) -> dict[str, Any]:
        decision = uow.get(Decision, command.decision, "decision")
        decision.annul(command.on, command.annulled_by, command.reason, meta)
        return {"decision": command.decision}

    def correct_decision(self, uow: UnitOfWork, command: c.CorrectDecision, meta: Meta
                         ) -> dict[str, Any]:
        decision = uow.get(Decision, command.decision, "decision")
        documents = ([d.value() for d in command.documents]
                     if command.documents is not None else None)
        decision.correct(command.title, command.summary, documents, command.reason, meta)
        return {"decision": command.decision}

    # Commissions and consultations -------------------------------------------------------------

    def issue_commission(self, uow: UnitOfWork, command: c.IssueCommission, meta: Meta
                         ) -> dict[str, Any]:
        uow.check_new(Commission, command.code)
        issuer = uow.get(Body, command.issued_by, "issued_by")
        receiver = uow.get(Body, command.issued_to, "issued_to")
        issuer.check_active_on(command.issued_on, field="issued_by")
        receiver.check_active_on(command.issued_on, field="issued_to")
        if command.dossier is not None:
            uow.get(Dossier, command.dossier, "dossier")
        if command.source_decision is not None:
            uow.get(Decision, command.source_decision, "source_decision")
        if command.due_on is not None:
            Interval(command.issued_on, command.due_on)
        uow.add(Commission(
            code=command.code, subject=command.subject, issued_by=issuer.code,
            issued_to=receiver.code, dossier=command.dossier, issued_on=command.issued_on,
            due_on=command.due_on, binding=command.binding,
            source_decision=command.source_decision, meta=meta))
        return {"commission": command.code}

    def accept_commission(self, uow: UnitOfWork, command: c.AcceptCommission, meta: Meta
                          ) -> dict[str, Any]:
        uow.get(Commission, command.commission, "commission").accept(command.on, meta)
        return {"commission": command.commission}

    def report_commission_progress(self, uow: UnitOfWork, command: c.ReportCommissionProgress,
                                   meta: Meta) -> dict[str, Any]:
        commission = uow.get(Commission, command.commission, "commission")
        commission.report_progress(command.on, command.note, meta)
        return {"commission": command.commission}

    def fulfil_commission(self, uow: UnitOfWork, command: c.FulfilCommission, meta: Meta
                          ) -> dict[str, Any]:
        commission = uow.get(Commission, command.commission, "commission")
        if command.decision is not None:
            uow.get(Decision, command.decision, "decision")
        commission.fulfil(command.on, command.decision, meta)
        return {"commission": command.commission}

    def withdraw_commission(self, uow: UnitOfWork, command: c.WithdrawCommission, meta: Meta
                            ) -> dict[str, Any]:
        commission = uow.get(Commission, command.commission, "commission")
        commission.withdraw(command.on, command.reason, meta)
        return {"commission": command.commission}

    def open_consultation(self, uow: UnitOfWork, command: c.OpenConsultation, meta: Meta
                          ) -> dict[str, Any]:
        uow.check_new(Consultation, command.code)
        opener = uow.get(Body, command.opened_by, "opened_by")
        opener.check_active_on(command.opened_on, field="opened_by")
        for council in command.consulted:
            uow.get(Body, council, "consulted").check_active_on(command.opened_on, "consulted")
        if command.draft_decision is not None:
            uow.get(Decision, command.draft_decision, "draft_decision")
        Interval(command.opened_on, command.respond_by)
        uow.add(Consultation(
            code=command.code, subject=command.subject, opened_by=opener.code,
            draft_decision=command.draft_decision, consulted=list(command.consulted),
            opened_on=command.opened_on, respond_by=command.respond_by, meta=meta))
        return {"consultation": command.code}

    def submit_view(self, uow: UnitOfWork, command: c.SubmitView, meta: Meta) -> dict[str, Any]:
        consultation = uow.get(Consultation, command.consultation, "consultation")
        consultation.submit_view(command.council, command.on, command.position,
                                 command.document.value() if command.document else None, meta)
        return {"consultation": command.consultation, "council": command.council}

    def close_consultation(self, uow: UnitOfWork, command: c.CloseConsultation, meta: Meta
                           ) -> dict[str, Any]:
        consultation = uow.get(Consultation, command.consultation, "consultation")
        consultation.close(command.on, meta)
        return {"consultation": command.consultation}


Handler = Callable[[CommandHandlers, UnitOfWork, Any, Meta], dict[str, Any]]
HANDLERS: dict[type[c.Command], Handler] = {
    c.EstablishJurisdiction: CommandHandlers.establish_jurisdiction,
    c.AdmitMember: CommandHandlers.admit_member,
    c.ReleaseMember: CommandHandlers.release_member,
    c.EstablishBody: CommandHandlers.establish_body,
    c.RenameBody: CommandHandlers.rename_body,
    c.AbolishBody: CommandHandlers.abolish_body,
    c.FillSeat: CommandHandlers.fill_seat,
    c.VacateSeat: CommandHandlers.vacate_seat,
    c.DefineCompetence: CommandHandlers.define_competence,
    c.AttributeCompetence: CommandHandlers.attribute_competence,
    c.EndAttribution: CommandHandlers.end_attribution,
    c.GrantDelegation: CommandHandlers.grant_delegation,
    c.GrantMandate: CommandHandlers.grant_mandate,
    c.RevokeGrant: CommandHandlers.revoke_grant,
    c.OpenDossier: CommandHandlers.open_dossier,
    c.ProposeDecision: CommandHandlers.propose_decision,
    c.TakeDecision: CommandHandlers.take_decision,
    c.PublishDecision: CommandHandlers.publish_decision,
    c.BringIntoForce: CommandHandlers.bring_into_force,
    c.RepealDecision: CommandHandlers.repeal_decision,
    c.AnnulDecision: CommandHandlers.annul_decision,
    c.CorrectDecision: CommandHandlers.correct_decision,
    c.IssueCommission: CommandHandlers.issue_commission,
    c.AcceptCommission: CommandHandlers.accept_commission,
    c.ReportCommissionProgress: CommandHandlers.report_commission_progress,
    c.FulfilCommission: CommandHandlers.fulfil_commission,
    c.WithdrawCommission: CommandHandlers.withdraw_commission,
    c.OpenConsultation: CommandHandlers.open_consultation,
    c.SubmitView: CommandHandlers.submit_view,
    c.CloseConsultation: CommandHandlers.close_consultation,
}


ACTING_FIELD: dict[type[c.Command], str] = {
    c.RenameBody: "body", c.AbolishBody: "body", c.FillSeat: "body", c.VacateSeat: "body",
    c.GrantDelegation: "grantor", c.GrantMandate: "grantor",
    c.ProposeDecision: "proposed_by", c.TakeDecision: "body",
    c.IssueCommission: "issued_by", c.OpenConsultation: "opened_by", c.SubmitView: "council",
}
"""The commands that name the body acting in one of their fields."""


def acting_body(uow: UnitOfWork, command: c.Command) -> str | None:
    """The body on whose behalf a command is given, for authorisation: the body that
    decides, grants, issues or answers; for steps on an existing record, the body that
    owns it. None for the structure of government (jurisdictions, bodies' establishment,
    competences and their attribution by law), which no single body records."""
    field = ACTING_FIELD.get(type(command))
    return getattr(command, field) if field is not None else record_owner(uow, command)


def record_owner(uow: UnitOfWork, command: c.Command) -> str | None:
    """The body that acts on an existing record: the grantor of a grant, the body that took or
    proposed a decision, the receiver of a commission (its issuer to withdraw it), the opener
    of a consultation. None if the record is unknown (the handler refuses the command)."""
    match command:
        case c.RevokeGrant():
            holding = uow.find(CompetenceHolding,
                               holding_id(command.competence, command.jurisdiction))
            grant = holding.grants.get(command.grant) if holding is not None else None
            return grant.grantor if grant is not None else None
        case (c.PublishDecision() | c.BringIntoForce() | c.RepealDecision()
              | c.CorrectDecision()):
            decision = uow.find(Decision, record_id("decision", command.decision))
            return decision.body or decision.proposed_by if decision is not None else None
        case c.AcceptCommission() | c.ReportCommissionProgress() | c.FulfilCommission():
            commission = uow.find(Commission, record_id("commission", command.commission))
            return commission.issued_to if commission is not None else None
        case c.WithdrawCommission():
            commission = uow.find(Commission, record_id("commission", command.commission))
            return commission.issued_by if commission is not None else None
        case c.CloseConsultation():
            consultation = uow.find(Consultation,
                                    record_id("consultation", command.consultation))
            return consultation.opened_by if consultation is not None else None
    return None
