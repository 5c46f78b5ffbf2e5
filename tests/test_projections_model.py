"""Property: for random command sequences, every read model (projections/) equals one computed in
memory from the same events by a deliberately naive reference (tests/projection_reference.py),
and every bitemporal answer ("valid on date D, as known at ledger position P") equals a naive
replay of the events up to P.

The command sequences are those of tests/test_rules_model.py (grants, revocations, abolitions and
decisions checked against the rules' reference model), with more: late-recorded delegations that
take the ground from under decisions already taken (so verdicts turn), the rest of a decision's
life, ends and new attributions, structure, commissions, consultations, repeated idempotency keys,
and the projections catching up in the middle of a sequence and in batches of drawn sizes.

One database serves the whole property; every example works under its own code prefix, so the
reference replays only the example's own events (and the event counts of the whole ledger).
The counterexamples it found are kept at the end as small fixed cases."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

import asyncpg
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ledger import commands as c
from ledger.application import Ledger
from ledger.errors import LedgerError
from ledger.pipeline import CommandContext
from projections.connection import create_pool
from projections.queries import audit, commissions, competences, decisions, structure
from projections.queries.pagination import Page, PageRequest, encode_cursor
from projections.runner import Runner, all_projections
from tests import projection_reference as ref
from tests.reference_model import MAttribution, MGrant
from tests.test_rules_model import (
    DATES,
    ROLES,
    STEPS,
    WEIGHTED,
    Example,
    describe,
    draw_date,
    draw_set_up,
    note,
    role_of,
    safely,
    set_up,
)

pytestmark = pytest.mark.database

SUBJECTS: list[str | None] = [None, "a", "b"]  # every subject a scope in the sequences names
ASKED_SUBJECTS: list[str | None] = [*SUBJECTS, "zz"]  # and one no scope names
ACTORS = ["griffie", "system", "auditor-import"]
SEATS = ["voorzitter", "lid"]
BEFORE_ALL = date(1999, 12, 31)  # before any body of an example was established
LONG_AFTER = date(2040, 1, 1)
T = TypeVar("T")


# Running the read side from a synchronous hypothesis test -----------------------------------


class ReadSide:
    """The projections of the test database, run and read on an event loop of their own."""

    def __init__(self, loop: asyncio.Runner, pool: asyncpg.Pool) -> None:
        self.loop = loop
        self.pool = pool

    def run(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        async def on_a_connection() -> T:
            async with self.pool.acquire() as conn:
                return await work(conn)

        return self.loop.run(on_a_connection())

    def catch_up(self, runner: Runner) -> None:
        async def all_of_it() -> None:
            while await runner.catch_up():
                pass

        self.loop.run(all_of_it())


@pytest.fixture
def read_side(ledger: Ledger, database_url: str) -> Iterator[ReadSide]:
    with asyncio.Runner() as loop:
        pool = loop.run(create_pool(database_url, max_size=2))
        try:
            loop.run(Runner(pool, all_projections()).setup())
            yield ReadSide(loop, pool)
        finally:
            loop.run(pool.close())


# One example: the rules test's example, with what the extra steps need -------------------------


@dataclass
class Scenario:
    ex: Example
    data: st.DataObject
    read: ReadSide
    runner: Runner
    proposals: dict[str, str | None] = field(default_factory=dict)  # code: subject, not taken
    late: list[str] = field(default_factory=list)  # delegations recorded after a decision
    commissions: list[str] = field(default_factory=list)
    consultations: list[str] = field(default_factory=list)
    accepted: list[tuple[c.Command, CommandContext]] = field(default_factory=list)
    counter: Iterator[int] = field(default_factory=itertools.count)

    @property
    def p(self) -> str:
        return self.ex.p

    def draw(self, strategy: st.SearchStrategy[T], label: str) -> T:
        return self.data.draw(strategy, label=label)

    def pick(self, options: list[T], label: str) -> T:
        return self.data.draw(st.sampled_from(options), label=label)

    def new_code(self, kind: str) -> str:
        return f"{self.p}{kind}{next(self.counter)}"

    def record(self, command: c.Command) -> bool:
        """Sends a command the rules' model has no say on: whatever the ledger accepts, the
        read side must show. Actors and correlation ids vary, for the audit trail."""
        context = CommandContext(self.new_code("x"), actor=self.pick(ACTORS, "actor"),
                                 correlation_id=self.pick([None, f"{self.p}batch"], "correlation"))
        try:
            self.ex.ledger.execute(command, context)
        except LedgerError as refusal:
            self.ex.log.append(f"{describe(command, self.p)} -> {refusal.code}")
            note(f"{command.name}: {refusal.code}")
            return False
        self.ex.log.append(f"{describe(command, self.p)} -> accepted")
        note(f"{command.name}: accepted")
        self.accepted.append((command, context))
        return True

    def c_decisions(self) -> list[str]:
        """The decisions taken under the competence C of the example."""
        return [code for code, _, _ in self.ex.model.decisions]


def draw_day(sc: Scenario, label: str, near: list[date] | None = None) -> date:
    if near and sc.draw(st.booleans(), f"{label}_near"):
        return sc.pick(list(near), label)
    return draw_date(sc.data, sc.ex.model, label)


# Extra steps ------------------------------------------------------------------------------


def step_late_delegation(sc: Scenario) -> None:
    """A delegation recorded after a decision but valid from its date or shortly before, from
    whoever held the competence then: the decision's body may lose the ground it decided on."""
    model = sc.ex.model
    if not model.decisions:
        return
    _, taken_on, _ = sc.pick(model.decisions, "decided")
    valid_from = sc.pick([taken_on, *[d for d in DATES if d <= taken_on][-2:]], "valid_from")
    holders = safely(lambda: [h for h, _ in model.holders(valid_from, None)]) or []
    if not holders:
        return
    grantor = role_of(sc.ex, sc.pick(holders, "grantor"))
    grantee = sc.pick([r for r in ROLES if r not in (grantor, "off")], "grantee")
    scope = sc.pick([None, None, ["a"], ["b"]], "scope")
    code = f"{sc.p}g{next(sc.ex.grant_counter)}"
    source = sc.ex.source(grantor, 1)
    command = c.GrantDelegation(
        competence=f"{sc.p}c", jurisdiction=f"{sc.p}m", code=code, grantor=sc.ex.body(grantor),
        grantee=sc.ex.body(grantee), legal_basis="Delegatiebesluit, Awb 10:15",
        source_decision=source, valid_from=valid_from, scope=scope)
    verdict = safely(lambda: model.grant_delegation(
        code, sc.ex.body(grantor), sc.ex.body(grantee), source, valid_from, None, scope))
    if sc.ex.run(command, verdict):
        note("late delegation accepted")
        model.record_grant(MGrant(code, "delegation", sc.ex.body(grantor), sc.ex.body(grantee),
                                  source, valid_from, None, scope))
        sc.late.append(code)
        if sc.draw(st.booleans(), "regretted"):
            revoke_early(sc, code, [valid_from, taken_on])


