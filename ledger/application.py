"""The application service: one method per command. Each runs the domain's checks against the
current state, saves the events atomically with the command's idempotency key, and returns the
result with the ledger position. GraphQL mutations, the CLI and the importer call nothing else."""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, TypeVar, get_type_hints
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder

from ledger import commands as c
from ledger.domain.body import Body
from ledger.domain.commission import Commission
from ledger.domain.competence import Competence, CompetenceHolding, GrantTerms, holding_id
from ledger.domain.consultation import Consultation
from ledger.domain.decision import Decision
from ledger.domain.dossier import Dossier
from ledger.domain.jurisdiction import Jurisdiction
from ledger.errors import (
    ConcurrencyConflict,
    IdempotencyKeyReused,
    InvalidCommand,
    LedgerError,
    RecordedRefusal,
    RuleViolation,
)
from ledger.personal_data import NoVault, PersonalDataVault
from ledger.rules import check_framework, check_grant_citation
from ledger.store import LedgerRecorder, RecordedCommand, command_positions
from ledger.transcoding import register_ledger_transcodings
from ledger.unit_of_work import UnitOfWork
from ledger.values import ChainLink, Interval, Meta, record_id

MAX_ATTEMPTS = 10
BACKOFF_SECONDS = 0.005
EVENTS_TABLE = "bevoegd_events"  # eventsourcing names it after the application: "<name>_events"


@dataclass(frozen=True)
class CommandContext:
    """Who sends a command and under which idempotency key (the event's `command_id`)."""

    idempotency_key: str
    actor: str = "system"
    correlation_id: str | None = None


@dataclass(frozen=True)
class CommandResult:
    command: str
    idempotency_key: str
    position: int
    result: dict[str, Any]
    replayed: bool = False


@dataclass(frozen=True)
class Competent:
    """A body that may exercise a competence on a date, and the chain that makes it so; its
    capacity is the last link: attribution or delegation (in its own name), or (sub)mandate."""

    body: str
    capacity: str
    chain: list[ChainLink]


C = TypeVar("C", bound=c.Command)
Handler = Callable[["Ledger", UnitOfWork, C, Meta], dict[str, Any]]
HANDLERS: dict[type[c.Command], Handler[Any]] = {}


def handles(
    handler: Callable[[Ledger, UnitOfWork, C, Meta], dict[str, Any]],
) -> Callable[[Ledger, C, CommandContext], CommandResult]:
    """Turns a handler (checks and events for one command) into the public command method,
    which adds idempotency, retries on version conflicts and the atomic save."""
    HANDLERS[get_type_hints(handler)["command"]] = handler

    def method(self: Ledger, command: C, context: CommandContext) -> CommandResult:
        return self.execute(command, context)

    method.__name__ = handler.__name__
    method.__doc__ = handler.__doc__
    return method


RECORD_FIELDS = ("decision", "commission", "consultation", "grant", "body", "region")
"""The input fields by which a command names the record it acts on."""


def input_field(command: c.Command, field: str | None) -> str | None:
    """A refusal's field in the command's own terms: the aggregates speak of their record as
    `code`, where a step on an existing record names it in one of RECORD_FIELDS."""
    fields = type(command).model_fields
    if field is None or field in fields or field == "idempotency_key":
        return field
    if field == "code":
        return next((name for name in RECORD_FIELDS if name in fields), None)
    return None


