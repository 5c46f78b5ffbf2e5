"""The ledgerEvents subscription over WebSocket (graphql-transport-ws): events in order from a
position, live writes, resuming without gaps or repeats, the type filter, and who sees metadata.

Every wait has a deadline (graphql_client.receive), so a missing event fails the test instead
of hanging it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from ledger import commands as c
from ledger.application import Ledger
from ledger.history import history_entries
from ledger.values import record_id
from tests.graphql_client import (
    UNPUBLISHED,
    Api,
    assert_no_leak,
    decision_record,
    issue_token,
    load_world,
    receive,
    serving,
)

pytestmark = pytest.mark.database

PROTOCOL = "graphql-transport-ws"
EVENTS = ("subscription($after: Int!, $types: [String!]) { ledgerEvents(after: $after, "
          "types: $types) { position type recordCode actor commandId correlationId releasedAt } }")


def ledger_events(ledger: Ledger, after: int = 0) -> list[dict[str, Any]]:
    """The ledger's own record of its events after a position (the write side, not the API)."""
    return history_entries(ledger, None, after, 100_000)


def positions(events: list[dict[str, Any]]) -> list[int]:
    return [event["position"] for event in events]


@contextmanager
def subscribed(api: Api, after: int, *, types: list[str] | None = None,
               init_token: str | None = None, header_token: str | None = None,
               query: str = EVENTS) -> Iterator[WebSocketTestSession]:
    """A connection with one ledgerEvents subscription (id "1") running."""
    with api.subscribe(token=header_token) as ws:
        assert ws.accepted_subprotocol == PROTOCOL
        init: dict[str, Any] = {"type": "connection_init"}
        if init_token is not None:
            init["payload"] = {"Authorization": f"Bearer {init_token}"}
        ws.send_json(init)
        assert receive(ws)["type"] == "connection_ack"
        ws.send_json({"id": "1", "type": "subscribe", "payload": {
            "query": query, "variables": {"after": after, "types": types}}})
        yield ws
        ws.send_json({"id": "1", "type": "complete"})


def next_event(ws: WebSocketTestSession) -> dict[str, Any]:
    message = receive(ws)
    assert message["type"] == "next", message
    assert_no_leak(message["payload"])
    assert not message["payload"].get("errors"), message
    return message["payload"]["data"]["ledgerEvents"]


def events_until(ws: WebSocketTestSession, last: int) -> list[dict[str, Any]]:
    """The events received up to and including position `last`."""
    found: list[dict[str, Any]] = []
    while not found or found[-1]["position"] < last:
        found.append(next_event(ws))
    return found


def take(ws: WebSocketTestSession, count: int) -> list[dict[str, Any]]:
    return [next_event(ws) for _ in range(count)]


def decision(code: str, day: date) -> c.TakeDecision:
    return c.TakeDecision(code=code, title=f"Besluit {code}", competence="bestuursbesluiten",
                          jurisdiction="dordrecht", body="college-dordrecht", taken_on=day,
                          outcome="adopted")


@pytest.fixture
def world(database_url: str, ledger: Ledger) -> int:
    return load_world(ledger)


def test_events_arrive_in_order_then_live(database_url: str, ledger: Ledger,
                                          world: int) -> None:
    auditor = issue_token(database_url, "auditor", name="rekenkamer")
    admin = issue_token(database_url, "admin", name="beheerder")
    with serving(database_url) as api, subscribed(api, 0, init_token=auditor) as ws:
        seen = events_until(ws, world)
        assert positions(seen) == positions(ledger_events(ledger))
        assert [e["type"] for e in seen] == [e["type"] for e in ledger_events(ledger)]

        # writes made while subscribed arrive, in ledger order
        api.accepted(decision("live-1", date(2013, 4, 1)), "live-1", token=admin)
        last = api.accepted(decision("live-2", date(2013, 4, 2)), "live-2", token=admin)
        live = events_until(ws, last)
        assert positions(live) == positions(ledger_events(ledger, world))
        assert {e["recordCode"] for e in live} >= {"live-1", "live-2"}


def test_after_starts_past_that_position(database_url: str, ledger: Ledger, world: int) -> None:
    auditor = issue_token(database_url, "auditor", name="rekenkamer")
    with serving(database_url) as api:
        for after in (0, 1, 17, world - 1):
            with subscribed(api, after, init_token=auditor) as ws:
                assert positions(events_until(ws, world)) \
                    == positions(ledger_events(ledger, after))