def step_early_revocation(sc: Scenario) -> None:
    """A delegation revoked from (nearly) its first day, recorded late: whoever it took the
    competence from holds it again, and decisions it had made illegitimate may be so no more."""
    model = sc.ex.model
    late = [g for g in model.grants if g.code in sc.late and not g.revocations]
    delegations = [g for g in model.grants if g.kind == "delegation" and not g.revocations]
    if not delegations:
        return
    grant = sc.pick(late * 3 + delegations, "grant")
    revoke_early(sc, grant.code, [grant.valid_from, *[d for d in DATES if d > grant.valid_from][:2]])


def revoke_early(sc: Scenario, code: str, days: list[date]) -> None:
    on = sc.pick(days, "on")
    command = c.RevokeGrant(competence=f"{sc.p}c", jurisdiction=f"{sc.p}m", grant=code, on=on,
                            reason="Ten onrechte verleend")
    if sc.ex.run(command, safely(lambda: sc.ex.model.revoke_grant(code, on))):
        note("early revocation accepted")
        sc.ex.model.record_revocation(code, on)


def step_lifecycle(sc: Scenario) -> None:
    """The rest of a decision's life: proposed, taken after a proposal (adopted or rejected),
    published, in force (possibly retroactively), repealed, annulled, corrected."""
    action = sc.pick(["propose", "take", "publish", "in_force", "repeal", "annul", "correct"],
                     "lifecycle")
    if action == "propose":
        propose(sc)
    elif action == "take":
        take_proposed(sc)
    elif sc.c_decisions():
        code = sc.pick(sc.c_decisions(), "decision")
        taken_on = next(on for taken, on, _ in sc.ex.model.decisions if taken == code)
        later_step(sc, action, code, taken_on)


def propose(sc: Scenario) -> None:
    code = sc.new_code("prop")
    subject = sc.pick(SUBJECTS, "subject")
    on = sc.pick([None, *DATES[::4]], "proposed_on")
    if sc.record(c.ProposeDecision(
            code=code, title="Voorstel", summary="Een voorstel aan de raad",
            competence=f"{sc.p}c", jurisdiction=f"{sc.p}m", subject=subject,
            proposed_by=sc.ex.body(sc.pick(ROLES, "proposer")), proposed_on=on)):
        sc.proposals[code] = subject


def take_proposed(sc: Scenario) -> None:
    """A proposal taken by a holder of C in its own name; the rules' model says whether it may."""
    if not sc.proposals:
        return
    model = sc.ex.model
    code = sc.pick(sorted(sc.proposals), "proposal")
    subject = sc.proposals[code]  # the decision keeps the subject it was registered with
    on = draw_date(sc.data, model, "taken_on")
    holders = safely(lambda: [h for h, _ in model.holders(on, subject)]) or []
    body = sc.pick(holders or [sc.ex.body("council")], "body")
    outcome = sc.pick(["adopted", "rejected"], "outcome")
    command = c.TakeDecision(code=code, body=body, taken_on=on, outcome=outcome)
    if sc.ex.run(command, safely(lambda: model.take_decision(code, body, on, subject, None,
                                                             None))):
        del sc.proposals[code]
        model.record_decision(code, on, safely(lambda: model.relied_on(body, on, subject, None)))