def fingerprint(command: c.Command) -> str:
    canonical = json.dumps({"command": command.name, "input": command.model_dump(mode="json")},
                           sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class Ledger(Application[UUID]):
    name = "Bevoegd"
    vault: PersonalDataVault = NoVault()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_ledger_transcodings(transcoder)

    @property
    def store(self) -> LedgerRecorder:
        assert isinstance(self.recorder, LedgerRecorder)
        return self.recorder

    # Running commands ------------------------------------------------------------------------

    def execute(self, command: c.Command, context: CommandContext) -> CommandResult:
        """Runs one command in its own transaction, retrying a bounded number of times when
        another writer changed the same aggregates in between. A refusal by the rules is
        recorded under the command's key, as an acceptance is, and raised."""
        key, print_ = context.idempotency_key, fingerprint(command)
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                time.sleep(random.uniform(0, BACKOFF_SECONDS * attempt))  # let the winner finish
            uow = UnitOfWork(self.repository)
            answer: dict[str, Any] | LedgerError
            try:
                answer = self._handle(uow, command, context, print_)
            except LedgerError as refusal:
                uow.refuse_command(key, command.name, print_, refusal)
                answer = refusal
            try:
                (position,) = self._save(uow)
            except IntegrityError:
                # Either the key is recorded (by a concurrent client, or before: a repeat of an
                # accepted command may fail the rules the second time round, ALREADY_TAKEN say,
                # and the first answer stands), or a concurrent writer won the race for an
                # aggregate version: re-read, re-check, try again. The key is looked up only
                # then, which spares every first attempt a query.
                replay = self._recorded_result(command, key, print_)
                if replay is not None:
                    return replay
                continue
            outcome = self._answer(command, key, answer, position)
            if isinstance(outcome, LedgerError):
                raise outcome
            return outcome
        # Not recorded: the conflict says nothing about the command, so the key stays free
        # for a retry.
        raise ConcurrencyConflict(
            f"'{command.name}' kept conflicting with concurrent changes to the same records and "
            f"was given up after {MAX_ATTEMPTS} attempts; nothing was stored. Try again.")

    def execute_batch(
        self, items: Sequence[tuple[c.Command, CommandContext]]
    ) -> list[CommandResult | LedgerError]:
        """Runs many commands in one transaction; each is checked against the state the ones
        before it left. A refused command stores no event and does not stop the others; its
        refusal is recorded under its key in the transaction of the batch's events. If a
        concurrent writer interferes, the rest of the batch runs command by command."""
        recorded = self.store.find_commands([context.idempotency_key for _, context in items])
        outcomes: list[CommandResult | LedgerError | int | None] = [None] * len(items)
        prints = [fingerprint(command) for command, _ in items]
        first_index: dict[str, int] = {}
        unit: list[tuple[int, dict[str, Any] | LedgerError]] = []
        uow = UnitOfWork(self.repository)
        opened = {record_id(command.creates, command.code)  # type: ignore[attr-defined]
                  for command, _ in items if command.creates is not None}
        uow.know_absent(opened - self.store.existing(opened))

        def flush() -> bool:
            try:
                positions = self._save(uow) if unit else []
            except IntegrityError:
                return False
            for (index, answer), position in zip(unit, positions, strict=True):
                command, context = items[index]
                outcomes[index] = self._answer(command, context.idempotency_key, answer, position)
            unit.clear()
            return True

        for index, (command, context) in enumerate(items):
            key = context.idempotency_key
            if key in recorded:
                outcomes[index] = self._replay(command, key, prints[index], recorded[key])
                continue
            if key in first_index:  # the same key earlier in this batch
                same = prints[first_index[key]] == prints[index]
                outcomes[index] = first_index[key] if same else self._key_reused(key)
                continue
            first_index[key] = index
            unit_start = index - len(unit)
            try:
                unit.append((index, self._handle(uow, command, context, prints[index])))
            except LedgerError as refusal:
                uow.refuse_command(key, command.name, prints[index], refusal)
                unit.append((index, refusal))
                if uow.has_pending_events():  # a refusal after partial work: drop that work
                    if not flush():
                        return self._finish_one_by_one(items, outcomes, unit_start)
                    uow = UnitOfWork(self.repository)
        if not flush():
            return self._finish_one_by_one(items, outcomes, len(items) - len(unit))
        return [self._resolve(outcomes, index) for index in range(len(items))]

    def _finish_one_by_one(
        self,
        items: Sequence[tuple[c.Command, CommandContext]],
        outcomes: list[CommandResult | LedgerError | int | None],
        start: int,
    ) -> list[CommandResult | LedgerError]:
        for index in range(start, len(items)):
            command, context = items[index]
            try:
                outcomes[index] = self.execute(command, context)
            except LedgerError as refusal:
                outcomes[index] = refusal
        return [self._resolve(outcomes, index) for index in range(len(items))]

    @staticmethod
    def _resolve(
        outcomes: list[CommandResult | LedgerError | int | None], index: int
    ) -> CommandResult | LedgerError:
        outcome = outcomes[index]
        if isinstance(outcome, int):  # a repeat, in the batch, of the command at that index
            first = outcomes[outcome]
            if isinstance(first, CommandResult):
                return replace(first, replayed=True)
            assert isinstance(first, LedgerError)
            return RecordedRefusal.from_dict(first.as_dict())
        assert outcome is not None
        return outcome

    def _handle(self, uow: UnitOfWork, command: c.Command, context: CommandContext,
                print_: str) -> dict[str, Any]:
        meta = Meta(
            recorded_at=datetime.now(UTC),
            actor=context.actor,
            command_id=context.idempotency_key,
            correlation_id=context.correlation_id or context.idempotency_key,
        )
        try:
            result = HANDLERS[type(command)](self, uow, command, meta)
        except LedgerError as refusal:
            refusal.field = input_field(command, refusal.field)
            raise
        uow.complete_command(context.idempotency_key, command.name, print_, result)
        return result

    def _save(self, uow: UnitOfWork) -> list[int | None]:
        """Saves the unit atomically; returns each command's position (its last event's, none
        for a refused command)."""
        recordings = self.save(*uow.events, commands=uow.commands)
        return command_positions(uow.commands, [r.notification.id for r in recordings])

    @staticmethod
    def _answer(command: c.Command, key: str, answer: dict[str, Any] | LedgerError,
                position: int | None) -> CommandResult | LedgerError:
        """A saved command's answer: its refusal, or its result at its position."""
        if isinstance(answer, LedgerError):
            return answer
        assert position is not None  # an accepted command has events
        return CommandResult(command.name, key, position, answer)

    def _recorded_result(self, command: c.Command, key: str, print_: str
                         ) -> CommandResult | None:
        """The first answer to the key if it is recorded; a recorded refusal is raised."""
        found = self.store.find_commands([key]).get(key)
        if found is None:
            return None
        outcome = self._replay(command, key, print_, found)
        if isinstance(outcome, LedgerError):
            raise outcome
        return outcome

    def _replay(self, command: c.Command, key: str, print_: str, recorded: RecordedCommand
                ) -> CommandResult | LedgerError:
        """The first answer to a key already recorded (result or refusal), or a refusal if the
        content differs."""
        if recorded.fingerprint != print_:
            return self._key_reused(key)
        if recorded.refusal is not None:
            return RecordedRefusal.from_dict(recorded.refusal)
        assert recorded.position is not None and recorded.result is not None
        return CommandResult(command.name, key, recorded.position, recorded.result, replayed=True)

    @staticmethod
    def _key_reused(key: str) -> IdempotencyKeyReused:
        return IdempotencyKeyReused(
            f"The idempotency key '{key}' was already used for a different command; use a new "
            "key for a new command.", field="idempotency_key")

    # Reading the write side ----------------------------------------------------------------

    def position(self) -> int:
        return self.recorder.max_notification_id() or 0

    def who_is_competent(self, competence: str, jurisdiction: str, on: date,
                         subject: str | None = None) -> list[Competent]:
        uow = UnitOfWork(self.repository)
        uow.get(Competence, competence, "competence")
        uow.get(Jurisdiction, jurisdiction, "jurisdiction")
        holding = uow.find(CompetenceHolding, holding_id(competence, jurisdiction))
        if holding is None:
            return []
        return [Competent(body, chain[-1].kind, chain)
                for body, chain in holding.exercisers_on(on, subject)]

    def acting_body(self, command: c.Command) -> str | None:
        """The body on whose behalf a command is given, for authorisation: the body that
        decides, grants, issues or answers; for steps on an existing record, the body that
        owns it. None for the structure of government (jurisdictions, bodies' establishment,
        competences and their attribution by law), which no single body records."""
        uow = UnitOfWork(self.repository)
        match command:
            case c.RenameBody() | c.AbolishBody() | c.FillSeat() | c.VacateSeat():
                return command.body
            case c.GrantDelegation() | c.GrantMandate():
                return command.grantor
            case c.RevokeGrant():
                holding = uow.find(CompetenceHolding,
                                   holding_id(command.competence, command.jurisdiction))
                grant = holding.grants.get(command.grant) if holding is not None else None
                return grant.grantor if grant is not None else None
            case c.ProposeDecision():
                return command.proposed_by
            case c.TakeDecision():
                return command.body
            case (c.PublishDecision() | c.BringIntoForce() | c.RepealDecision()
                  | c.CorrectDecision()):
                decision = uow.find(Decision, record_id("decision", command.decision))
                return decision.body or decision.proposed_by if decision is not None else None
            case c.IssueCommission():
                return command.issued_by
            case c.AcceptCommission() | c.ReportCommissionProgress() | c.FulfilCommission():
                commission = uow.find(Commission, record_id("commission", command.commission))
                return commission.issued_to if commission is not None else None
            case c.WithdrawCommission():
                commission = uow.find(Commission, record_id("commission", command.commission))
                return commission.issued_by if commission is not None else None
            case c.OpenConsultation():
                return command.opened_by
            case c.SubmitView():
                return command.council
            case c.CloseConsultation():
                consultation = uow.find(Consultation,
                                        record_id("consultation", command.consultation))
                return consultation.opened_by if consultation is not None else None
        return None

    # Jurisdictions and bodies ------------------------------------------------------------------

    @handles
    def establish_jurisdiction(self, uow: UnitOfWork, command: c.EstablishJurisdiction,
                               meta: Meta) -> dict[str, Any]:
        uow.check_new(Jurisdiction, command.code)
        uow.add(Jurisdiction(code=command.code, name=command.title, kind=command.kind, meta=meta))
        return {"jurisdiction": command.code}

    @handles
    def admit_member(self, uow: UnitOfWork, command: c.AdmitMember, meta: Meta
                     ) -> dict[str, Any]:
        region = uow.get(Jurisdiction, command.region, "region")
        region.admit_member(uow.get(Jurisdiction, command.member, "member"), command.on, meta)
        return {"region": command.region, "member": command.member}

    @handles
    def release_member(self, uow: UnitOfWork, command: c.ReleaseMember, meta: Meta
                       ) -> dict[str, Any]:
        region = uow.get(Jurisdiction, command.region, "region")
        region.release_member(command.member, command.on, meta)
        return {"region": command.region, "member": command.member}

    @handles
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

    @handles
    def rename_body(self, uow: UnitOfWork, command: c.RenameBody, meta: Meta) -> dict[str, Any]:
        uow.get(Body, command.body, "body").rename(command.title, command.on, meta)
        return {"body": command.body}

    @handles
    def abolish_body(self, uow: UnitOfWork, command: c.AbolishBody, meta: Meta
                     ) -> dict[str, Any]:
        body = uow.get(Body, command.body, "body")
        if command.successor is not None:
            uow.get(Body, command.successor, "successor")
        body.abolish(command.on, command.reason, command.successor, meta)
        return {"body": command.body}

    @handles
    def fill_seat(self, uow: UnitOfWork, command: c.FillSeat, meta: Meta) -> dict[str, Any]:
        body = uow.get(Body, command.body, "body")
        body.fill_seat(command.seat, command.holder, command.group, command.on, meta)
        return {"body": command.body, "seat": command.seat}

    @handles
    def vacate_seat(self, uow: UnitOfWork, command: c.VacateSeat, meta: Meta) -> dict[str, Any]:
        body = uow.get(Body, command.body, "body")
        body.vacate_seat(command.seat, command.on, command.reason, meta)
        return {"body": command.body, "seat": command.seat}

    # Competences and grants --------------------------------------------------------------------

    @handles
    def define_competence(self, uow: UnitOfWork, command: c.DefineCompetence, meta: Meta
                          ) -> dict[str, Any]:
        uow.check_new(Competence, command.code)
        uow.add(Competence(code=command.code, title=command.title, delegable=command.delegable,
                           mandatable=command.mandatable, meta=meta))
        return {"competence": command.code}

    @handles
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

    @handles
    def end_attribution(self, uow: UnitOfWork, command: c.EndAttribution, meta: Meta
                        ) -> dict[str, Any]:
        holding = self._holding(uow, command.competence, command.jurisdiction)
        holding.end_attribution(command.body, command.on, command.reason, meta)
        return {"competence": command.competence, "jurisdiction": command.jurisdiction,
                "body": command.body}

    @handles
    def grant_delegation(self, uow: UnitOfWork, command: c.GrantDelegation, meta: Meta
                         ) -> dict[str, Any]:
        holding = self._holding(uow, command.competence, command.jurisdiction)
        holding.grant_delegation(command.code, self._grant_terms(uow, command), meta)
        return {"grant": command.code, "competence": command.competence,
                "jurisdiction": command.jurisdiction}

    @handles
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

    @handles
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

    @handles
    def open_dossier(self, uow: UnitOfWork, command: c.OpenDossier, meta: Meta
                     ) -> dict[str, Any]:
        uow.check_new(Dossier, command.code)
        uow.add(Dossier(code=command.code, title=command.title,
                        description=command.description, meta=meta))
        return {"dossier": command.code}

    @handles
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

    @handles
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
            command.votes.value() if command.votes is not None else None,
            chain, command.cited_grant, command.cited_publication, command.framework_decision,
            command.consultation, views, [d.value() for d in command.documents], meta)
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

    @handles
    def publish_decision(self, uow: UnitOfWork, command: c.PublishDecision, meta: Meta
                         ) -> dict[str, Any]:
        decision = uow.get(Decision, command.decision, "decision")
        decision.publish(command.on, command.publication, meta)
        return {"decision": command.decision}

    @handles
    def bring_into_force(self, uow: UnitOfWork, command: c.BringIntoForce, meta: Meta
                         ) -> dict[str, Any]:
        decision = uow.get(Decision, command.decision, "decision")
        decision.enter_into_force(command.on, command.retroactive_from, meta)
        return {"decision": command.decision}

    @handles
    def repeal_decision(self, uow: UnitOfWork, command: c.RepealDecision, meta: Meta
                        ) -> dict[str, Any]:
        decision = uow.get(Decision, command.decision, "decision")
        uow.get(Decision, command.repealed_by, "repealed_by")
        decision.repeal(command.on, command.repealed_by, command.reason, meta)
        return {"decision": command.decision}

    @handles
    def annul_decision(self, uow: UnitOfWork, command: c.AnnulDecision, meta: Meta
                       ) -> dict[str, Any]:
        decision = uow.get(Decision, command.decision, "decision")
        decision.annul(command.on, command.annulled_by, command.reason, meta)
        return {"decision": command.decision}

    @handles
    def correct_decision(self, uow: UnitOfWork, command: c.CorrectDecision, meta: Meta
                         ) -> dict[str, Any]:
        decision = uow.get(Decision, command.decision, "decision")
        documents = ([d.value() for d in command.documents]
                     if command.documents is not None else None)
        decision.correct(command.title, command.summary, documents, command.reason, meta)
        return {"decision": command.decision}

    # Commissions and consultations -------------------------------------------------------------

    @handles
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

    @handles
    def accept_commission(self, uow: UnitOfWork, command: c.AcceptCommission, meta: Meta
                          ) -> dict[str, Any]:
        uow.get(Commission, command.commission, "commission").accept(command.on, meta)
        return {"commission": command.commission}

    @handles
    def report_commission_progress(self, uow: UnitOfWork, command: c.ReportCommissionProgress,
                                   meta: Meta) -> dict[str, Any]:
        commission = uow.get(Commission, command.commission, "commission")
        commission.report_progress(command.on, command.note, meta)
        return {"commission": command.commission}

    @handles
    def fulfil_commission(self, uow: UnitOfWork, command: c.FulfilCommission, meta: Meta
                          ) -> dict[str, Any]:
        commission = uow.get(Commission, command.commission, "commission")
        if command.decision is not None:
            uow.get(Decision, command.decision, "decision")
        commission.fulfil(command.on, command.decision, meta)
        return {"commission": command.commission}

    @handles
    def withdraw_commission(self, uow: UnitOfWork, command: c.WithdrawCommission, meta: Meta
                            ) -> dict[str, Any]:
        commission = uow.get(Commission, command.commission, "commission")
        commission.withdraw(command.on, command.reason, meta)
        return {"commission": command.commission}

    @handles
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

    @handles
    def submit_view(self, uow: UnitOfWork, command: c.SubmitView, meta: Meta) -> dict[str, Any]:
        consultation = uow.get(Consultation, command.consultation, "consultation")
        consultation.submit_view(command.council, command.on, command.position,
                                 command.document.value() if command.document else None, meta)
        return {"consultation": command.consultation, "council": command.council}

    @handles
    def close_consultation(self, uow: UnitOfWork, command: c.CloseConsultation, meta: Meta
                           ) -> dict[str, Any]:
        consultation = uow.get(Consultation, command.consultation, "consultation")
        consultation.close(command.on, meta)
        return {"consultation": command.consultation}