def test_resuming_from_the_last_position_seen(database_url: str, ledger: Ledger,
                                              world: int) -> None:
    auditor = issue_token(database_url, "auditor", name="rekenkamer")
    admin = issue_token(database_url, "admin", name="beheerder")
    with serving(database_url) as api:
        with subscribed(api, 0, init_token=auditor) as ws:
            first = take(ws, 10)
        # written while nobody listens
        for number in range(3):
            head = api.accepted(decision(f"resume-{number}", date(2013, 5, 1 + number)),
                                f"resume-{number}", token=admin)
        with subscribed(api, first[-1]["position"], init_token=auditor) as ws:
            second = events_until(ws, head)
        with subscribed(api, second[-1]["position"], init_token=auditor) as ws:
            last = api.accepted(decision("resume-late", date(2013, 6, 1)), "late", token=admin)
            third = events_until(ws, last)
    received = positions(first + second + third)
    assert received == positions(ledger_events(ledger))  # no gap, no repeat, in order
    assert len(set(received)) == len(received)


def test_the_legacy_protocol_is_refused(database_url: str, world: int) -> None:
    with serving(database_url) as api:
        for protocol in ("graphql-ws", "graphql-transport-ws-legacy"):
            with api.subscribe(protocol=protocol) as ws:
                assert ws.accepted_subprotocol != protocol
                ws.send_json({"type": "connection_init", "payload": {}})
                ws.send_json({"id": "1", "type": "start", "payload": {"query": EVENTS,
                                                                      "variables": {"after": 0}}})
                message = receive(ws)
                assert message == {"type": "closed", "code": 4406}, message


def test_subscriptions_are_not_served_over_http(database_url: str, world: int) -> None:
    with serving(database_url) as api:
        body = api.post(EVENTS, {"after": 0}).json()
        assert body.get("errors") and not body.get("data"), body
        assert "WebSocket" in body["errors"][0]["message"]


def test_the_types_filter(database_url: str, ledger: Ledger, world: int) -> None:
    auditor = issue_token(database_url, "auditor", name="rekenkamer")
    admin = issue_token(database_url, "admin", name="beheerder")
    wanted = ["Decision.Taken", "Decision.Published"]
    expected = [e for e in ledger_events(ledger) if e["type"] in wanted]
    assert {e["type"] for e in expected} == set(wanted)  # the world has both
    with serving(database_url) as api, \
            subscribed(api, 0, types=wanted, init_token=auditor) as ws:
        seen = take(ws, len(expected))
        assert positions(seen) == positions(expected)
        assert {e["type"] for e in seen} == set(wanted)
        # a new decision records more than one event; only its Taken comes through
        last = api.accepted(decision("gefilterd", date(2013, 7, 1)), "filtered", token=admin)
        taken = [e for e in ledger_events(ledger, world) if e["type"] == "Decision.Taken"]
        assert positions(ledger_events(ledger, world)) != positions(taken)
        arrived = next_event(ws)
        assert arrived["position"] == taken[0]["position"] <= last
        assert arrived["type"] == "Decision.Taken" and arrived["recordCode"] == "gefilterd"


WITH_RECORDS = ("subscription($after: Int!, $types: [String!]) { ledgerEvents(after: $after, "
                "types: $types) { position type record { ... on Decision { code status } } } }")


def test_each_event_gives_its_record_as_it_stands_when_it_arrives(
        database_url: str, ledger: Ledger, world: int) -> None:
    """A subscription lives long and records change: a record given with one event is not
    given again, unchanged, with a later one."""
    admin = issue_token(database_url, "admin", name="beheerder")
    with serving(database_url) as api, subscribed(
            api, world, init_token=admin, query=WITH_RECORDS,
            types=["Decision.Taken", "Decision.Published"]) as ws:
        api.accepted(decision("levend", date(2013, 8, 1)), "taken", token=admin)
        assert next_event(ws)["record"] == {"code": "levend", "status": "ADOPTED"}
        api.accepted(c.PublishDecision(decision="levend", on=date(2013, 8, 5),
                                       publication="Gemeenteblad 2013-80"), "publish",
                     token=admin)
        assert next_event(ws)["record"] == {"code": "levend", "status": "PUBLISHED"}