def later_step(sc: Scenario, action: str, code: str, taken_on: date) -> None:
    on = draw_day(sc, "on", near=[taken_on])
    n = next(sc.counter)
    command: c.Command
    if action == "publish":
        command = c.PublishDecision(decision=code, on=on, publication=f"Gemeenteblad {n}")
    elif action == "in_force":
        back = sc.pick([None, taken_on, *DATES[::6]], "retroactive_from")
        command = c.BringIntoForce(decision=code, on=on, retroactive_from=back)
    elif action == "repeal":
        command = c.RepealDecision(decision=code, on=on, repealed_by=sc.pick(
            sc.c_decisions(), "repealed_by"), reason="Ingetrokken")
    elif action == "annul":
        command = c.AnnulDecision(decision=code, on=on, annulled_by="Raad van State",
                                  reason="Vernietigd in beroep")
    else:
        title = sc.pick([None, f"Gecorrigeerd besluit {n}"], "title")
        summary = sc.pick([None, f"Samenvatting {n}"], "summary")
        command = c.CorrectDecision(decision=code, reason="Kennelijke verschrijving",
                                    title=title, summary=summary)
    sc.record(command)


def step_attribution(sc: Scenario) -> None:
    """The attribution of C ends, and a new one may start where none runs (to the council, say,
    after a reorganisation)."""
    model = sc.ex.model
    open_ones = [a for a in model.attributions if a.valid_until is None]
    if open_ones:
        attribution = open_ones[0]
        on = sc.pick([draw_date(sc.data, model, "on"), *DATES[-6:]], "end_on")
        if not sc.record(c.EndAttribution(competence=f"{sc.p}c", jurisdiction=f"{sc.p}m",
                                          body=attribution.body, on=on, reason="Wetswijziging")):
            return
        attribution.valid_until = on
        if not sc.draw(st.booleans(), "succeeded"):
            return
    last_end = max(a.valid_until for a in model.attributions if a.valid_until is not None)
    valid_from = sc.pick([last_end, *[d for d in DATES if d > last_end][:3]], "valid_from")
    years = sc.pick([None, None, 2, 5], "years")
    until = None if years is None else valid_from.replace(year=valid_from.year + years)
    body = sc.ex.body(sc.pick(["council", "exec"], "body"))
    if sc.record(c.AttributeCompetence(
            competence=f"{sc.p}c", jurisdiction=f"{sc.p}m", body=body,
            legal_basis="Wet op de reorganisatie", valid_from=valid_from, valid_until=until)):
        model.attributions.append(MAttribution(body, valid_from, until))


def step_structure(sc: Scenario) -> None:
    action = sc.pick(["rename", "fill", "vacate", "admit", "release"], "structure")
    body = sc.ex.body(sc.pick(ROLES, "body"))
    on = draw_day(sc, "on", near=[date(2000, 1, 1)])
    n = next(sc.counter)
    command: c.Command
    if action == "rename":
        command = c.RenameBody(body=body, title=f"Orgaan {n}", on=on)
    elif action == "fill":
        command = c.FillSeat(body=body, seat=sc.pick(SEATS, "seat"), holder=f"Wethouder {n}",
                             group=sc.pick([None, "VVD", "PvdA"], "group"), on=on)
    elif action == "vacate":
        command = c.VacateSeat(body=body, seat=sc.pick(SEATS, "seat"), on=on, reason="Ontslag")
    elif action == "admit":
        command = c.AdmitMember(region=f"{sc.p}r", member=f"{sc.p}m", on=on)
    else:
        command = c.ReleaseMember(region=f"{sc.p}r", member=f"{sc.p}m", on=on)
    sc.record(command)


def step_commission(sc: Scenario) -> None:
    action = sc.pick(["issue", "issue", "accept", "progress", "fulfil", "withdraw"], "commission")
    on = draw_day(sc, "on")
    if action == "issue" or not sc.commissions:
        code = sc.new_code("opdr")
        due = sc.pick([None, *DATES[::3]], "due_on")
        if sc.record(c.IssueCommission(
                code=code, subject="Werk voorstellen uit", issued_by=sc.ex.body("council"),
                issued_to=sc.ex.body(sc.pick(["exec", "board"], "to")), issued_on=on,
                due_on=due, binding=sc.draw(st.booleans(), "binding"))):
            sc.commissions.append(code)
        return
    code = sc.pick(sc.commissions, "code")
    command: c.Command
    if action == "accept":
        command = c.AcceptCommission(commission=code, on=on)
    elif action == "progress":
        command = c.ReportCommissionProgress(commission=code, on=on, note="Voortgang")
    elif action == "fulfil":
        decided = sc.pick([None, *sc.c_decisions()], "by_decision")
        command = c.FulfilCommission(commission=code, on=on, decision=decided)
    else:
        command = c.WithdrawCommission(commission=code, on=on, reason="Niet meer nodig")
    sc.record(command)


