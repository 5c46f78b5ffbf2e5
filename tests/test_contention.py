"""Many officials deciding at once under one competence holding: every valid decision is
accepted, once, and the holding, the ledger and the answers agree on one order."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from datetime import date, timedelta

import psycopg
import pytest
from eventsourcing.persistence import OperationalError
from psycopg.rows import dict_row

from ledger import commands as c
from ledger import unit_of_work
from ledger.application import EVENTS_TABLE, Ledger
from ledger.database import eventsourcing_env
from ledger.domain.competence import CompetenceHolding, holding_id
from ledger.errors import LedgerError
from ledger.pipeline import CommandContext, CommandResult
from ledger.store import GENESIS_HASH, SERIALISED_WRITERS, event_hash, writers_lock
from ledger.unit_of_work import RecentRecords, UnitOfWork
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


@pytest.mark.timeout(120)  # writers waiting on each other in a cycle fail, not hang, the run
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
    codes = [f"druk-{n}" for n in range(CLIENTS * THREADS)]
    assert [_decision_of(row, codes) for row in exercises] == answered_order

    # The chain over everything still verifies.
    previous = GENESIS_HASH
    for row in ledger.store.chain_rows(limit=100_000):
        previous = event_hash(previous, row["notification_id"], row["originator_id"],
                              row["originator_version"], row["topic"], bytes(row["state"]))
        assert bytes(row["event_hash"]) == previous


def _exercised(ledger: Ledger, codes: Iterable[str]) -> list[str]:
    """Which of these decisions the holding recorded as exercised, in the ledger's order."""
    rows = ledger.store.chain_rows(originator_id=holding_id("participatiewet", "dordrecht"))
    return [_decision_of(row, codes) for row in rows if row["topic"].endswith("Exercised")]


def _decision_of(row: dict[str, object], codes: Iterable[str]) -> str:
    """Which of these decisions the holding's event records."""
    state = bytes(row["state"])  # type: ignore[arg-type]
    return next(code for code in codes if f'"{code}"'.encode() in state)


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


def test_a_decision_taken_on_a_remembered_holding_waits_for_a_writer_of_it_under_way(
    ledger: Ledger, database_url: str
) -> None:
    """The process remembers the holding as unchanged, but another writer holds its lock, and
    may be about to change it: the decision waits until that writer is done, and is then
    accepted once, instead of writing beside the other."""
    build_world(ledger)
    run(ledger, decision_under_mandate("eerst", date(2015, 1, 5)))  # the holding is remembered
    holding = holding_id("participatiewet", "dordrecht")
    outcome: list[CommandResult | BaseException] = []

    def decide() -> None:
        try:
            outcome.append(run(ledger, decision_under_mandate("wacht", date(2015, 1, 6))))
        except BaseException as error:  # reported by the assertion below
            outcome.append(error)

    with psycopg.connect(database_url, autocommit=True) as other:
        other.execute("BEGIN")
        other.execute("SELECT pg_advisory_xact_lock(%s, %s)",
                      (SERIALISED_WRITERS, writers_lock(holding)))
        waiting = threading.Thread(target=decide)
        waiting.start()
        waiting.join(timeout=1.5)
        still_waiting = waiting.is_alive()
        other.execute("COMMIT")
    waiting.join()

    assert still_waiting, outcome
    assert len(outcome) == 1 and isinstance(outcome[0], CommandResult), outcome
    assert _exercised(ledger, ["eerst", "wacht"]) == ["eerst", "wacht"]


def test_a_repeat_in_a_process_that_waited_its_turn_answers_the_first_result_and_writes_on(
    ledger: Ledger, database_url: str
) -> None:
    """A process that has not seen the holding waits its turn and reads it from the store; its
    write, which commits in the same round trip, is refused twice for a repeated key (the
    decision it took to be new exists, then the key is recorded) and each time the transaction
    is rolled back, so the first answer comes back and the next decision is written."""
    build_world(ledger)
    first = run(ledger, decision_under_mandate("eens", date(2015, 1, 5)), key="eens")
    other = Ledger(env=eventsourcing_env(database_url) | {"POSTGRES_POOL_SIZE": "1"})
    try:
        again = run(other, decision_under_mandate("eens", date(2015, 1, 5)), key="eens")
        after = run(other, decision_under_mandate("daarna", date(2015, 1, 6)))
    finally:
        other.close()
    assert (again.position, again.result, again.replayed) == (first.position, first.result, True)
    assert after.position > first.position and not after.replayed
    assert _exercised(ledger, ["eens", "daarna"]) == ["eens", "daarna"]


