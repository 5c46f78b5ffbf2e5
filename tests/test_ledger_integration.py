"""The application service against a real PostgreSQL: legitimacy, idempotency, atomicity and
the hash chain."""

from __future__ import annotations

import hashlib
import json
import struct
import threading
import uuid
from datetime import date, timedelta

import psycopg
import pytest

from ledger import commands as c
from ledger.application import EVENTS_TABLE, Ledger
from ledger.database import eventsourcing_env
from ledger.errors import LedgerError
from ledger.importer import import_lines, parse_command
from ledger.pipeline import CommandContext, CommandResult
from ledger.store import GENESIS_HASH
from tests.ledger_setup import build_world, run
from tests.world import decision_under_mandate

pytestmark = pytest.mark.database


def stored(ledger: Ledger) -> tuple[int, int]:
    """How many events and recorded commands the database holds."""
    with psycopg.connect(**_conninfo(ledger)) as conn:
        events = conn.execute("SELECT count(*) FROM bevoegd_events").fetchone()
        commands = conn.execute("SELECT count(*) FROM bevoegd_events_commands").fetchone()
    assert events is not None and commands is not None
    return events[0], commands[0]


def _conninfo(ledger: Ledger) -> dict[str, str]:
    env = ledger.env
    return {"dbname": env["POSTGRES_DBNAME"], "host": env["POSTGRES_HOST"],
            "port": env["POSTGRES_PORT"], "user": env["POSTGRES_USER"]}


def test_a_decision_under_mandate_stores_its_chain(ledger: Ledger) -> None:
    build_world(ledger)
    result = run(ledger, decision_under_mandate("beschikking-1", date(2013, 3, 5)))
    kinds = [link["kind"] for link in result.result["chain"]]
    assert kinds == ["attribution", "delegation", "mandate"]
    assert [link["grantee"] for link in result.result["chain"]] == [
        "college-dordrecht", "dsb", "directeur-sdd"]
    taken = [e for e in ledger.store.chain_rows() if e["topic"].endswith("Decision.Taken")][-1]
    assert b'"grant":"mandaat-sdd"' in bytes(taken["state"])  # the chain is in the event itself


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (c.TakeDecision(code="x1", title="Besluit", competence="participatiewet",
                        jurisdiction="dordrecht", body="college-dordrecht",
                        taken_on=date(2013, 1, 1), outcome="adopted"), "DELEGATED_AWAY"),
        (c.TakeDecision(code="x2", title="Besluit", competence="participatiewet",
                        jurisdiction="dordrecht", body="raad-dordrecht",
                        taken_on=date(2013, 1, 1), outcome="adopted"), "NOT_COMPETENT"),
        (c.TakeDecision(code="x3", title="Besluit", competence="bestuursbesluiten",
                        jurisdiction="dordrecht", body="dsb",
                        taken_on=date(2013, 1, 1), outcome="adopted"), "LOCAL_COMPETENCE"),
        (c.TakeDecision(code="x4", title="Besluit", competence="participatiewet",
                        jurisdiction="dordrecht", body="directeur-sdd", taken_on=date(2013, 1, 1),
                        outcome="adopted"), "GRANT_NOT_CITED"),
        (c.TakeDecision(code="x5", title="Besluit", competence="participatiewet",
                        jurisdiction="dordrecht", body="directeur-sdd", taken_on=date(2013, 1, 1),
                        outcome="adopted", cited_grant="mandaat-sdd",
                        cited_publication="Gemeenteblad"), "PUBLICATION_MISMATCH"),
        (c.TakeDecision(code="x6", title="Besluit", competence="participatiewet",
                        jurisdiction="nergens", body="dsb", taken_on=date(2013, 1, 1),
                        outcome="adopted"), "UNKNOWN_REFERENCE"),
        (c.GrantDelegation(competence="participatiewet", jurisdiction="dordrecht", code="d2",
                           grantor="dsb", grantee="directeur-sdd", legal_basis="Regeling GRD",
                           source_decision="dsb-mandateert", valid_from=date(2010, 1, 1)),
         "SUBORDINATE_GRANTEE"),
        (c.RevokeGrant(competence="participatiewet", jurisdiction="dordrecht", grant="geen",
                       on=date(2013, 1, 1), reason="x"), "UNKNOWN_REFERENCE"),
        (c.EstablishBody(code="dsb", title="Dubbel", kind="regional_board",
                         jurisdiction="drechtsteden", established_on=date(2006, 3, 8)),
         "ALREADY_EXISTS"),
    ],
)
def test_a_refused_command_stores_no_event_and_keeps_its_refusal(
        ledger: Ledger, command: c.Command, code: str) -> None:
    build_world(ledger)
    events, commands = stored(ledger)
    with pytest.raises(LedgerError) as refusal:
        run(ledger, command)
    assert refusal.value.code == code
    assert refusal.value.message
    assert stored(ledger) == (events, commands + 1)  # the key and its refusal


