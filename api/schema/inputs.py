"""GraphQL input types made from the ledger's typed commands (ledger/commands.py), so there is one
definition of every command's shape: pydantic validates what GraphQL lets through."""

from __future__ import annotations

import dataclasses
from datetime import date
from enum import Enum
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import strawberry
from pydantic import BaseModel

from ledger.domain.body import BodyKind
from ledger.domain.decision import Outcome
from ledger.domain.jurisdiction import JurisdictionKind

ENUM_NAMES = {
    get_args(Outcome): "Outcome",
    get_args(BodyKind): "BodyKind",
    get_args(JurisdictionKind): "JurisdictionKind",
    ("for", "against", "abstain"): "VoteCast",
    ("simple", "two_thirds", "unanimous"): "MajorityRule",
}
"""Names for the literal choices of the commands; others are named after their field."""

# Descriptions --------------------------------------------------------------------------------
# The commands carry no descriptions of their own (ledger/ stays free of API concerns), so the
# texts of the generated input types live here. A field is described by the first match of:
# an override for (model or one of its bases, field), then the glossary by field name. The
# contract test (tests/test_graphql_contract.py) fails on any field left without a text.

TYPE_DESCRIPTIONS: dict[str, str] = {
    "EstablishJurisdiction": "A new jurisdiction: a municipality (gemeente), a region "
                             "(gemeenschappelijke regeling), a province (provincie) or a water "
                             "board (waterschap).",
    "AdmitMember": "A municipality joins a region (toetreding) on a date.",
    "ReleaseMember": "A municipality leaves a region (uittreding) on a date.",
    "EstablishBody": "A new body (bestuursorgaan) of a jurisdiction, established (ingesteld) on "
                     "a date.",
    "RenameBody": "A body (bestuursorgaan) takes a new name from a date.",
    "AbolishBody": "A body (bestuursorgaan) is abolished (opgeheven) on a date, with the reason "
                   "and the body that takes over.",
    "FillSeat": "A person takes a seat (zetel, portefeuille) of a body from a date.",
    "VacateSeat": "A seat (zetel) of a body becomes vacant on a date.",
    "DefineCompetence": "A new competence (bevoegdheid): a power over a subject, and whether it "
                        "may be delegated or mandated.",
    "AttributeCompetence": "The law gives a competence (bevoegdheid) for a jurisdiction to a body "
                           "(attributie): the root of every chain.",
    "EndAttribution": "An attribution (attributie) ends, e.g. when the law changes or a body is "
                      "abolished.",
    "GrantDelegation": "A delegation (delegatie, Awb 10:13): the grantee exercises the "
                       "competence in its own name; the grantor may not while it stands.",
    "GrantMandate": "A mandate (mandaat, Awb 10:1): the grantee decides in the grantor's name; "
                    "with `parent`, a sub-mandate (ondermandaat) of that mandate.",
    "RevokeGrant": "A delegation or mandate is revoked (ingetrokken) from a date.",
    "OpenDossier": "A new dossier (programma): a theme grouping decisions and commissions.",
    "ProposeDecision": "A proposal (voorstel) for a decision (besluit), before it is taken.",
    "TakeDecision": "A body takes a decision (besluit) under a competence on a date; the ledger "
                    "checks the chain that makes it competent and stores it with the decision.",
    "PublishDecision": "A decision (besluit) is published (bekendmaking).",
    "BringIntoForce": "A published decision enters into force (inwerkingtreding), possibly "
                      "retroactively (terugwerkende kracht).",
    "RepealDecision": "A decision (besluit) is repealed (ingetrokken) by a later decision.",
    "AnnulDecision": "A decision (besluit) is annulled (vernietigd), e.g. by a court.",
    "CorrectDecision": "A correction (correctie) of a decision's title, summary or documents; the "
                       "original stays in the history.",
    "IssueCommission": "A commission (opdracht): one body asks another to do something by a due "
                       "date; it transfers no competence.",
    "AcceptCommission": "The receiving body accepts a commission (opdracht).",
    "ReportCommissionProgress": "A progress report (voortgangsrapportage) on a commission.",
    "FulfilCommission": "A commission (opdracht) is fulfilled, usually by a decision.",
    "WithdrawCommission": "The issuing body withdraws a commission (opdracht).",
    "OpenConsultation": "A consultation (zienswijzeprocedure): a regional body asks the member "
                        "councils for their views on a draft before a deadline.",
    "SubmitView": "A council gives its view (zienswijze) in a consultation.",
    "CloseConsultation": "A consultation (zienswijzeprocedure) is closed.",
    "DocumentInput": "A document referenced by title, address and SHA-256 of its content; never "
                     "copied into the ledger.",
    "MemberVoteInput": "How one member voted (stemming per lid).",
    "VotesInput": "The votes (stemming) at the grain they are known; counts left out are "
                  "unknown, not zero.",
    "PrivatePersonInput": "A private person a decision is addressed to; sealed with a key per "
                          "person before it reaches any event, so that forgetting the person "
                          "erases it.",
}
"""Descriptions of the input types, by the pydantic model's class name."""