def step_consultation(sc: Scenario) -> None:
    action = sc.pick(["open", "view", "view", "close"], "consultation")
    on = draw_day(sc, "on")
    if action == "open" or not sc.consultations:
        code = sc.new_code("zw")
        respond_by = sc.pick([d for d in DATES if d > on] or [LONG_AFTER], "respond_by")
        if sc.record(c.OpenConsultation(
                code=code, subject="Begroting", opened_by=sc.ex.body("board"),
                consulted=[sc.ex.body("council"), sc.ex.body("exec")], opened_on=on,
                respond_by=respond_by)):
            sc.consultations.append(code)
        return
    code = sc.pick(sc.consultations, "code")
    if action == "view":
        sc.record(c.SubmitView(consultation=code, council=sc.ex.body(sc.pick(ROLES, "council")),
                               on=on, position=sc.pick(["Instemmend", "Bezwaar"], "stance")))
    else:
        sc.record(c.CloseConsultation(consultation=code, on=on))


def step_repeat(sc: Scenario) -> None:
    """A retry under the same idempotency key: the first result stands and nothing is added."""
    if not sc.accepted:
        return
    command, context = sc.pick(sc.accepted, "repeat")
    before = sc.ex.ledger.position()
    assert sc.ex.ledger.execute(command, context).replayed
    assert sc.ex.ledger.position() == before
    sc.ex.log.append(f"repeat {context.idempotency_key.replace(sc.p, '')}")


def step_catch_up(sc: Scenario) -> None:
    """The projections apply what is there now; later events come in later batches."""
    sc.read.catch_up(sc.runner)
    sc.ex.log.append("(projections catch up)")


def rule_step(name: str) -> Callable[[Scenario], None]:
    return lambda sc: STEPS[name](sc.data, sc.ex)


EXTRA_STEPS: dict[str, Callable[[Scenario], None]] = {
    "late_delegation": step_late_delegation,
    "early_revocation": step_early_revocation,
    "lifecycle": step_lifecycle,
    "attribution": step_attribution,
    "structure": step_structure,
    "commission": step_commission,
    "consultation": step_consultation,
    "repeat": step_repeat,
    "catch_up": step_catch_up,
}
ALL_STEPS = {**{name: rule_step(name) for name in STEPS}, **EXTRA_STEPS}
ALL_WEIGHTED = (WEIGHTED + ["late_delegation"] * 8 + ["early_revocation"] * 6
                + ["lifecycle"] * 10 + ["attribution"] * 3
                + ["structure"] * 3 + ["commission"] * 3 + ["consultation"] * 3 + ["repeat"]
                + ["catch_up"] * 3)


# Comparing ---------------------------------------------------------------------------------


class Mismatch(AssertionError):
    pass


def expect(what: str, actual: Any, expected: Any, sc: Scenario, **where: Any) -> None:
    if actual == expected:
        return
    at = ", ".join(f"{k}={v}" for k, v in where.items())
    story = "\n  ".join(sc.ex.log)
    detail = f"  projection: {actual}\n  reference:  {expected}"
    if isinstance(actual, list) and isinstance(expected, list):
        detail = "\n".join(
            [f"  only in the projection: {row}" for row in actual if row not in expected]
            + [f"  only in the reference:  {row}" for row in expected if row not in actual]
            + ([f"  order or counts differ:\n{detail}"]
               if all(row in expected for row in actual) and all(r in actual for r in expected)
               else []))
    if isinstance(actual, Counter) and isinstance(expected, Counter):
        detail = "\n".join([f"  only in the projection: {row}" for row in actual - expected]
                           + [f"  only in the reference:  {row}" for row in expected - actual])
    raise Mismatch(f"{what} differs ({at}):\n{detail}\n"
                   f"commands (prefix {sc.p} left out):\n  {story}")


def picked(rows: list[dict[str, Any]], keys: list[str]) -> list[dict[str, Any]]:
    return [{key: row[key] for key in keys} for row in rows]


async def every_page(fetch: Callable[[PageRequest], Awaitable[Page[dict[str, Any]]]],
                     first: int = 5, after: str | None = None) -> list[dict[str, Any]]:
    """All items of a keyset-paged list, following the cursors (small pages on purpose)."""
    items: list[dict[str, Any]] = []
    while True:
        page = await fetch(PageRequest(first, after))
        items += page.items
        if not page.has_next_page:
            return items
        after = page.end_cursor


def map_entry(found: competences.Competent, history: ref.History, known_at: int | None
              ) -> ref.MapEntry:
    """The projection's answer in the reference's terms: chain links by kind, grantee, grant and
    period, and which of the holding's subjects the entry covers."""
    entry = found.entry
    chain = tuple(
        (link["kind"], link["grantee"], link["grant"], date.fromisoformat(link["valid_from"]),
         date.fromisoformat(link["valid_until"]) if link["valid_until"] else None)
        for link in entry.chain)
    assert entry.via == chain[-1][0], f"an entry's `via` is its last link: {entry}"
    holding = ref.holdings(history, known_at)[(found.competence, found.jurisdiction)]
    subjects = ref.subjects_of(holding)
    covers = frozenset(s for s in subjects if entry.covers(s))
    return ref.MapEntry(found.competence, entry.body, chain, covers, entry.valid_from,
                        entry.valid_until)


def iso_dates(value: Any) -> Any:
    """The chain as jsonb gives it back: dates as ISO strings."""
    if isinstance(value, list):
        return [iso_dates(item) for item in value]
    if isinstance(value, dict):
        return {key: iso_dates(item) for key, item in value.items()}
    return value.isoformat() if isinstance(value, date) else value