def test_a_decision_finds_what_it_checks_by_index_however_long_the_ledger(
    ledger: Ledger, database_url: str
) -> None:
    """The write's check that nothing read has moved on looks each record up by its index: a
    plan made once for any arguments could otherwise scan every event, at every command."""
    build_world(ledger)
    for n in range(20):
        run(ledger, decision_under_mandate(f"vooraf-{n}", date(2014, 1, 1) + timedelta(days=n)))
    before = _events_table_scans(database_url)
    deciders = Ledger(env=eventsourcing_env(database_url) | {"POSTGRES_POOL_SIZE": "1"})
    try:
        for n in range(20):
            run(deciders, decision_under_mandate(f"later-{n}", date(2015, 1, 1) + timedelta(days=n)))
    finally:
        deciders.close()  # its server process reports its counts as it ends
    after = before
    for _ in range(50):
        after = _events_table_scans(database_url)
        if after["idx_scan"] > before["idx_scan"]:
            break
        time.sleep(0.1)
    assert after["idx_scan"] > before["idx_scan"], "the counts never came"
    assert after["seq_scan"] == before["seq_scan"]


def _events_table_scans(database_url: str) -> dict[str, int]:
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
        row = conn.execute("SELECT seq_scan, idx_scan FROM pg_stat_user_tables"
                           " WHERE relname = %s", (EVENTS_TABLE,)).fetchone()
    assert row is not None
    return row


def test_a_holding_a_failed_write_left_changed_is_read_again_from_the_store(
    ledger: Ledger, database_url: str
) -> None:
    """A process hands its remembered holding to a decision without a copy. The decision's
    write fails (another writer of the holding keeps its lock past the lock timeout) after the
    holding recorded the exercise in memory: that holding must not be remembered, or the
    process would refuse a revocation for a decision the ledger never took."""
    build_world(ledger)
    deciding = Ledger(env=eventsourcing_env(database_url) | {"POSTGRES_LOCK_TIMEOUT": "1"})
    holding = holding_id("participatiewet", "dordrecht")
    try:
        run(deciding, decision_under_mandate("eerst", date(2015, 1, 5)))  # remembered
        with psycopg.connect(database_url, autocommit=True) as other:
            other.execute("BEGIN")
            other.execute("SELECT pg_advisory_xact_lock(%s, %s)",
                          (SERIALISED_WRITERS, writers_lock(holding)))
            with pytest.raises(OperationalError, match="lock timeout"):
                run(deciding, decision_under_mandate("mislukt", date(2016, 6, 1)))
            other.execute("ROLLBACK")
        run(deciding, c.RevokeGrant(competence="participatiewet", jurisdiction="dordrecht",
                                    grant="mandaat-sdd", on=date(2016, 1, 1),
                                    reason="Mandaatregeling ingetrokken"))
    finally:
        deciding.close()
    rows = ledger.store.chain_rows(originator_id=holding)
    assert [row["originator_version"] for row in rows] == list(range(1, len(rows) + 1))
    assert _exercised(ledger, ["eerst", "mislukt"]) == ["eerst"]


def test_a_record_two_units_want_at_once_is_then_handed_to_each_as_a_copy(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A remembered record goes to one unit at a time, uncopied; a unit that wants it while
    another has it reads it from the store. Threads of one process that want it together then
    each get a copy, so that they do not read it in turn."""
    monkeypatch.setattr(unit_of_work, "CONTENDED_SECONDS", 60.0)  # however slow the run
    build_world(ledger)
    records = RecentRecords(100)
    holding = holding_id("participatiewet", "dordrecht")
    units: list[UnitOfWork] = []  # those that took the holding, to be kept

    def taken() -> tuple[CompetenceHolding, bool]:
        """A unit's holding, and whether it came from `records` (else from the store)."""
        uow = UnitOfWork(ledger.repository, recent=records)
        found = uow.find(CompetenceHolding, holding)
        assert found is not None
        units.append(uow)
        return found, uow.as_remembered(holding, found)

    first, remembered = taken()
    assert not remembered
    records.keep(units.pop())
    again, remembered = taken()
    assert again is first and remembered  # alone: not copied
    other, remembered = taken()  # while the first unit has it
    assert other is not again and not remembered
    for uow in units:
        records.keep(uow)
    (one, one_remembered), (two, two_remembered) = taken(), taken()  # both at once
    assert one_remembered and two_remembered and one is not two
    assert one.version == two.version == first.version
