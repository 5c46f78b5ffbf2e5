"""A refusal is the answer to its idempotency key, as an acceptance is: the same key with the
same command answers the same refusal and checks nothing again. So re-running an import, whole
or after an interrupted run, appends nothing and answers every line as the first run did, even
where a line refers to a record a later line makes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.cli import main
from ledger import commands as c
from ledger.application import Ledger
from ledger.database import eventsourcing_env
from ledger.errors import LedgerError
from ledger.importer import LineOutcome, import_lines
from ledger.pipeline import CommandContext
from ledger.unit_of_work import UnitOfWork
from tests.databases import fresh_database
from tests.graphql_client import issue_token, serving
from tests.ledger_setup import build_world
from tests.world import world_commands

pytestmark = pytest.mark.database

BODY_FIRST = [  # the body refers to the jurisdiction the next line establishes
    c.EstablishBody(code="raad-papendrecht", title="Gemeenteraad Papendrecht", kind="council",
                    jurisdiction="papendrecht", established_on=date(1851, 1, 1)),
    c.EstablishJurisdiction(code="papendrecht", title="Papendrecht", kind="municipality"),
]


def envelope(command: c.Command, key: str) -> str:
    return json.dumps({"command": command.name, "idempotency_key": key,
                       "input": command.model_dump(mode="json", exclude_unset=True)})


def run_file(ledger: Ledger, lines: Sequence[str], batch_size: int = 500) -> list[LineOutcome]:
    return list(import_lines(ledger, lines, actor="import", correlation_id="import",
                             batch_size=batch_size))


def answers(outcomes: Sequence[LineOutcome]) -> list[tuple[Any, ...]]:
    """Each line's answer: its refusal, or its position and result."""
    return [(o.line, o.outcome.code, o.outcome.field, o.outcome.message)
            if isinstance(o.outcome, LedgerError) else (o.line, o.outcome.position, o.outcome.result)
            for o in outcomes]


def event_log(ledger: Ledger) -> list[tuple[Any, ...]]:
    """The events in global order, without the clock readings that differ between runs."""
    return [(row["notification_id"], row["originator_id"], row["originator_version"],
             row["topic"], _without_clock(json.loads(bytes(row["state"]))))
            for row in ledger.store.chain_rows(limit=10**6)]


def _without_clock(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_clock(item) for key, item in value.items()
                if key not in ("timestamp", "recorded_at")}
    if isinstance(value, list):
        return [_without_clock(item) for item in value]
    return value


def recorded_keys(ledger: Ledger) -> int:
    env = ledger.env
    with psycopg.connect(dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"],
                         port=env["POSTGRES_PORT"], user=env["POSTGRES_USER"]) as conn:
        row = conn.execute("SELECT count(*) FROM bevoegd_events_commands").fetchone()
    assert row is not None
    return int(row[0])


# Imports ----------------------------------------------------------------------------------------


def test_a_forward_reference_imported_twice_appends_nothing_the_second_time(
        ledger: Ledger) -> None:
    lines = [envelope(command, f"line-{n}") for n, command in enumerate(BODY_FIRST)]
    first = run_file(ledger, lines)
    assert [getattr(o.outcome, "code", "accepted") for o in first] == [
        "UNKNOWN_REFERENCE", "accepted"]
    log = event_log(ledger)

    again = run_file(ledger, lines)
    assert event_log(ledger) == log
    assert answers(again) == answers(first)
    assert [o.outcome.replayed for o in again] == [True, True]
    assert [o.outcome.replayed for o in first] == [False, False]


def test_a_key_repeated_in_one_batch_answers_its_refusal_again(ledger: Ledger) -> None:
    refused, other = BODY_FIRST
    outcomes = ledger.execute_batch([(refused, CommandContext("k")), (refused, CommandContext("k")),
                                     (other, CommandContext("k"))])
    assert [(o.code, o.replayed) for o in outcomes if isinstance(o, LedgerError)] == [
        ("UNKNOWN_REFERENCE", False), ("UNKNOWN_REFERENCE", True),
        ("IDEMPOTENCY_KEY_REUSED", False)]
    assert outcomes[1].message == outcomes[0].message  # type: ignore[union-attr]
    assert ledger.position() == 0 and recorded_keys(ledger) == 1


@contextmanager
def new_ledger(server_url: str) -> Iterator[Ledger]:
    with fresh_database(server_url, "bevoegd_test") as url:
        ledger = Ledger(env=eventsourcing_env(url))
        try:
            yield ledger
        finally:
            ledger.close()


WORLD = world_commands()  # a small world whose commands refer to each other


@st.composite
def shuffled_files(draw: st.DrawFn) -> list[str]:
    """The world's commands in any order (so many refer to records later lines make), some
    lines repeated and a key used again for other content."""
    order = draw(st.permutations(range(len(WORLD))))
    lines = [envelope(WORLD[n], f"world-{n}") for n in order]
    for n in draw(st.lists(st.sampled_from(order), max_size=3)):
        lines.insert(draw(st.integers(0, len(lines))), envelope(WORLD[n], f"world-{n}"))
    if draw(st.booleans()):
        lines.insert(draw(st.integers(0, len(lines))), envelope(WORLD[order[0]], "world-0"
                                                                if order[0] else "world-1"))
    return lines