def test_repeating_a_command_returns_the_first_result_and_appends_nothing(ledger: Ledger) -> None:
    build_world(ledger)
    command = decision_under_mandate("beschikking-2", date(2014, 2, 3))
    first = run(ledger, command, key="griffie-2014-17")
    after_first = stored(ledger)
    again = run(ledger, command, key="griffie-2014-17")
    assert stored(ledger) == after_first
    assert (again.position, again.result, again.replayed) == (first.position, first.result, True)


def test_a_reused_key_with_other_content_is_refused(ledger: Ledger) -> None:
    build_world(ledger)
    run(ledger, decision_under_mandate("beschikking-3", date(2014, 2, 3)), key="k-3")
    before = stored(ledger)
    with pytest.raises(LedgerError) as refusal:
        run(ledger, decision_under_mandate("beschikking-4", date(2014, 2, 3)), key="k-3")
    assert refusal.value.code == "IDEMPOTENCY_KEY_REUSED"
    assert stored(ledger) == before


def test_every_event_carries_its_metadata(ledger: Ledger) -> None:
    context = CommandContext("k-meta", actor="griffie-dordrecht", correlation_id="corr-1")
    ledger.execute(
        c.EstablishJurisdiction(code="sliedrecht", title="Sliedrecht", kind="municipality"),
        context)
    row = ledger.store.chain_rows()[0]
    state = bytes(row["state"]).decode()
    for expected in ('"actor":"griffie-dordrecht"', '"command_id":"k-meta"',
                     '"correlation_id":"corr-1"', '"recorded_at"'):
        assert expected in state


def test_revocations_and_annulments_name_their_reason(ledger: Ledger) -> None:
    build_world(ledger)
    with pytest.raises(LedgerError) as refusal:
        parse_command("revoke_grant", {"competence": "participatiewet", "jurisdiction": "dordrecht",
                                       "grant": "mandaat-sdd", "on": "2015-01-01", "reason": " "})
    assert (refusal.value.code, refusal.value.field) == ("INVALID_COMMAND", "reason")
    run(ledger, c.RevokeGrant(competence="participatiewet", jurisdiction="dordrecht",
                              grant="mandaat-sdd", on=date(2015, 1, 1),
                              reason="Reorganisatie Sociale Dienst"))
    revoked = ledger.store.chain_rows()[-1]
    assert revoked["topic"].endswith("GrantRevoked")
    assert b"Reorganisatie Sociale Dienst" in bytes(revoked["state"])


def test_the_hash_chain_follows_the_documented_canonical_form(ledger: Ledger) -> None:
    build_world(ledger)
    assert ledger.store.chain_rows()
    assert_chained(ledger)


def assert_chained(ledger: Ledger) -> None:
    """Every stored hash is the documented one over the event and the hash before it."""
    previous = GENESIS_HASH
    for row in ledger.store.chain_rows(limit=10**6):
        topic, state = row["topic"].encode(), bytes(row["state"])
        expected = hashlib.sha256(
            previous
            + struct.pack(">q", row["notification_id"])
            + row["originator_id"].bytes
            + struct.pack(">q", row["originator_version"])
            + struct.pack(">i", len(topic)) + topic
            + struct.pack(">i", len(state)) + state
        ).digest()
        assert bytes(row["event_hash"]) == expected, row["notification_id"]
        previous = expected