FIELD_DESCRIPTIONS: dict[str, str] = {
    "abstentions": "Abstentions (onthoudingen); left out when unknown.",
    "address": "Where the document can be found: a URL or an archive reference.",
    "addressee": "The private person the decision is addressed to, if any (sealed, never "
                 "stored in plain).",
    "affected_jurisdictions": "Other jurisdictions the decision affects, e.g. the members of a "
                              "region; its own jurisdiction if left out.",
    "allows_submandate": "Whether the mandatee may pass the mandate on (ondermandaat); false if "
                         "left out.",
    "annulled_by": "Who annulled it, e.g. the administrative court (bestuursrechter).",
    "binding": "Whether the commission binds the body it is issued to; most do not.",
    "body": "The body's code (bestuursorgaan).",
    "cited_grant": "The grant (delegation or mandate) the decision relies on (Awb 10:19); "
                   "checked against the chain.",
    "cited_publication": "Where the decision making the cited grant was published (vindplaats).",
    "code": "The new record's code: lower-case letters, digits, '.', '_' and '-', unique among "
            "its kind.",
    "commission": "The commission's code (opdracht).",
    "competence": "The competence's code (bevoegdheid).",
    "consultation": "The consultation's code (zienswijzeprocedure).",
    "consulted": "The councils (raden) asked for their view; at least one.",
    "council": "The council (raad) giving its view.",
    "decision": "The decision's code (besluit).",
    "delegable": "Whether the competence may be delegated (delegatie, Awb 10:13).",
    "description": "What the dossier is about.",
    "document": "The view's document, if any.",
    "documents": "The decision's documents, referenced by title, address and SHA-256.",
    "dossier": "The dossier (programma) it belongs to.",
    "draft_decision": "The draft decision (ontwerpbesluit) the councils are consulted on, e.g. "
                      "the draft budget.",
    "due_on": "When the commission is due; left out if no date was set.",
    "established_on": "The day the body was established (ingesteld).",
    "framework_body": "The body whose framework decision (kaderbesluit) conditions the "
                      "competence: decisions under it name a framework decision of that body.",
    "framework_decision": "The framework decision (kaderbesluit) the decision fits, where the "
                          "competence is conditional on one.",
    "grant": "The grant's code (delegatie, mandaat or ondermandaat).",
    "grantee": "The body receiving the competence (gedelegeerde or gemandateerde); a delegation "
               "never goes to a subordinate.",
    "grantor": "The body granting it (delegans or mandaatgever); it must be competent itself.",
    "group": "The political group (fractie), if any.",
    "holder": "Who holds the seat: an officeholder acting in office (public).",
    "issued_by": "The body issuing the commission (opdrachtgever).",
    "issued_on": "The day the commission was issued.",
    "issued_to": "The body the commission is issued to (opdrachtnemer).",
    "jurisdiction": "The jurisdiction the competence is held for (gemeente, gemeenschappelijke "
                    "regeling, provincie).",
    "kind": "The kind of record.",
    "legal_basis": "The law or regulation it rests on (wettelijke grondslag), e.g. "
                   "'Awb art. 10:3 en 10:4; Mandaatbesluit 2013'.",
    "majority_rule": "The majority the outcome needs; simple if left out.",
    "mandatable": "Whether the competence may be mandated (mandaat, Awb 10:3).",
    "member": "The member municipality's code (deelnemende gemeente).",
    "members": "How each member voted, where known (hoofdelijke stemming).",
    "name": "The person's name (sealed).",
    "note": "What the progress report says.",
    "on": "The day it takes effect (valid time).",
    "opened_by": "The body asking for views, e.g. a regional board (dagelijks bestuur).",
    "opened_on": "The day the consultation opened.",
    "outcome": "Whether the proposal was adopted (aangenomen) or rejected (verworpen).",
    "parent": "For a sub-mandate (ondermandaat): the mandate it passes on, which must allow it.",
    "person": "The person's code: the key their data is sealed under; forgetting the person "
              "deletes that key.",
    "position": "The view itself (zienswijze), in short.",
    "present": "Members present (aanwezig); left out when unknown.",
    "proposed_by": "The body proposing the decision (voorsteller).",
    "proposed_on": "The day it was proposed; left out when unknown.",
    "publication": "Where it was published (vindplaats), e.g. a Gemeenteblad reference.",
    "reason": "Why (reden); recorded with the event, since nothing is edited or deleted.",
    "region": "The region's code (gemeenschappelijke regeling).",
    "repealed_by": "The decision repealing it (intrekkingsbesluit).",
    "respond_by": "The deadline for the councils' views.",
    "retroactive_from": "The day it has effect from, when that lies before `on` (terugwerkende "
                        "kracht).",
    "scope": "The subjects the grant covers; left out, the competence as a whole.",
    "seat": "The seat (zetel), e.g. 'voorzitter' or a portfolio (portefeuille).",
    "sha256": "SHA-256 of the document's content: 64 lower-case hex digits.",
    "source_decision": "The grantor's decision (besluit) making the grant; it must be adopted.",
    "subject": "The subject within the competence, where grants are scoped to subjects.",
    "subordinate_to": "The body it is subordinate to (ondergeschikt), e.g. an official to the "
                      "executive; nothing is delegated to a subordinate.",
    "successor": "The body that takes over (rechtsopvolger), if any.",
    "summary": "A short summary (samenvatting).",
    "taken_on": "The decision date: the body must be competent on it.",
    "title": "The name or title.",
    "valid_from": "The first day it applies (valid time; periods are half-open [from, until)).",
    "valid_until": "The first day it no longer applies; left out, open-ended.",
    "vote": "For (voor), against (tegen) or abstain (onthouding).",
    "votes": "The votes (stemming) at the grain known.",
    "votes_against": "Votes against (tegen); left out when unknown.",
    "votes_for": "Votes in favour (voor); left out when unknown.",
    "weight": "The vote's weight (gewogen stemming); 1 if left out.",
}
"""The glossary: what a field of this name means in most commands."""