BATCH_SIZES = st.sampled_from([1, 2, 3, 7, 500])


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=shuffled_files(), batch_size=BATCH_SIZES, data=st.data())
def test_an_import_run_in_pieces_equals_one_run_in_one_go(
        server_url: str, lines: list[str], batch_size: int, data: st.DataObject) -> None:
    """In pieces: a run stops after some lines (as when killed) and the next starts from the
    top again, any number of times, until one goes through. Each run batches differently."""
    with new_ledger(server_url) as whole, new_ledger(server_url) as pieces:
        in_one_go = run_file(whole, lines, batch_size)
        for stop in data.draw(st.lists(st.integers(0, len(lines)), max_size=4), label="stops"):
            run_file(pieces, lines[:stop], data.draw(BATCH_SIZES, label="batch size"))
        last = run_file(pieces, lines, batch_size)
        assert event_log(pieces) == event_log(whole)
        assert answers(last) == answers(in_one_go)

        log = event_log(whole)
        again = run_file(whole, lines, data.draw(BATCH_SIZES, label="batch size again"))
        assert event_log(whole) == log
        assert answers(again) == answers(in_one_go)
        assert all(o.outcome.replayed for o in again
                   if getattr(o.outcome, "code", None) != "IDEMPOTENCY_KEY_REUSED")