METADATA = ("actor", "commandId", "correlationId")


def test_auditors_get_metadata_and_the_public_does_not(database_url: str, ledger: Ledger,
                                                       world: int) -> None:
    auditor = issue_token(database_url, "auditor", name="rekenkamer")
    concept = str(record_id("decision", UNPUBLISHED))
    hidden = {e["position"] for e in ledger_events(ledger) if decision_record(e) == concept}
    assert hidden
    public_positions = [p for p in positions(ledger_events(ledger)) if p not in hidden]
    with serving(database_url) as api:
        with subscribed(api, 0) as ws:
            public = take(ws, len(public_positions))
        # every published event, a decision's earlier events at its publication
        assert sorted(positions(public)) == public_positions
        assert received(public) == public_stream(ledger)
        assert all(event[field] is None for event in public for field in METADATA)
        assert UNPUBLISHED not in {event["recordCode"] for event in public}

        for how in ("init_token", "header_token"):
            with subscribed(api, 0, **{how: auditor}) as ws:
                audited = events_until(ws, world)
            assert positions(audited) == positions(ledger_events(ledger))
            assert {event["actor"] for event in audited} == {"griffie"}
            assert all(event["commandId"] for event in audited)


@pytest.mark.parametrize("how", ["init_token", "header_token"])
def test_an_unknown_token_closes_the_connection(database_url: str, world: int,
                                                how: str) -> None:
    with serving(database_url) as api:
        try:
            with api.subscribe(token="bvg_unknown" if how == "header_token" else None) as ws:
                payload = {"Authorization": "Bearer bvg_unknown"} if how == "init_token" else {}
                ws.send_json({"type": "connection_init", "payload": payload})
                message = receive(ws)
        except WebSocketDisconnect as refused:  # refused during the handshake: also fine
            message = {"type": "closed", "code": refused.code}
        assert message["type"] == "closed" and message["code"] in (4401, 4403), message


def test_a_negative_after_is_a_clear_error(database_url: str, world: int) -> None:
    with serving(database_url) as api, subscribed(api, -1) as ws:
        message = receive(ws)
        assert_no_leak(message)
        errors = message["payload"]["errors"]
        assert "after" in errors[0]["message"]


def test_an_after_beyond_the_ledger_is_a_clear_error(database_url: str, world: int) -> None:
    with serving(database_url) as api, subscribed(api, world + 1000) as ws:
        message = receive(ws)
        [error] = message["payload"]["errors"]
        assert error["extensions"] == {"code": "INVALID_ARGUMENT", "argument": "after"}, message
        assert "beyond the ledger's last event" in error["message"]


def test_a_nul_in_the_types_is_refused_before_anything_runs(database_url: str,
                                                           world: int) -> None:
    with serving(database_url) as api, subscribed(api, 0, types=["Decision.Taken\u0000"]) as ws:
        message = receive(ws)
        assert message["type"] == "error", message
        assert [e["extensions"] for e in message["payload"]] == [
            {"code": "INVALID_ARGUMENT", "variable": "types"}]


def test_subscription_errors_carry_their_code(database_url: str, world: int) -> None:
    with serving(database_url) as api, subscribed(api, -1) as ws:
        message = receive(ws)
        assert message["payload"]["errors"][0].get("extensions", {}).get("code") \
            == "INVALID_ARGUMENT", message


def test_each_message_reports_its_own_cost(database_url: str, world: int) -> None:
    """Other requests in between must not change what a subscription reports (extensions made
    once per request, not shared)."""
    admin = issue_token(database_url, "admin", name="beheerder")
    with serving(database_url) as api, subscribed(api, 0, init_token=admin) as ws:
        first = receive(ws)["payload"]["extensions"]["cost"]
        costly = api.answer("{ decisions(first: 50) { nodes { code history(first: 10) "
                            "{ nodes { position } } } } }")
        assert costly["extensions"]["cost"]["requested"] != first["requested"]
        api.accepted(decision("kosten", date(2013, 8, 1)), "cost", token=admin)
        for _ in range(world):
            assert receive(ws)["payload"]["extensions"]["cost"] == first