def test_the_chain_holds_across_a_rolled_back_savepoint(ledger: Ledger) -> None:
    """The trigger carries the last hash from row to row within a transaction; rows a savepoint
    rolls back take the carried hash back with them."""
    build_world(ledger)
    insert = ("INSERT INTO bevoegd_events (originator_id, originator_version, topic, state)"
              " VALUES (%s, 1, 'bevoegd.test:Event', %s)")
    with psycopg.connect(**_conninfo(ledger)) as conn:
        conn.execute("LOCK TABLE bevoegd_events IN EXCLUSIVE MODE")
        conn.execute(insert, (uuid.uuid4(), b'{"kept":1}'))
        with pytest.raises(psycopg.errors.DivisionByZero), conn.transaction():
            conn.execute(insert, (uuid.uuid4(), b'{"undone":1}'))
            conn.execute("SELECT 1 / 0")
        conn.execute(insert, (uuid.uuid4(), b'{"kept":2}'))
    assert [bytes(r["state"]) for r in ledger.store.chain_rows(limit=10**6)][-2:] == [
        b'{"kept":1}', b'{"kept":2}']
    assert_chained(ledger)


def test_stored_events_cannot_be_edited_or_deleted(ledger: Ledger) -> None:
    build_world(ledger)
    with psycopg.connect(**_conninfo(ledger), autocommit=True) as conn:
        with pytest.raises(psycopg.errors.RaiseException, match="immutable"):
            conn.execute("UPDATE bevoegd_events SET topic = 'x'")
        with pytest.raises(psycopg.errors.RaiseException, match="immutable"):
            conn.execute("DELETE FROM bevoegd_events")


def test_a_revocation_cannot_undercut_a_decision_already_taken(ledger: Ledger) -> None:
    build_world(ledger)
    run(ledger, decision_under_mandate("beschikking-5", date(2016, 6, 1)))
    with pytest.raises(LedgerError) as refusal:
        run(ledger, c.RevokeGrant(competence="participatiewet", jurisdiction="dordrecht",
                                  grant="mandaat-sdd", on=date(2016, 1, 1), reason="te laat"))
    assert refusal.value.code == "RELIED_ON_AFTER"
    run(ledger, c.RevokeGrant(competence="participatiewet", jurisdiction="dordrecht",
                              grant="mandaat-sdd", on=date(2016, 6, 2), reason="op tijd"))
    with pytest.raises(LedgerError) as late:
        run(ledger, decision_under_mandate("beschikking-6", date(2016, 7, 1)))
    assert late.value.code == "MANDATE_REVOKED"


def test_a_batch_applies_the_good_lines_and_answers_each(ledger: Ledger) -> None:
    build_world(ledger)
    items = [
        (decision_under_mandate("b-1", date(2013, 1, 1)), CommandContext("batch-1")),
        (decision_under_mandate("b-1", date(2013, 1, 2)), CommandContext("batch-2")),
        (decision_under_mandate("b-2", date(2013, 1, 3)), CommandContext("batch-3")),
        (decision_under_mandate("b-2", date(2013, 1, 3)), CommandContext("batch-3")),
        (decision_under_mandate("b-3", date(2013, 1, 3)), CommandContext("batch-3")),
    ]
    outcomes = ledger.execute_batch(items)
    assert [getattr(o, "code", "ok") for o in outcomes] == [
        "ok", "ALREADY_TAKEN", "ok", "ok", "IDEMPOTENCY_KEY_REUSED"]
    assert outcomes[3].replayed and outcomes[3].position == outcomes[2].position  # type: ignore[union-attr]
    before = stored(ledger)
    again = ledger.execute_batch(items)
    assert stored(ledger) == before
    assert [getattr(o, "code", "ok") for o in again] == [
        "ok", "ALREADY_TAKEN", "ok", "ok", "IDEMPOTENCY_KEY_REUSED"]
    assert [o.replayed for o in again] == [True, True, True, True, False]


def test_personal_data_never_reaches_a_plain_event(ledger: Ledger) -> None:
    build_world(ledger)
    command = decision_under_mandate("beschikking-pd", date(2014, 5, 1)).model_copy(
        update={"addressee": c.PrivatePersonInput(person="p-1", name="J. Jansen",
                                                 address="Voorstraat 1, Dordrecht")})
    events, _ = stored(ledger)
    with pytest.raises(LedgerError) as refusal:
        run(ledger, command)
    assert refusal.value.code == "PERSONAL_DATA_NOT_ACCEPTED"
    assert stored(ledger)[0] == events