FIELD_OVERRIDES: dict[tuple[str, str], str] = {
    # `on` is the day of a different act in every command
    ("AbolishBody", "on"): "The first day the body no longer exists (opheffing).",
    ("AcceptCommission", "on"): "The day the commission was accepted.",
    ("AdmitMember", "on"): "The first day the municipality is a member (toetreding).",
    ("ReleaseMember", "on"): "The first day the municipality is no longer a member (uittreding).",
    ("AnnulDecision", "on"): "The day of the annulment (vernietiging).",
    ("BringIntoForce", "on"): "The day it enters into force (inwerkingtreding); not before its "
                              "publication.",
    ("CloseConsultation", "on"): "The day the consultation closed.",
    ("EndAttribution", "on"): "The first day the attribution no longer holds.",
    ("FillSeat", "on"): "The first day the holder holds the seat.",
    ("FulfilCommission", "on"): "The day the commission was fulfilled.",
    ("PublishDecision", "on"): "The day of publication (bekendmaking).",
    ("RenameBody", "on"): "The first day the new name applies.",
    ("RepealDecision", "on"): "The first day the decision no longer applies (intrekking).",
    ("ReportCommissionProgress", "on"): "The day of the progress report.",
    ("RevokeGrant", "on"): "The first day the grant no longer applies (intrekking).",
    ("SubmitView", "on"): "The day the view was given; after the deadline it counts as late.",
    ("VacateSeat", "on"): "The first day the seat is vacant.",
    ("WithdrawCommission", "on"): "The day the commission was withdrawn.",
    # codes of new records
    ("EstablishJurisdiction", "code"): "The jurisdiction's code, e.g. 'dordrecht'.",
    ("EstablishBody", "code"): "The body's code, e.g. 'raad-dordrecht'.",
    ("DefineCompetence", "code"): "The competence's code (bevoegdheid), e.g. "
                                  "'regionale-begroting'.",
    ("GrantInput", "code"): "The grant's code, unique within the competence and jurisdiction.",
    ("ProposeDecision", "code"): "The decision's code (besluit).",
    ("TakeDecision", "code"): "The decision's code (besluit); a proposed decision is taken under "
                              "its code.",
    # names and titles
    ("EstablishJurisdiction", "title"): "The jurisdiction's name, e.g. 'Gemeente Dordrecht'.",
    ("EstablishBody", "title"): "The body's name.",
    ("RenameBody", "title"): "The body's new name.",
    ("DefineCompetence", "title"): "What the competence is about, in words.",
    ("OpenDossier", "title"): "The dossier's title.",
    ("DocumentInput", "title"): "The document's title.",
    ("DecisionSubject", "title"): "The decision's title; needed when it is new to the ledger.",
    ("CorrectDecision", "title"): "The corrected title; left out, unchanged.",
    ("CorrectDecision", "summary"): "The corrected summary; left out, unchanged.",
    ("CorrectDecision", "documents"): "The corrected documents, replacing the earlier list; "
                                      "left out, unchanged.",
    ("EstablishJurisdiction", "kind"): "Municipality, region, province or water board.",
    ("EstablishBody", "kind"): "Council, executive, regional council or board, committee, "
                               "officeholder or official.",
    # the parties and holdings, where a field names something more specific
    ("AttributeCompetence", "body"): "The body the law gives the competence to "
                                     "(bestuursorgaan).",
    ("AttributeCompetence", "legal_basis"): "The law or regulation that attributes it "
                                            "(wettelijke grondslag), e.g. 'Gemeentewet art. 189'.",
    ("EndAttribution", "body"): "The body whose attribution ends (bestuursorgaan).",
    ("TakeDecision", "body"): "The body taking the decision (bestuursorgaan); it must be "
                              "competent on `takenOn`.",
    ("EstablishBody", "jurisdiction"): "The jurisdiction the body belongs to.",
    ("DecisionSubject", "jurisdiction"): "The jurisdiction it is taken for; needed when the "
                                         "decision is new to the ledger.",
    ("DecisionSubject", "competence"): "The competence exercised (bevoegdheid); needed when the "
                                       "decision is new to the ledger.",
    ("TakeDecision", "commission"): "The commission (opdracht) the decision answers, if any; "
                                    "for the record only, as a commission confers no competence.",
    ("TakeDecision", "consultation"): "The consultation (zienswijzeprocedure) it followed; the "
                                      "views received by the decision date are recorded with it.",
    ("FulfilCommission", "decision"): "The decision (besluit) fulfilling it, if one.",
    ("IssueCommission", "subject"): "What is asked.",
    ("IssueCommission", "source_decision"): "The decision (besluit) issuing the commission, if "
                                            "one.",
    ("OpenConsultation", "subject"): "What the councils are consulted on.",
    ("MemberVoteInput", "member"): "The member voting (an officeholder acting in office, "
                                   "public).",
    ("PrivatePersonInput", "address"): "The person's address (sealed).",
}
"""Where a field means something else than the glossary says, by (model or base, field)."""