def test_bevoegd_import_run_twice_reports_the_same_refusals(
        database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEVOEGD_DATABASE_URL", database_url)
    file = tmp_path / "records.jsonl"
    file.write_text("".join(envelope(command, f"line-{n}") + "\n"
                            for n, command in enumerate(BODY_FIRST)))
    first = CliRunner().invoke(main, ["import", str(file)])
    again = CliRunner().invoke(main, ["import", str(file)])
    assert (first.exit_code, again.exit_code) == (1, 1)
    refusal = "line 1: REFUSED UNKNOWN_REFERENCE [jurisdiction]: No jurisdiction 'papendrecht'"
    assert refusal in first.output and refusal in again.output
    assert "as before" in again.output and "as before" not in first.output
    assert "1 accepted, 0 already recorded" in first.output
    assert "0 accepted, 1 already recorded" in again.output


# Single commands --------------------------------------------------------------------------------


def test_the_same_key_answers_the_same_refusal_over_graphql(database_url: str,
                                                            ledger: Ledger) -> None:
    admin = issue_token(database_url, "admin", name="beheerder")
    body, jurisdiction = BODY_FIRST
    with serving(database_url, run_projector=False) as api:
        first = api.payload(body, "raad", token=admin)
        assert [e["code"] for e in first["userErrors"]] == ["UNKNOWN_REFERENCE"]
        assert first["replayed"] is False
        api.accepted(jurisdiction, "gemeente", token=admin)
        head = ledger.position()

        again = api.payload(body, "raad", token=admin)  # now it would be accepted
        assert again["userErrors"] == first["userErrors"]
        assert (again["replayed"], again["position"], again["result"]) == (True, None, None)
        assert ledger.position() == head

        other = body.model_copy(update={"title": "Raad"})
        reused = api.payload(other, "raad", token=admin)
        assert [e["code"] for e in reused["userErrors"]] == ["IDEMPOTENCY_KEY_REUSED"]
        assert reused["replayed"] is False

        fresh = api.payload(body, "raad-opnieuw", token=admin)
        assert fresh["userErrors"] == [] and fresh["position"] > head


def test_a_reused_key_leaves_the_recorded_refusal_as_it_was(ledger: Ledger) -> None:
    body, jurisdiction = BODY_FIRST
    with pytest.raises(LedgerError) as first:
        ledger.execute(body, CommandContext("k"))
    with pytest.raises(LedgerError) as reused:
        ledger.execute(jurisdiction, CommandContext("k"))
    assert reused.value.code == "IDEMPOTENCY_KEY_REUSED"
    (batch_reused,) = ledger.execute_batch([(jurisdiction, CommandContext("k"))])
    assert isinstance(batch_reused, LedgerError)
    assert batch_reused.code == "IDEMPOTENCY_KEY_REUSED"
    with pytest.raises(LedgerError) as again:
        ledger.execute(body, CommandContext("k"))
    assert (again.value.code, again.value.message, again.value.field, again.value.replayed) == (
        first.value.code, first.value.message, first.value.field, True)
    assert ledger.position() == 0 and recorded_keys(ledger) == 1


def test_clients_sending_one_refused_command_at_once_get_one_answer(
        database_url: str, ledger: Ledger) -> None:
    clients = [Ledger(env=eventsourcing_env(database_url)) for _ in range(6)]
    start = threading.Barrier(len(clients))
    refusals: list[LedgerError] = []

    def send(client: Ledger) -> None:
        start.wait()
        try:
            client.execute(BODY_FIRST[0], CommandContext("at-once"))
        except LedgerError as refusal:
            refusals.append(refusal)

    threads = [threading.Thread(target=send, args=(client,)) for client in clients]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for client in clients:
            client.close()
    assert len({(r.code, r.message, r.field) for r in refusals}) == 1
    assert sorted(r.replayed for r in refusals) == [False] + [True] * (len(clients) - 1)
    assert recorded_keys(ledger) == 1


class Contested(Ledger):
    """A ledger whose every save is preceded by a rival's renaming of the council, so a command
    on the council always finds it changed when it saves: a real conflict, every attempt."""

    name = Ledger.name  # the same tables
    rival: Ledger

    def _save(self, uow: UnitOfWork) -> list[int | None]:
        self.rival.execute(c.RenameBody(body="raad-dordrecht", title="Raad", on=date(2020, 1, 1)),
                           CommandContext(f"rival-{self.rival.position()}"))
        return super()._save(uow)


def test_a_conflict_is_not_remembered(database_url: str, ledger: Ledger) -> None:
    build_world(ledger)
    renaming = c.RenameBody(body="raad-dordrecht", title="Gemeenteraad", on=date(2020, 1, 1))
    contested = Contested(env=eventsourcing_env(database_url))
    contested.rival = ledger
    try:
        with pytest.raises(LedgerError) as conflict:
            contested.execute(renaming, CommandContext("hernoemen"))
    finally:
        contested.close()
    assert conflict.value.code == "CONFLICT"
    retried = ledger.execute(renaming, CommandContext("hernoemen"))
    assert not retried.replayed and retried.position == ledger.position()


class InterruptedOnce(Ledger):
    """A ledger whose first save is preceded by a rival's renaming of the council: the batch
    it saves loses the race once, and only once."""

    name = Ledger.name  # the same tables
    rival: Ledger
    interrupted = False

    def _save(self, uow: UnitOfWork) -> list[int | None]:
        if not self.interrupted:
            self.interrupted = True
            self.rival.execute(c.RenameBody(body="raad-dordrecht", title="Raad",
                                            on=date(2020, 1, 1)), CommandContext("rival"))
        return super()._save(uow)


def test_a_batch_that_loses_a_race_answers_every_command(database_url: str,
                                                         ledger: Ledger) -> None:
    """The batch runs again command by command from the first command it could not save, even
    where a key answered before lies between that command and the last."""
    build_world(ledger)
    earlier = c.RenameBody(body="raad-dordrecht", title="De raad", on=date(2019, 1, 1))
    answered = ledger.execute(earlier, CommandContext("eerder"))
    renamings = [c.RenameBody(body="raad-dordrecht", title=title, on=date(2021, 1, 1))
                 for title in ("Gemeenteraad", "Raad van Dordrecht")]
    interrupted = InterruptedOnce(env=eventsourcing_env(database_url))
    interrupted.rival = ledger
    try:
        answers = interrupted.execute_batch([(renamings[0], CommandContext("eerste")),
                                             (earlier, CommandContext("eerder")),
                                             (renamings[1], CommandContext("tweede"))])
    finally:
        interrupted.close()
    assert [getattr(answer, "replayed", None) for answer in answers] == [False, True, False]
    assert answers[1] == replace(answered, replayed=True)
    assert answers[0].position < answers[2].position == ledger.position()  # type: ignore[union-attr]


# The command log of an existing database -------------------------------------------------------


def test_a_command_log_from_before_refusals_were_recorded_takes_them(database_url: str) -> None:
    """The table as the earlier version made it (no refusal column, result and position
    required) is brought up to date when the ledger opens it, and keeps what it held."""
    body, jurisdiction = BODY_FIRST
    first = Ledger(env=eventsourcing_env(database_url))
    try:
        accepted = first.execute(jurisdiction, CommandContext("gemeente"))
    finally:
        first.close()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE bevoegd_events_commands"
                     " DROP CONSTRAINT bevoegd_events_commands_answered, DROP COLUMN refusal,"
                     " ALTER COLUMN result SET NOT NULL, ALTER COLUMN position SET NOT NULL")
        conn.execute("COMMENT ON TABLE bevoegd_events_commands IS NULL")  # the shape unmarked
    for _ in range(2):  # opening it again changes nothing
        reopened = Ledger(env=eventsourcing_env(database_url))
        try:
            assert reopened.execute(jurisdiction, CommandContext("gemeente")).position \
                == accepted.position
            with pytest.raises(LedgerError) as refusal:
                reopened.execute(body.model_copy(update={"jurisdiction": "nergens"}),
                                 CommandContext("raad"))
            assert refusal.value.code == "UNKNOWN_REFERENCE"
            assert recorded_keys(reopened) == 2
        finally:
            reopened.close()