def test_a_large_batch_is_saved_in_one_piece(ledger: Ledger) -> None:
    """Thousands of events in one transaction (an import batch) go through and keep order."""
    build_world(ledger)
    commands_before = stored(ledger)[1]
    items = [(decision_under_mandate(f"bulk-{i}", date(2010, 1, 1) + timedelta(days=i % 3000)),
              CommandContext(f"bulk-{i}")) for i in range(1500)]
    finished: list[list[CommandResult | LedgerError]] = []
    worker = threading.Thread(target=lambda: finished.append(ledger.execute_batch(items)),
                              daemon=True)
    worker.start()
    worker.join(timeout=300)
    assert finished, "the batch did not complete"
    positions = [outcome.position for outcome in finished[0]
                 if isinstance(outcome, CommandResult)]
    assert len(positions) == 1500
    assert positions == sorted(positions)
    assert stored(ledger)[1] == commands_before + 1500



def test_opening_a_ledger_beside_a_writer_takes_no_table_lock(database_url: str) -> None:
    """A server process started beside running ones (a replaced worker) opens the ledger while
    others write: with the tables in shape it must not queue behind a writer's lock on the
    events table (its ALTER TABLE did, and could deadlock with the writer)."""
    Ledger(env=eventsourcing_env(database_url)).close()  # the tables made and marked
    with psycopg.connect(database_url) as writer:
        writer.execute(f"LOCK TABLE {EVENTS_TABLE} IN EXCLUSIVE MODE")  # as the recorder does
        opened: list[Ledger] = []
        opening = threading.Thread(
            target=lambda: opened.append(Ledger(env=eventsourcing_env(database_url))), daemon=True)
        opening.start()
        opening.join(timeout=10)  # a deadline, not a timing: past it, the opening is stuck
        assert opened, "opening the ledger waited for the writer's lock"
        writer.rollback()
    opened[0].close()


def _line(command: c.Command, key: str) -> str:
    return json.dumps({"command": command.name, "idempotency_key": key,
                       "input": command.model_dump(mode="json")})


def test_an_import_sees_what_another_writer_changed_between_its_batches(
        ledger: Ledger, database_url: str) -> None:
    """An import keeps the records it has read from batch to batch; when another process's
    writer changes one of them in between (here: revokes the mandate the import's decisions
    rest on), the import's next batch must act on the change, not on the record in hand."""
    build_world(ledger)
    lines = [_line(decision_under_mandate("import-1", date(2016, 6, 1)), "import-1"),
             _line(decision_under_mandate("import-2", date(2016, 7, 1)), "import-2")]
    other = Ledger(env=eventsourcing_env(database_url))  # another process: its own records
    try:
        imported = import_lines(ledger, lines, actor="import", correlation_id="import",
                                batch_size=1)
        first = next(imported)
        assert isinstance(first.outcome, CommandResult)
        run(other, c.RevokeGrant(competence="participatiewet", jurisdiction="dordrecht",
                                 grant="mandaat-sdd", on=date(2016, 6, 2), reason="herzien"))
        second = next(imported)
    finally:
        other.close()
    assert isinstance(second.outcome, LedgerError)
    assert second.outcome.code == "MANDATE_REVOKED"


def test_an_import_does_not_take_a_record_made_meanwhile_to_be_absent(
        ledger: Ledger, database_url: str) -> None:
    """The import notes the records it found absent (here a competence holding, when ending an
    attribution that was never made); after another process makes the record, the import's
    next batch must find it, not refuse from what it noted."""
    build_world(ledger)
    end = c.EndAttribution(competence="participatiewet", jurisdiction="drechtsteden", body="dsb",
                           on=date(2015, 1, 1), reason="taak terug naar de gemeenten")
    lines = [_line(end, "end-1"), _line(end, "end-2")]
    other = Ledger(env=eventsourcing_env(database_url))
    try:
        imported = import_lines(ledger, lines, actor="import", correlation_id="import",
                                batch_size=1)
        first = next(imported)
        assert isinstance(first.outcome, LedgerError)
        assert first.outcome.code == "NOT_ATTRIBUTED"
        run(other, c.AttributeCompetence(
            competence="participatiewet", jurisdiction="drechtsteden", body="dsb",
            legal_basis="Regeling GRD", valid_from=date(2014, 1, 1)))
        second = next(imported)
    finally:
        other.close()
    assert isinstance(second.outcome, CommandResult), second.outcome
