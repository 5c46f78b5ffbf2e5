"""Many officials deciding at once under one competence holding: every valid decision is
accepted, once, and the holding, the ledger and the answers agree on one order."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest

from ledger import commands as c
from ledger.application import Ledger
from ledger.database import eventsourcing_env
from ledger.domain.competence import holding_id
from ledger.errors import LedgerError
from ledger.pipeline import CommandContext, CommandResult
from ledger.store import GENESIS_HASH, event_hash
from tests.ledger_setup import build_world, run
from tests.world import decision_under_mandate

pytestmark = pytest.mark.database

CLIENTS = 4  # applications, standing for processes, each with its own pool and cache
THREADS = 16  # per client: 64 decisions in flight on one holding


def decide_at_once(clients: list[Ledger]) -> dict[str, CommandResult | LedgerError]:
    start = threading.Barrier(CLIENTS * THREADS)
    outcomes: dict[str, CommandResult | LedgerError] = {}

    def decide(client: Ledger, code: str, on: date) -> None:
        start.wait()
        try:
            outcomes[code] = client.execute(decision_under_mandate(code, on),
                                            CommandContext(f"key-{code}"))
        except LedgerError as refusal:
            outcomes[code] = refusal

    threads = [
        threading.Thread(target=decide, args=(
            clients[n % CLIENTS], f"druk-{n}", date(2014, 1, 1) + timedelta(days=n)))
        for n in range(CLIENTS * THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_concurrent_decisions_on_one_holding_are_all_accepted_once_in_one_order(
    ledger: Ledger, database_url: str
) -> None:
    build_world(ledger)
    env = eventsourcing_env(database_url) | {"POSTGRES_POOL_SIZE": str(THREADS)}
    clients = [Ledger(env=env) for _ in range(CLIENTS)]
    try:
        outcomes = decide_at_once(clients)
    finally:
        for client in clients:
            client.close()

    refused = {code: o.code for code, o in outcomes.items() if isinstance(o, LedgerError)}
    assert not refused
    accepted = {code: o for code, o in outcomes.items() if isinstance(o, CommandResult)}
    assert len(accepted) == CLIENTS * THREADS
    assert not any(result.replayed for result in accepted.values())

    # The holding recorded each exercise once, in the order of the positions answered.
    rows = ledger.store.chain_rows(originator_id=holding_id("participatiewet", "dordrecht"))
    exercises = [row for row in rows if row["topic"].endswith("Exercised")]
    assert len(exercises) == len(accepted)
    assert [row["originator_version"] for row in rows] == list(range(1, len(rows) + 1))
    answered_order = sorted(accepted, key=lambda code: accepted[code].position)
    assert [row["notification_id"] for row in exercises] == sorted(
        result.position for result in accepted.values())
    assert [_decision_of(row) for row in exercises] == answered_order

    # The chain over everything still verifies.
    previous = GENESIS_HASH
    for row in ledger.store.chain_rows(limit=100_000):
        previous = event_hash(previous, row["notification_id"], row["originator_id"],
                              row["originator_version"], row["topic"], bytes(row["state"]))
        assert bytes(row["event_hash"]) == previous


def _decision_of(row: dict[str, object]) -> str:
    state = bytes(row["state"])  # type: ignore[arg-type]
    return next(code for code in (f"druk-{n}" for n in range(CLIENTS * THREADS))
                if f'"{code}"'.encode() in state)


def test_a_record_changed_by_another_process_is_read_again_before_it_is_relied_on(
    ledger: Ledger, database_url: str
) -> None:
    """A process takes the records it only consults as it last saw them; the write finds
    that the body was abolished since, by another process, and the command is checked again."""
    build_world(ledger)
    other = Ledger(env=eventsourcing_env(database_url))
    try:
        run(ledger, decision_under_mandate("voor", date(2015, 1, 5)))  # this process sees the body
        run(other, c.AbolishBody(body="directeur-sdd", on=date(2015, 6, 1), reason="Opgeheven"))
        with pytest.raises(LedgerError) as refused:
            run(ledger, decision_under_mandate("na", date(2015, 7, 1)))
    finally:
        other.close()
    assert refused.value.code == "BODY_NOT_ACTIVE"