@pytest.mark.parametrize("document", [
    "subscription { ledgerEvents(after: ",
    "subscription { ledgerEvents(after: 0) { position } " + "a " * 3100 + "}",
], ids=["does not parse", "over the token limit"])
def test_a_document_that_does_not_parse_is_refused_and_not_logged(
        database_url: str, world: int, document: str, caplog: pytest.LogCaptureFixture) -> None:
    """As graphql-transport-ws servers do: the socket closes with 4400 and the parser's reason;
    a client's mistake is not the server's error, so nothing is logged."""
    with serving(database_url) as api, api.subscribe() as ws:
        ws.send_json({"type": "connection_init"})
        assert receive(ws)["type"] == "connection_ack"
        ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": document}})
        assert receive(ws) == {"type": "closed", "code": 4400}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


# The public and publication ----------------------------------------------------------------


def public_stream(ledger: Ledger) -> list[tuple[int, int | None]]:
    """What the public receives, as (position, releasedAt), from the ledger's own record: every
    event in its place, except the events of a decision (decision_record) before its
    publication, which come at the publication, just before it; nothing of a decision never
    published."""
    events = ledger_events(ledger)
    published = {e["record"]: e["position"] for e in events if e["type"] == "Decision.Published"}
    received = []
    for event in events:
        if (decision := decision_record(event)) is None:
            received.append(((event["position"], event["position"]), None))
        elif decision in published:
            at = max(event["position"], published[decision])
            received.append(((at, event["position"]),
                             at if at != event["position"] else None))
    return [(key[1], released_at) for key, released_at in sorted(received)]


def received(events: list[dict[str, Any]]) -> list[tuple[int, int | None]]:
    return [(event["position"], event["releasedAt"]) for event in events]


def test_a_publication_releases_the_decisions_earlier_events_to_the_public(
        database_url: str, ledger: Ledger, world: int) -> None:
    """A public subscriber sees nothing of a decision until it is published, then its earlier
    events, marked released at the publication, then the publication; resuming after any
    position, released or not, gives the rest of that stream, without a gap or a repeat."""
    admin = issue_token(database_url, "admin", name="beheerder")
    before = public_stream(ledger)
    with serving(database_url) as api:
        with subscribed(api, 0) as ws:
            assert received(take(ws, len(before))) == before
            taken = api.accepted(decision("nog-niet-bekend", date(2013, 8, 1)), "taken",
                                 token=admin)
            seat = api.accepted(c.FillSeat(body="college-dordrecht", seat="secretaris",
                                           holder="A. de Vries", on=date(2013, 8, 2)),
                                "seat", token=admin)
            # nothing of the unpublished decision, nor of what it did to its competence
            meanwhile = events_until(ws, seat)
            assert received(meanwhile) == public_stream(ledger)[len(before):]
            assert "nog-niet-bekend" not in {event["recordCode"] for event in meanwhile}
            published = []
            for code, key in (("nog-niet-bekend", "publish"), (UNPUBLISHED, "publish-concept")):
                published.append(api.accepted(c.PublishDecision(
                    decision=code, on=date(2013, 8, 5), publication=f"Gemeenteblad {code}"),
                    key, token=admin))
            released = received(events_until(ws, published[-1]))
        whole = public_stream(ledger)
        assert before + received(meanwhile) + released == whole
        concept = {e["position"] for e in ledger_events(ledger)
                   if decision_record(e) == str(record_id("decision", UNPUBLISHED))}
        # each publication brings its decision's earlier events, in order, then itself
        assert released == [
            *[(p, published[0]) for p in range(world + 1, taken + 1)
              if p not in positions(meanwhile)], (published[0], None),
            *[(p, published[1]) for p in sorted(concept) if p < published[1]],
            (published[1], None)]

        # resuming after every position there is: any event seen, released or not, and the
        # positions of events the public never saw
        for after in range(published[-1]):
            expected = whole[next((i + 1 for i, (p, _) in enumerate(whole) if p == after), 0):] \
                if after else whole
            with subscribed(api, after) as ws:
                assert received(take(ws, len(expected))) == expected, after

        # a publication releases what was asked for even when the publication itself was not
        types = {e["position"]: e["type"] for e in ledger_events(ledger)}
        taken_only = [(p, at) for p, at in whole if types[p] == "Decision.Taken"]
        assert any(at is not None for _, at in taken_only)
        with subscribed(api, 0, types=["Decision.Taken"]) as ws:
            assert received(take(ws, len(taken_only))) == taken_only