def sample(items: list[T], most: int) -> list[T]:
    """At most `most` of `items`, spread evenly and keeping the first and last."""
    if len(items) <= most:
        return items
    step = (len(items) - 1) / (most - 1)
    return [items[round(i * step)] for i in range(most)]


# What to ask about --------------------------------------------------------------------------


def positions_of(history: ref.History, wanted: Callable[[ref.Event], bool]) -> list[int | None]:
    """Positions where something asked about changed, the positions just before them, and
    None (everything known)."""
    found: set[int] = set()
    for event in history.events:
        if wanted(event):
            found |= {event.position, event.position - 1}
    return [*sorted(found), None]


def dates_around(days: set[date]) -> list[date]:
    """The dates themselves and the days before them (half-open periods: both sides of each
    boundary), and dates before and after everything."""
    around = {BEFORE_ALL, LONG_AFTER} | days | {ref.day_before(d) for d in days}
    return sorted(around)


def holding_dates(history: ref.History, sc: Scenario) -> set[date]:
    days: set[date] = set()
    for holding in ref.holdings(history, None).values():
        days |= set(ref.boundaries(holding))
    days |= {on for _, on, _ in sc.ex.model.decisions}
    return days


def is_map_change(event: ref.Event) -> bool:
    return event.record == "CompetenceHolding" and event.type not in ("Opened", "Exercised")


def changes_c(history: ref.History, sc: Scenario) -> Callable[[ref.Event], bool]:
    """Whether an event changes the map of the example's competence C."""
    held = (f"{sc.p}c", f"{sc.p}m")
    return lambda event: is_map_change(event) and ref.holding_of(history, event) == held


# The checks --------------------------------------------------------------------------------


async def check_competence_map(conn: asyncpg.Connection, history: ref.History,
                               sc: Scenario) -> None:
    jurisdiction, competence = f"{sc.p}m", f"{sc.p}c"
    days = dates_around(holding_dates(history, sc))
    for known_at in sample(positions_of(history, changes_c(history, sc)), 14):
        for day in days:
            answer = await competences.competence_map(conn, jurisdiction, day, known_at)
            expected = ref.competence_map(history, jurisdiction, day, known_at)
            expect("competence map", Counter(map_entry(found, history, known_at)
                                             for found in answer), expected,
                   sc, on=day, known_at=known_at)
        holding = ref.holdings(history, known_at).get((competence, jurisdiction))
        if holding is None:
            continue
        for day in sample(days, 8) if known_at is not None else days:
            for subject in ASKED_SUBJECTS:
                answer = await competences.who_is_competent(conn, competence, jurisdiction, day,
                                                            subject, known_at)
                expect("who is competent", Counter(
                    (m.entry.body, map_entry(m, history, known_at).chain) for m in answer),
                    Counter(ref.exercisers(holding, day, subject)), sc,
                    on=day, subject=subject, known_at=known_at)


GRANT_KEYS = ["competence", "code", "kind", "grantor", "grantee", "valid_from", "valid_until",
              "scope", "allows_submandate", "parent", "source_decision", "recorded_position",
              "revoked_on", "revocation_reason", "revoked_position", "status"]


async def check_grants(conn: asyncpg.Connection, history: ref.History, sc: Scenario) -> None:
    jurisdiction = f"{sc.p}m"
    days = dates_around(holding_dates(history, sc))
    for known_at in sample(positions_of(history, changes_c(history, sc)), 10):
        for day in days:
            def page(request: PageRequest, day: date = day, known_at: int | None = known_at
                     ) -> Awaitable[Page[dict[str, Any]]]:
                return competences.grants(conn, request, day, known_at,
                                          competences.GrantFilter(jurisdiction=jurisdiction))

            expected = ref.grant_register(history, jurisdiction, day, known_at)
            expect("grant register", picked(await every_page(page), GRANT_KEYS), expected, sc,
                   on=day, known_at=known_at)
    for day in days:
        await check_grant_filters(conn, history, jurisdiction, day, sc)


async def check_grant_filters(conn: asyncpg.Connection, history: ref.History, jurisdiction: str,
                              day: date, sc: Scenario) -> None:
    everything = ref.grant_register(history, jurisdiction, day, None)

    async def fetch(**where: Any) -> list[dict[str, Any]]:
        found = await competences.grants(conn, PageRequest(100), day, None,
                                         competences.GrantFilter(jurisdiction=jurisdiction,
                                                                 **where))
        return picked(found.items, GRANT_KEYS)

    for status in ("active", "pending", "expired", "revoked"):
        expect(f"grants {status}", await fetch(status=status),
               [g for g in everything if g["status"] == status], sc, on=day)
    for days in (0, 180, 3650):
        expect(f"grants expiring within {days} days", await fetch(expiring_within_days=days),
               [g for g in everything if g["status"] == "active"
                and (end := ref.effective_end(g)) is not None and (end - day).days <= days],
               sc, on=day)


DECISION_KEYS = ["code", "title", "summary", "competence", "subject", "recorded_position",
                 "proposed_by", "proposed_on", "body", "taken_on", "outcome", "chain",
                 "cited_grant", "published_on", "publication", "in_force_from", "repealed_on",
                 "repealed_by", "annulled_on", "annulled_by", "status", "legitimate",
                 "verdict_position", "verdict_differs_later"]