ENUM_DESCRIPTIONS: dict[str, str] = {
    "BodyKind": "The kind of a body (bestuursorgaan).",
    "JurisdictionKind": "The kind of a jurisdiction.",
    "Outcome": "The outcome of a vote on a decision (besluit).",
    "VoteCast": "How a member voted.",
    "MajorityRule": "The majority a decision needs (vereiste meerderheid).",
}

ENUM_VALUE_DESCRIPTIONS: dict[str, str] = {
    "council": "A municipal council (gemeenteraad).",
    "executive": "An executive: the college van burgemeester en wethouders.",
    "regional_council": "The general board of a region (algemeen bestuur), e.g. the Drechtraad.",
    "regional_board": "The daily board of a region (dagelijks bestuur), e.g. the Drechtsteden "
                      "Bestuur (DSB).",
    "committee": "A committee (commissie).",
    "officeholder": "An officeholder (ambtsdrager), e.g. a burgemeester or portefeuillehouder.",
    "official": "An official (ambtenaar); always subordinate, so never a delegate.",
    "municipality": "A municipality (gemeente).",
    "region": "A region formed by municipalities (gemeenschappelijke regeling).",
    "province": "A province (provincie).",
    "water_board": "A water board (waterschap).",
    "adopted": "Adopted (aangenomen).",
    "rejected": "Rejected (verworpen).",
    "for": "In favour (voor).",
    "against": "Against (tegen).",
    "abstain": "Abstained (onthouding).",
    "simple": "More than half of the votes cast (gewone meerderheid).",
    "two_thirds": "At least two thirds of the votes cast (twee derde meerderheid).",
    "unanimous": "All votes cast in favour (unaniem).",
}
"""Descriptions of the values of the commands' literal choices, by value."""


