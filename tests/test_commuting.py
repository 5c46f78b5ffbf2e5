"""Decisions under one holding commute: processes deciding in turn write after each other's
exercises without reading them, and still answer every decision and revocation as one process
taking the same steps would."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import count

import psycopg
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ledger import commands as c
from ledger.application import Ledger
from ledger.database import eventsourcing_env
from ledger.domain.competence import holding_id
from ledger.errors import LedgerError
from ledger.pipeline import CommandContext, CommandResult
from ledger.store import SERIALISED_WRITERS, writers_lock
from tests.ledger_setup import build_world, run
from tests.world import competence_of_its_own, decision_under_mandate

pytestmark = pytest.mark.database

PROCESSES = 3
FIRST_DAY = date(2016, 1, 1)


def decision(competence: str, code: str, on: date) -> c.TakeDecision:
    return decision_under_mandate(code, on).model_copy(update={"competence": competence})


def revocation(competence: str, on: date) -> c.RevokeGrant:
    return c.RevokeGrant(competence=competence, jurisdiction="dordrecht", grant="mandaat-sdd",
                         on=on, reason="Mandaat ingetrokken")


@dataclass
class Mandate:
    """The naive model: the official's mandate, revoked once, never before a decision that
    relied on it; no decision under it on or after its revocation."""

    revoked_on: date | None = None
    last_relied_on: date | None = None

    def decide(self, on: date) -> str | None:
        if self.revoked_on is not None and on >= self.revoked_on:
            return "MANDATE_REVOKED"
        self.last_relied_on = max(on, self.last_relied_on or on)
        return None

    def revoke(self, on: date) -> str | None:
        if self.revoked_on is not None:
            return "ALREADY_REVOKED"
        if self.last_relied_on is not None and self.last_relied_on >= on:
            return "RELIED_ON_AFTER"
        self.revoked_on = on
        return None


STEPS = st.lists(st.tuples(st.sampled_from(("decide",) * 4 + ("revoke",)),
                           st.integers(0, PROCESSES - 1), st.integers(0, 60)),
                 min_size=1, max_size=10)


def test_processes_taking_turns_on_a_holding_answer_as_one_process_would(
    ledger: Ledger, database_url: str
) -> None:
    build_world(ledger)
    env = eventsourcing_env(database_url) | {"POSTGRES_POOL_SIZE": "1"}
    processes = [Ledger(env=env) for _ in range(PROCESSES)]
    rounds = count()

    @settings(max_examples=30, deadline=None)
    @given(steps=STEPS)
    # process 0's copy lacks process 1's decision of 1 March, which forbids the revocation
    @example(steps=[("decide", 0, 9), ("decide", 1, 60), ("decide", 0, 19), ("revoke", 0, 31)])
    # process 0's copy lacks the revocation by process 1, which forbids its decision
    @example(steps=[("decide", 0, 9), ("decide", 1, 10), ("decide", 0, 11), ("revoke", 1, 30),
                    ("decide", 0, 40)])
    def answers_as_the_model(steps: list[tuple[str, int, int]]) -> None:
        competence = f"beurt-{next(rounds)}"
        for command in competence_of_its_own(competence):
            run(ledger, command)
        model = Mandate()
        for number, (action, process, day) in enumerate(steps):
            on = FIRST_DAY + timedelta(days=day)
            if action == "decide":
                command: c.Command = decision(competence, f"{competence}-{number}", on)
                expected = model.decide(on)
            else:
                command, expected = revocation(competence, on), model.revoke(on)
            try:
                run(processes[process], command)
                answer = None
            except LedgerError as refusal:
                answer = refusal.code
            assert answer == expected, (number, action, process, on)

    try:
        answers_as_the_model()
    finally:
        for process in processes:
            process.close()


def test_decisions_from_processes_in_turn_are_written_without_giving_way(
    ledger: Ledger, database_url: str
) -> None:
    """Each process's copy of the holding lacks the other's last exercise; its decision is
    written after it all the same, at the next version, the first time it is tried: no write
    is refused and rolled back."""
    env = eventsourcing_env(database_url) | {"POSTGRES_POOL_SIZE": "1"}
    build_world(ledger)

    def rolled_back(decisions: int) -> int:
        """The transactions rolled back while two processes take these decisions in turn."""
        before, others = _transactions(database_url), _backends(database_url)
        processes = [Ledger(env=env) for _ in range(2)]
        try:
            for n in range(decisions):
                run(processes[n % 2], decision("participatiewet", f"beurt-{n}",
                                               FIRST_DAY + timedelta(days=n)))
        finally:
            for process in processes:
                process.close()
        for _ in range(50):  # their server processes report their counts as they end
            if _backends(database_url) == others:
                return _transactions(database_url)[1] - before[1]
            time.sleep(0.1)
        raise AssertionError("the processes' connections never ended")

    assert rolled_back(20) == rolled_back(0)  # opening a process rolls back a read of its own

    rows = ledger.store.chain_rows(originator_id=holding_id("participatiewet", "dordrecht"))
    assert [row["originator_version"] for row in rows] == list(range(1, len(rows) + 1))
    exercised = [row for row in rows if row["topic"].endswith("Exercised")]
    assert [f'"beurt-{n}"'.encode() in bytes(row["state"]) for n, row in enumerate(exercised)
            ] == [True] * 20


def test_a_batch_that_holds_a_writers_lock_does_not_wait_for_another(
    ledger: Ledger, database_url: str
) -> None:
    """A batch revokes a grant of one holding (its writers' lock taken exclusively) and takes a
    decision under another, whose writer in turn is under way elsewhere. Waiting for that one
    while holding the first lock could close a circle with a batch doing the opposite; the
    batch gives way instead, and its commands are then written one by one, each in turn."""
    build_world(ledger)
    for command in competence_of_its_own("eigen"):
        run(ledger, command)
    revoked, decided = holding_id("eigen", "dordrecht"), holding_id("participatiewet", "dordrecht")
    batch = [(revocation("eigen", date(2016, 1, 1)), CommandContext("batch-intrekking")),
             (decision_under_mandate("batch-besluit", date(2016, 2, 1)),
              CommandContext("batch-besluit"))]
    answers: list[object] = []
    worker = threading.Thread(target=lambda: answers.extend(ledger.execute_batch(batch)))
    with psycopg.connect(database_url, autocommit=True) as in_turn, \
            psycopg.connect(database_url, autocommit=True) as probe:
        in_turn.execute("BEGIN")
        in_turn.execute("SELECT pg_advisory_xact_lock(%s, %s)",
                        (SERIALISED_WRITERS, writers_lock(decided)))
        worker.start()
        worker.join(timeout=1.0)  # the batch has given way, and its decision waits its turn
        waiting_in_turn = worker.is_alive()
        probe.execute("BEGIN")
        free = probe.execute("SELECT pg_try_advisory_xact_lock(%s, %s)",
                             (SERIALISED_WRITERS, writers_lock(revoked))).fetchone()[0]
        probe.execute("ROLLBACK")
        in_turn.execute("COMMIT")
    worker.join()
    assert free, "the batch held the revoked holding's lock while waiting for the other"
    assert waiting_in_turn, answers
    assert [type(answer) for answer in answers] == [CommandResult, CommandResult], answers


def _backends(database_url: str) -> int:
    """How many other server processes are connected to the database."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity"
                           " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                           ).fetchone()
    assert row is not None
    return int(row[0])


def _transactions(database_url: str) -> tuple[int, int]:
    """The database's committed and rolled-back transactions, as its server processes have
    reported them."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute("SELECT xact_commit, xact_rollback FROM pg_stat_database"
                           " WHERE datname = current_database()").fetchone()
    assert row is not None
    return row[0], row[1]