def decision_dates(history: ref.History, sc: Scenario) -> set[date]:
    days = set(holding_dates(history, sc))
    for decision in ref.decisions_as_known(history, None):
        days |= {d for d in (decision.proposed_on, decision.taken_on, decision.published_on,
                             decision.in_force_from, decision.repealed_on, decision.annulled_on)
                 if d is not None}
    return days


def touches_decisions(event: ref.Event) -> bool:
    return event.record == "Decision" or is_map_change(event) or event.type == "Exercised"


async def check_decisions(conn: asyncpg.Connection, history: ref.History, sc: Scenario) -> None:
    jurisdiction = f"{sc.p}m"
    days = dates_around(decision_dates(history, sc))
    for known_at in sample(positions_of(history, touches_decisions), 16):
        for day in days if known_at is None else sample(days, 10):
            def page(request: PageRequest, day: date = day, known_at: int | None = known_at
                     ) -> Awaitable[Page[dict[str, Any]]]:
                return decisions.decisions(conn, request, day, known_at,
                                           decisions.DecisionFilter(jurisdiction=jurisdiction))

            expected = [row | {"chain": iso_dates(row["chain"])}
                        for row in ref.decision_register(history, jurisdiction, day, known_at)]
            expect("decision register", picked(await every_page(page, first=7), DECISION_KEYS),
                   expected, sc, on=day, known_at=known_at)
            for row in expected[-2:]:  # one decision read by itself answers the same
                one = await decisions.decision(conn, row["code"], day, known_at)
                assert one is not None
                expect("decision", picked([one], DECISION_KEYS), [row], sc, on=day,
                       known_at=known_at)
            if day in days[::5]:
                await check_decision_filters(conn, expected, day, known_at, sc)
    turns = [verdict for code in sc.c_decisions() for _, verdict in ref.verdict_turns(history, code)]
    if False in turns:
        note("a verdict turned: not legitimate")
    if True in turns:
        note("a verdict turned back: legitimate again")


async def check_decision_filters(conn: asyncpg.Connection, register: list[dict[str, Any]],
                                 day: date, known_at: int | None, sc: Scenario) -> None:
    """The register's filters pick out of the whole register what the reference picks."""
    jurisdiction = f"{sc.p}m"

    async def fetch(**where: Any) -> list[dict[str, Any]]:
        found = await decisions.decisions(conn, PageRequest(100), day, known_at,
                                          decisions.DecisionFilter(jurisdiction=jurisdiction,
                                                                   **where))
        return picked(found.items, DECISION_KEYS)

    for status in {row["status"] for row in register} | {"in_force"}:
        expect(f"decisions {status}", await fetch(status=status),
               [row for row in register if row["status"] == status], sc, on=day,
               known_at=known_at)
    for role in ROLES:
        expect(f"decisions of {role}", await fetch(body=sc.ex.body(role)),
               [row for row in register if row["body"] == sc.ex.body(role)], sc, on=day,
               known_at=known_at)
    start, end = sorted(sc.pick(DATES, "taken_from_or_until") for _ in range(2))
    expect(f"decisions taken in [{start}, {end})", await fetch(taken_from=start, taken_until=end),
           [row for row in register if row["taken_on"] is not None
            and start <= row["taken_on"] < end], sc, on=day, known_at=known_at)


AUDIT_KEYS = ["position", "record_id", "kind", "code", "version", "event_type", "recorded_at",
              "actor", "command_id", "correlation_id", "reason", "decision"]


async def check_audit_trail(conn: asyncpg.Connection, history: ref.History,
                            everything: ref.History, start: int, sc: Scenario) -> None:
    def page(request: PageRequest, where: audit.AuditFilter | None = None
             ) -> Awaitable[Page[dict[str, Any]]]:
        return audit.audit_trail(conn, request, where or audit.AuditFilter())

    trail = ref.audit_trail(history)
    answer = await every_page(page, first=50, after=encode_cursor("event", start))
    expect("audit trail", picked(answer, AUDIT_KEYS), trail, sc, after=start)
    holding = f"{sc.p}c@{sc.p}m"
    answer = await every_page(lambda r: page(r, audit.AuditFilter(kind="holding", code=holding)))
    expect("audit trail of the holding", picked(answer, AUDIT_KEYS),
           [e for e in trail if e["code"] == holding], sc)
    some = sc.pick(trail, "audited")
    where = audit.AuditFilter(actor=some["actor"], correlation_id=some["correlation_id"])
    answer = await every_page(lambda r: page(r, where), first=100,
                              after=encode_cursor("event", start))
    expect("audit trail of an actor", picked(answer, AUDIT_KEYS),
           [e for e in trail if (e["actor"], e["correlation_id"])
            == (some["actor"], some["correlation_id"])], sc)
    expect("event counts", Counter(await audit.event_counts(conn)),
           ref.event_counts(everything.events), sc)


def is_structure(event: ref.Event) -> bool:
    return event.record in ("Body", "Jurisdiction")