def type_description(model: type[BaseModel]) -> str | None:
    return TYPE_DESCRIPTIONS.get(model.__name__) or (model.__doc__ or "").strip() or None


def field_description(model: type[BaseModel], field_name: str) -> str | None:
    # the MRO lets one override serve every command built from a shared base (GrantInput)
    for cls in model.__mro__:
        if (cls.__name__, field_name) in FIELD_OVERRIDES:
            return FIELD_OVERRIDES[(cls.__name__, field_name)]
    return FIELD_DESCRIPTIONS.get(field_name)


_inputs: dict[type[BaseModel], type] = {}
_enums: dict[tuple[str, ...], type[Enum]] = {}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def pascal(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


def input_type(model: type[BaseModel], name: str | None = None) -> type:
    """The strawberry input type of a pydantic model (made once per model)."""
    if model in _inputs:
        return _inputs[model]
    name = name or model.__name__
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__annotations__": annotations}
    for field_name, info in model.model_fields.items():
        graphql_type = _graphql_type(info.annotation, f"{name}_{field_name}")
        description = field_description(model, field_name)
        if info.is_required():
            annotations[field_name] = graphql_type
            namespace[field_name] = strawberry.field(description=description)
        else:  # left out, the command's default applies
            annotations[field_name] = graphql_type | None
            namespace[field_name] = strawberry.field(description=description,
                                                     default=strawberry.UNSET)
    cls = type(name, (), namespace)
    _inputs[model] = strawberry.input(cls, name=name, description=type_description(model))
    return _inputs[model]


def plain(value: Any) -> Any:
    """A strawberry input value as the JSON-like value pydantic validates; fields left out stay
    out, so the command's defaults apply."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if getattr(value, f.name) is not strawberry.UNSET}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def _graphql_type(annotation: Any, context: str) -> Any:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _graphql_type(get_args(annotation)[0], context)
    if origin in (Union, UnionType):
        members = [a for a in get_args(annotation) if a is not NoneType]
        return _graphql_type(members[0], context) | None
    if origin is list:
        return list[_graphql_type(get_args(annotation)[0], context)]  # type: ignore[misc]
    if origin is Literal:
        return _enum(tuple(get_args(annotation)), context)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return input_type(annotation)
    if annotation in (str, int, bool, date):
        return annotation
    raise TypeError(f"No GraphQL type for {annotation!r} ({context}).")


def named_enum(name: str) -> type[Enum]:
    """The enum of the commands' choices called `name` in ENUM_NAMES, so that an answer speaks
    of a choice in the values its command took."""
    values = next(values for values, named in ENUM_NAMES.items() if named == name)
    return _enum(values, name)


def _enum(values: tuple[str, ...], context: str) -> type[Enum]:
    if values not in _enums:
        name = ENUM_NAMES.get(values) or pascal(context)
        members = {value.upper(): strawberry.enum_value(
            value, description=ENUM_VALUE_DESCRIPTIONS.get(value)) for value in values}
        _enums[values] = strawberry.enum(
            Enum(name, members),  # type: ignore[misc]
            description=ENUM_DESCRIPTIONS.get(name) or f"One of: {', '.join(values)}.")
    return _enums[values]
