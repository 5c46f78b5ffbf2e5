"""A revoked token ends the subscriptions it opened: the socket closes with 4403 (Forbidden), and
no event is sent once `revoke_tokens` has returned, whether the stream was idle or busy.

Every wait has a deadline (graphql_client.receive), so a stream that goes on fails the test
instead of hanging it."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest

from ledger.application import Ledger
from tests.graphql_client import issue_token, load_world, receive, revoke, serving
from tests.ledger_setup import run
from tests.test_graphql_subscription import decision, events_until, subscribed

pytestmark = pytest.mark.database

CLOSED_FORBIDDEN = {"type": "closed", "code": 4403}
BUSY_WRITES = 2000
"""The most the busy writer writes; it stops well before, once the test has seen enough."""


@pytest.fixture
def world(database_url: str, ledger: Ledger) -> int:
    return load_world(ledger)


@pytest.mark.parametrize("how", ["init_token", "header_token"])
def test_revoking_closes_an_idle_subscription(database_url: str, world: int, how: str) -> None:
    """Nothing is written: only the connection's own re-check can notice the revocation."""
    auditor = issue_token(database_url, "auditor", name="rekenkamer")
    with serving(database_url) as api, subscribed(api, 0, **{how: auditor}) as ws:
        events_until(ws, world)
        assert revoke(database_url, "rekenkamer") == 1
        assert receive(ws) == CLOSED_FORBIDDEN


def test_an_event_written_after_the_revocation_is_not_sent(database_url: str,
                                                           world: int) -> None:
    auditor = issue_token(database_url, "auditor", name="rekenkamer")
    admin = issue_token(database_url, "admin", name="beheerder")
    with serving(database_url) as api, subscribed(api, 0, init_token=auditor) as ws:
        events_until(ws, world)
        assert revoke(database_url, "rekenkamer") == 1
        api.accepted(decision("na-intrekking", date(2013, 9, 1)), "after-revocation",
                     token=admin)
        assert receive(ws) == CLOSED_FORBIDDEN


def test_revoking_stops_a_busy_subscription(database_url: str, ledger: Ledger,
                                            world: int) -> None:
    auditor = issue_token(database_url, "auditor", name="rekenkamer")
    revoked = threading.Event()
    stop = threading.Event()
    written_after_revocation: list[int] = []
    """The ledger position before each write begun once the revocation had returned: the
    events after it were all recorded after that, so none of them may be sent."""

    def write_continuously() -> None:
        for number in range(BUSY_WRITES):
            if stop.is_set():
                return
            begun_after_revocation, before = revoked.is_set(), ledger.position()
            run(ledger, decision(f"druk-{number}", date(2014, 1, 1) + timedelta(days=number)))
            if begun_after_revocation:
                written_after_revocation.append(before)

    writer = threading.Thread(target=write_continuously)
    with serving(database_url) as api, subscribed(api, 0, init_token=auditor) as ws:
        events_until(ws, world)
        writer.start()
        try:
            events_until(ws, world + 20)  # the stream is busy with the writes
            assert revoke(database_url, "rekenkamer") == 1
            revoked.set()
            while (message := receive(ws))["type"] == "next":
                position = message["payload"]["data"]["ledgerEvents"]["position"]
                assert not written_after_revocation or position <= written_after_revocation[0], (
                    f"event {position} was recorded after the revocation returned, yet sent")
            assert message == CLOSED_FORBIDDEN
        finally:
            stop.set()
            writer.join()