async def check_structure(conn: asyncpg.Connection, history: ref.History, sc: Scenario) -> None:
    days = {e.data[k] for e in history.events if is_structure(e)
            for k in ("on", "established_on") if k in e.data}
    for known_at in sample(positions_of(history, is_structure), 10):
        for day in dates_around(days):
            expect("members", await structure.members_on(conn, f"{sc.p}r", day, known_at),
                   ref.members_on(history, f"{sc.p}r", day, known_at), sc, on=day,
                   known_at=known_at)
            for role in ROLES:
                code = sc.ex.body(role)
                found = await structure.body(conn, code, day, known_at)
                expected = ref.body_on(history, code, day, known_at)
                if found is not None and expected is not None:
                    found = picked([found], list(expected))[0]
                expect("body", found, expected, sc, on=day, known_at=known_at)


COMMISSION_KEYS = ["code", "subject", "issued_by", "issued_to", "issued_on", "due_on", "binding",
                   "recorded_position", "accepted_on", "fulfilled_on", "fulfilled_by_decision",
                   "withdrawn_on", "withdrawal_reason", "progress_reports", "state"]
CONSULTATION_KEYS = ["code", "subject", "opened_by", "consulted", "opened_on", "respond_by",
                     "recorded_position", "closed_on", "views_at_closing", "closed", "views",
                     "not_responded"]


async def check_commissions(conn: asyncpg.Connection, history: ref.History,
                            sc: Scenario) -> None:
    def wanted(event: ref.Event) -> bool:
        return event.record in ("Commission", "Consultation")

    days = {e.data[k] for e in history.events if wanted(e)
            for k in ("on", "issued_on", "due_on", "opened_on", "respond_by")
            if e.data.get(k) is not None}
    council, board = sc.ex.body("council"), sc.ex.body("board")
    for known_at in sample(positions_of(history, wanted), 10):
        for day in sample(dates_around(days), 10):
            rows = (await commissions.commissions(conn, PageRequest(100), day, known_at,
                                                  commissions.CommissionFilter(
                                                      issued_by=council))).items
            expect("commissions", picked(rows, COMMISSION_KEYS),
                   ref.commissions(history, day, known_at, {council}), sc, on=day,
                   known_at=known_at)
            rows = (await commissions.consultations(conn, PageRequest(100), day, known_at,
                                                    commissions.ConsultationFilter(
                                                        opened_by=board))).items
            for row in rows:
                row["views"] = [{k: v for k, v in view.items() if k != "document"}
                                for view in row["views"]]
            expected = ref.consultations(history, day, known_at, {board})
            for row in expected:
                row["views"] = iso_dates(row["views"])
            expect("consultations", picked(rows, CONSULTATION_KEYS), expected, sc, on=day,
                   known_at=known_at)


# The property ------------------------------------------------------------------------------


@pytest.fixture
def everything() -> ref.History:
    """What the reference has read of the test's ledger so far, over all examples."""
    return ref.History()


