"""Legitimacy rules that look beyond one holding: the citation of the grant relied on (L11) and
the framework a conditional competence needs (L12). Pure functions over domain objects, so they
are tested without a database.

The other rules are checked by the aggregates whose records they concern (the codes of each rule
are catalogued in ledger/refusals.py):

- L1 the body exists on the date: `Body.check_active_on` (ledger/domain/body.py), for the
  deciding body, the grantee of a grant and the body a competence is attributed to.
- L2 a chain of grants runs to the body: `CompetenceHolding.chain_for` over `holders_on` and
  `exercisers_on`, explained by `CompetenceHolding._explain_unusable_grant`
  (ledger/domain/competence.py); a competence never attributed is refused where the ledger looks
  up its holding (`CommandHandlers._holding`, ledger/handlers.py).
- L3 a delegator neither exercises what it delegated nor gets it back, and delegates a subject to
  one body at a time: `CompetenceHolding.chain_for`, `check_no_delegation_cycle` and
  `check_not_delegated_already`.
- L4 delegation: `CompetenceHolding.grant_delegation`, `check_legal_basis` and
  `_check_grant_parties`.
- L5 mandate: `CompetenceHolding.grant_mandate` and `_check_submandate`; a mandate relied on is
  checked by `chain_for` and `_explain_unusable_grant`.
- L6 a grant rests on an adopted decision of its grantor: `Decision.check_adopted_by`
  (ledger/domain/decision.py), called by `CompetenceHolding._check_grant_parties`.
- L7 local decisions stay local: `CompetenceHolding.chain_for`.
- L8 a commission transfers no competence: a `Commission` (ledger/domain/commission.py) records
  no grant, so it is never part of a chain; there is nothing to refuse.
- L9 nothing is edited: `check_reason` (ledger/values.py), `Decision.check_not_taken`,
  `Body.abolish`, `CompetenceHolding.revoke_grant` and `check_not_relied_on_from`.
- L10 valid time is half-open: `Interval` (ledger/values.py), `CompetenceHolding.revoke_grant`
  and `Decision.enter_into_force`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from ledger.domain.decision import Decision
from ledger.errors import RuleViolation, UnknownReference
from ledger.values import ChainLink

DecisionLookup = Callable[[str], Decision | None]


def check_grant_citation(
    chain: list[ChainLink],
    cited_grant: str | None,
    cited_publication: str | None,
    on: date,
    decisions: DecisionLookup,
) -> None:
    """L11: a decision under delegation or mandate cites the grant it relies on and where that
    grant's decision was published (Awb 10:19); a decision in the holder's own name cites none."""
    relied = chain[-1]
    if relied.grant is None:
        if cited_grant is not None:
            raise RuleViolation(
                f"{relied.grantee} holds this competence itself (attributed by "
                f"{relied.legal_basis}); it relies on no grant, yet the decision cites {cited_grant}.",
                code="CITED_GRANT_NOT_IN_CHAIN", field="cited_grant")
        return
    if cited_grant is None:
        raise RuleViolation(
            f"{relied.grantee} decides under {relied.kind} {relied.grant} from {relied.grantor}; "
            "the decision must cite that grant and where its decision was published (Awb 10:19).",
            code="GRANT_NOT_CITED", field="cited_grant")
    if cited_grant != relied.grant:
        raise RuleViolation(
            f"The decision cites {cited_grant}, but on {on} the authority of {relied.grantee} "
            f"runs through {relied.kind} {relied.grant}.",
            code="CITED_GRANT_NOT_IN_CHAIN", field="cited_grant")
    assert relied.source_decision is not None
    source = decisions(relied.source_decision)
    if source is None or source.published_on is None or source.published_on > on:
        raise RuleViolation(
            f"Decision {relied.source_decision}, which granted {relied.grant}, was not published "
            f"by {on}; an unpublished grant gives no authority to rely on.",
            code="GRANT_NOT_PUBLISHED", field="cited_publication")
    if cited_publication != source.publication:
        raise RuleViolation(
            f"Decision {source.code}, which granted {relied.grant}, was published in "
            f"'{source.publication}'; the decision cites '{cited_publication}'.",
            code="PUBLICATION_MISMATCH", field="cited_publication")


def check_framework(
    chain: list[ChainLink],
    framework_decision: str | None,
    on: date,
    decisions: DecisionLookup,
) -> None:
    """L12: where a link makes the competence conditional on another body's framework, the
    decision names an adopted framework decision of that body, taken by the decision date."""
    conditions = [link for link in chain if link.framework_body is not None]
    if not conditions:
        return
    framework_body = conditions[-1].framework_body
    decider = chain[-1].grantee
    if framework_decision is None:
        raise RuleViolation(
            f"{decider} may decide on this only within a framework set by {framework_body}; name "
            f"the framework decision it fits, or propose the decision to {framework_body}.",
            code="FRAMEWORK_REQUIRED", field="framework_decision")
    framework = decisions(framework_decision)
    if framework is None:
        raise UnknownReference(f"No decision {framework_decision} is recorded.",
                               field="framework_decision")
    if (
        framework.body != framework_body
        or framework.outcome != "adopted"
        or framework.taken_on is None
        or framework.taken_on > on
        or framework.annulled_on is not None
        or (framework.repealed_on is not None and framework.repealed_on <= on)
    ):
        raise RuleViolation(
            f"Decision {framework_decision} is not an adopted framework of {framework_body} "
            f"standing on {on} (taken by then, not annulled or repealed), so it cannot carry "
            "this decision.",
            code="FRAMEWORK_INVALID", field="framework_decision")
