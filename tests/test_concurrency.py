"""A decision and the revocation of the grant it relies on, recorded at the same moment from
separate connections, never both succeed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date

import pytest

from ledger import commands as c
from ledger.application import Ledger
from ledger.database import eventsourcing_env
from ledger.errors import LedgerError
from ledger.pipeline import CommandContext, CommandResult
from tests.ledger_setup import build_world, run
from tests.world import competence_of_its_own

pytestmark = pytest.mark.database

# The revoker starts after these pauses, so the rounds cover revocation-first, decisions-first
# and everything in between; whichever wins, the invariant must hold.
REVOKER_PAUSES = (0.0, 0.002, 0.005, 0.01, 0.02, 0.05)
DECIDERS = 6
REVOKED_ON = date(2016, 1, 1)


def prepare_round(ledger: Ledger, n: int) -> None:
    """A competence of its own per round, delegated to the DSB and mandated to the official."""
    for command in competence_of_its_own(f"taak-{n}"):
        run(ledger, command)


def race(ledgers: list[Ledger], n: int) -> tuple[CommandResult | LedgerError,
                                                  list[CommandResult | LedgerError]]:
    start = threading.Barrier(len(ledgers))
    outcomes: dict[int, CommandResult | LedgerError] = {}

    def attempt(index: int, action: Callable[[], CommandResult]) -> None:
        start.wait()
        if index == 0:
            time.sleep(REVOKER_PAUSES[n])
        try:
            outcomes[index] = action()
        except LedgerError as refusal:
            outcomes[index] = refusal

    def revoke() -> CommandResult:
        return ledgers[0].execute(
            c.RevokeGrant(competence=f"taak-{n}", jurisdiction="dordrecht", grant="mandaat-sdd",
                          on=REVOKED_ON, reason="Mandaat ingetrokken"),
            CommandContext(f"revoke-{n}"))

    def decide(i: int) -> Callable[[], CommandResult]:
        return lambda: ledgers[i].execute(
            c.TakeDecision(code=f"besluit-{n}-{i}", title="Beschikking", competence=f"taak-{n}",
                           jurisdiction="dordrecht", body="directeur-sdd",
                           taken_on=date(2016, 2, i), outcome="adopted", cited_grant="mandaat-sdd",
                           cited_publication="Staatscourant 2006, 70"),
            CommandContext(f"decide-{n}-{i}"))

    threads = [threading.Thread(target=attempt, args=(0, revoke))] + [
        threading.Thread(target=attempt, args=(i, decide(i))) for i in range(1, len(ledgers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes[0], [outcomes[i] for i in range(1, len(ledgers))]


def test_a_decision_and_the_revocation_it_relies_on_never_both_succeed(
    ledger: Ledger, database_url: str
) -> None:
    build_world(ledger)
    clients = [Ledger(env=eventsourcing_env(database_url)) for _ in range(DECIDERS + 1)]
    try:
        for n in range(len(REVOKER_PAUSES)):
            prepare_round(ledger, n)
            revocation, decisions = race(clients, n)
            accepted = [d for d in decisions if isinstance(d, CommandResult)]
            # neither is refused for having come second (CONFLICT): writers of the holding
            # take turns, and whoever comes second is checked against the first
            if isinstance(revocation, CommandResult):
                assert not accepted, "a decision relied on a mandate revoked before its date"
                assert {d.code for d in decisions if isinstance(d, LedgerError)} <= {
                    "MANDATE_REVOKED"}
            else:
                assert revocation.code == "RELIED_ON_AFTER"
                assert accepted
            # what the ledger says afterwards agrees with the outcomes reported to the clients
            exercised = [row for row in ledger.store.chain_rows()
                         if row["topic"].endswith("Exercised") and f'"besluit-{n}-'.encode()
                         in bytes(row["state"])]
            assert len(exercised) == len(accepted)
    finally:
        for client in clients:
            client.close()