# No shrinking: an example costs a second of database work and shrinking one took minutes; a
# failure names the answer that differs, where (on, known_at) and every command of the example.
@settings(max_examples=40, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_read_models_agree_with_a_naive_replay(ledger: Ledger, read_side: ReadSide,
                                               everything: ref.History,
                                               data: st.DataObject) -> None:
    """The projections follow each example in batches of a drawn size (some mid-sequence);
    then every read model is asked about many dates as known at many positions."""
    everything.extend(ledger.store.chain_rows(after=everything.last, limit=10**9))
    start = everything.last
    batch = data.draw(st.sampled_from([1, 3, 10, 5000]), label="batch_size")
    runner = Runner(read_side.pool, all_projections(), batch_size=batch)
    read_side.catch_up(runner)
    sc = Scenario(draw_set_up(ledger, data), data, read_side, runner)
    for _ in range(data.draw(st.integers(5, 25), label="length")):
        ALL_STEPS[sc.pick(ALL_WEIGHTED, "step")](sc)
    read_side.catch_up(runner)
    everything.extend(ledger.store.chain_rows(after=everything.last, limit=10**9))
    history = everything.since(start)

    async def check(conn: asyncpg.Connection) -> None:
        await check_audit_trail(conn, history, everything, start, sc)
        await check_competence_map(conn, history, sc)
        await check_grants(conn, history, sc)
        await check_decisions(conn, history, sc)
        await check_structure(conn, history, sc)
        await check_commissions(conn, history, sc)

    read_side.run(check)


# The counterexamples the property found, kept as small fixed cases ---------------------------


def fixed_world(ledger: Ledger) -> Example:
    """The rules test's set-up: C attributed to the executive of municipality m since 2000, a
    council, a regional board, an official, and published decisions grants can rest on."""
    return set_up(ledger, delegable=True, mandatable=True, official_jurisdiction="m",
                  official_superior="exec", late_publication=date(2005, 1, 1))


def send(ex: Example, command: c.Command) -> int:
    """Runs a command that must be accepted; returns the ledger position after it."""
    ex.ledger.execute(command, CommandContext(f"{ex.p}fixed{next(ex.keys)}"))
    return ex.ledger.position()


def delegation(ex: Example, code: str, grantee: str, valid_from: date,
               scope: list[str] | None = None) -> c.GrantDelegation:
    return c.GrantDelegation(
        competence=f"{ex.p}c", jurisdiction=f"{ex.p}m", code=f"{ex.p}{code}",
        grantor=ex.body("exec"), grantee=ex.body(grantee), legal_basis="Awb 10:15",
        source_decision=ex.source("exec", 1), valid_from=valid_from, scope=scope)


@asynccontextmanager
async def projected(ledger: Ledger, database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the projections, caught up one event per batch (as a runner does live)."""
    pool = await create_pool(database_url, max_size=2)
    try:
        runner = Runner(pool, all_projections(), batch_size=1)
        await runner.setup()
        while await runner.catch_up():
            pass
        yield pool
    finally:
        await pool.close()


def replayed(ledger: Ledger) -> ref.History:
    history = ref.History()
    history.extend(ledger.store.chain_rows(limit=10**9))
    return history


async def test_a_scoped_delegation_takes_its_subjects_from_the_delegator(
        ledger: Ledger, database_url: str) -> None:
    """The executive delegates subject 'a' of C to the board from 2008-07-01. On 2009-01-01 the
    ledger names the board alone for 'a' and refuses a decision of the executive on 'a'
    (DELEGATED_AWAY); the map shows the executive for the competence as a whole (`subjects`
    None) from 2000 on, without end, so who_is_competent(subject='a') names it too."""
    ex = fixed_world(ledger)
    send(ex, delegation(ex, "g-a", "board", date(2008, 7, 1), scope=["a"]))
    competence, jurisdiction, on = f"{ex.p}c", f"{ex.p}m", date(2009, 1, 1)
    holding = ref.holdings(replayed(ledger), None)[(competence, jurisdiction)]
    expected = {body for body, _ in ref.exercisers(holding, on, "a")}
    assert expected == {w.body for w in ledger.who_is_competent(competence, jurisdiction, on,
                                                                  "a")} == {ex.body("board")}
    async with projected(ledger, database_url) as pool:
        answer = await competences.who_is_competent(pool, competence, jurisdiction, on, "a")
    assert {found.entry.body for found in answer} == expected


async def test_the_delegation_recorded_first_is_followed_whatever_the_row_order(
        ledger: Ledger, database_url: str) -> None:
    """Two delegations of the executive: to the board from 2011-07-01, recorded first, and to
    the council from 2009-07-01 until the board's starts, recorded second (a holder delegates a
    subject to one body at a time, L3, so they do not overlap). The board decides under its own
    on 2012-01-01. The revocation (in 2030) of the first rewrites its row, which then comes after
    the other: the projection must still name the board as the holder in 2012, also after the
    next change to the holding (a mandate of the board), and keep its decision legitimate."""
    ex = fixed_world(ledger)
    competence, jurisdiction, on = f"{ex.p}c", f"{ex.p}m", date(2012, 1, 1)
    send(ex, delegation(ex, "g-board", "board", date(2011, 7, 1)))
    send(ex, delegation(ex, "g-council", "council", date(2009, 7, 1)).model_copy(
        update={"valid_until": date(2011, 7, 1)}))
    send(ex, c.TakeDecision(
        code=f"{ex.p}under-g-board", title="Besluit", competence=competence,
        jurisdiction=jurisdiction, body=ex.body("board"), taken_on=on, outcome="adopted",
        cited_grant=f"{ex.p}g-board", cited_publication=ex.text("exec", 1)))
    send(ex, c.RevokeGrant(competence=competence, jurisdiction=jurisdiction,
                           grant=f"{ex.p}g-board", on=date(2030, 1, 1), reason="Herziening"))
    send(ex, c.GrantMandate(
        competence=competence, jurisdiction=jurisdiction, code=f"{ex.p}m-board",
        grantor=ex.body("board"), grantee=ex.body("council"), legal_basis="Awb 10:3",
        source_decision=ex.source("board", 1), valid_from=on))
    history = replayed(ledger)
    expected = Counter(ref.exercisers(ref.holdings(history, None)[(competence, jurisdiction)],
                                      on, None))
    assert {body for body, _ in expected} == {
        w.body for w in ledger.who_is_competent(competence, jurisdiction, on)}
    async with projected(ledger, database_url) as pool:
        answer = await competences.who_is_competent(pool, competence, jurisdiction, on)
        decided = await decisions.decision(pool, f"{ex.p}under-g-board", on)
    assert decided is not None
    assert decided["legitimate"] is True, decided["verdict_explanation"]
    assert Counter((found.entry.body, map_entry(found, history, None).chain)
                   for found in answer) == expected


async def test_a_name_recorded_later_is_not_known_earlier(ledger: Ledger,
                                                           database_url: str) -> None:
    """As known before the board was renamed, its name on a day before it was established is
    the name it was renamed to afterwards: the fallback for a day before every known name takes
    the current name, recorded or not at the position asked about."""
    ex = fixed_world(ledger)
    before = ledger.position()
    send(ex, c.RenameBody(body=ex.body("board"), title="Drechtsteden Bestuur",
                          on=date(2005, 1, 1)))
    expected = ref.body_on(replayed(ledger), ex.body("board"), BEFORE_ALL, before)
    assert expected is not None and expected["name"] == "board"
    async with projected(ledger, database_url) as pool:
        found = await structure.body(pool, ex.body("board"), BEFORE_ALL, before)
    assert found is not None and found["name"] == expected["name"]
