"""What auditors get from the API: the chain's hash material of every event, enough to recompute
the chain from the API's answers alone (and the same from `bevoegd history --json`), reads as
known at a moment in time, and the audit trail by recording time. The public gets none of it."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from click.testing import CliRunner

from api.cli import main
from ledger.database import DATABASE_URL_VARIABLE
from tests.graphql_client import UNPUBLISHED, Api, issue_token, serving, world_database

pytestmark = pytest.mark.database

GENESIS = bytes(32)


def chain_hash(previous: bytes, position: int, record_id: UUID, version: int, topic: str,
               state: bytes) -> bytes:
    """The chain's hash as docs/verification.md defines it, written out here as a third party
    would, not taken from the code under test."""
    encoded = topic.encode()
    return hashlib.sha256(
        previous + position.to_bytes(8, "big") + record_id.bytes + version.to_bytes(8, "big")
        + len(encoded).to_bytes(4, "big") + encoded + len(state).to_bytes(4, "big") + state
    ).digest()


def assert_chain_holds(events: list[dict[str, Any]]) -> None:
    """Each event's hash recomputed from its fields and the hash before it, from the first."""
    previous = GENESIS
    for event in events:
        assert bytes.fromhex(event["previous_hash"]) == previous, event["position"]
        recomputed = chain_hash(previous, event["position"], UUID(event["record"]),
                                event["version"], event["topic"],
                                base64.b64decode(event["state"]))
        assert recomputed.hex() == event["hash"], event["position"]
        previous = recomputed


class World:
    def __init__(self, api: Api, url: str, position: int, auditor: str) -> None:
        self.api, self.url, self.position, self.auditor = api, url, position, auditor

    def trail(self, token: str | None = None, **filters: Any) -> list[dict[str, Any]]:
        arguments = "".join(f", {name}: ${name}" for name in filters)
        declared = "".join(f", ${name}: DateTime" for name in filters)
        query = (f"query($first: Int!{declared}) {{ auditTrail(first: $first{arguments}) "
                 "{ nodes { position version recordCode recordedAt "
                 "stored { recordId topic state hash previousHash } } } }")
        return self.api.data(query, {"first": 100, **filters},
                             token=token)["auditTrail"]["nodes"]


@pytest.fixture(scope="module")
def world(server_url: str) -> Iterator[World]:
    """The small world, served and projected; one for the module, as every test only reads."""
    with world_database(server_url) as (url, position):
        auditor = issue_token(url, "auditor", name="rekenkamer")
        with serving(url) as api:
            api.data("query($at: Int) { decisions(first: 1, atLeast: $at) { nodes { code } } }",
                     {"at": position})
            yield World(api, url, position, auditor)


# The chain from the API -----------------------------------------------------------------------


def test_the_chain_recomputes_from_the_api_alone(world: World) -> None:
    events = world.trail(world.auditor)
    assert len(events) == world.position < 100  # every event, on one page
    assert_chain_holds([{
        "position": e["position"], "version": e["version"], "record": e["stored"]["recordId"],
        "topic": e["stored"]["topic"], "state": e["stored"]["state"],
        "hash": e["stored"]["hash"], "previous_hash": e["stored"]["previousHash"]}
        for e in events])


def test_a_changed_byte_breaks_the_recomputed_chain(world: World) -> None:
    events = [{"position": e["position"], "version": e["version"],
               "record": e["stored"]["recordId"], "topic": e["stored"]["topic"],
               "state": e["stored"]["state"], "hash": e["stored"]["hash"],
               "previous_hash": e["stored"]["previousHash"]} for e in world.trail(world.auditor)]
    state = bytearray(base64.b64decode(events[3]["state"]))
    state[-2] ^= 1
    events[3]["state"] = base64.b64encode(bytes(state)).decode()
    with pytest.raises(AssertionError):
        assert_chain_holds(events)


def test_the_public_gets_no_hash_material(world: World) -> None:
    events = world.trail()
    assert events and all(e["stored"] is None and e["recordedAt"] is None for e in events)


def test_history_json_gives_the_same_hash_material(world: World,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATABASE_URL_VARIABLE, world.url)
    result = CliRunner().invoke(main, ["history", "--json", "--limit", "1000"])
    assert result.exit_code == 0, result.output
    entries = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert_chain_holds(entries)
    by_position = {e["position"]: e["stored"] for e in world.trail(world.auditor)}
    for entry in entries:
        stored = by_position[entry["position"]]
        assert (entry["record"], entry["topic"], entry["state"], entry["hash"],
                entry["previous_hash"]) == (stored["recordId"], stored["topic"],
                                            stored["state"], stored["hash"],
                                            stored["previousHash"])
    # one record's history: not consecutive, yet each event names the hash it is chained to
    one = CliRunner().invoke(main, ["history", "--json", "--aggregate", "body:dsb"])
    for line in one.output.splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            assert entry["previous_hash"] == by_position[entry["position"]]["previousHash"]


# Known at a moment in time --------------------------------------------------------------------

DECISIONS = ("query($t: DateTime, $p: Int) { decisions(first: 10, knownAtTime: $t, knownAt: $p) "
             "{ nodes { code } } }")


def _codes(world: World, time: str | None = None, position: int | None = None) -> set[str]:
    found = world.api.data(DECISIONS, {"t": time, "p": position}, token=world.auditor)
    return {node["code"] for node in found["decisions"]["nodes"]}


def test_known_at_time_is_the_last_position_recorded_by_then(world: World) -> None:
    events = world.trail(world.auditor)
    for event in events:
        moment = datetime.fromisoformat(event["recordedAt"])
        recorded_by_then = max(e["position"] for e in events
                               if datetime.fromisoformat(e["recordedAt"]) <= moment)
        assert _codes(world, event["recordedAt"]) == _codes(world, position=recorded_by_then)
    first = datetime.fromisoformat(events[0]["recordedAt"])
    assert _codes(world, (first - timedelta(days=1)).isoformat()) == set()
    # a moment without an offset is in UTC
    last = datetime.fromisoformat(events[-1]["recordedAt"])
    assert _codes(world, last.replace(tzinfo=None).isoformat()) == _codes(world) \
        == {"college-delegeert", "dsb-mandateert", UNPUBLISHED}


def test_a_decision_is_unknown_just_before_it_was_recorded(world: World) -> None:
    events = world.trail(world.auditor)
    first = next(i for i, e in enumerate(events) if e["recordCode"] == "college-delegeert")
    assert "college-delegeert" in _codes(world, events[first]["recordedAt"])
    assert "college-delegeert" not in _codes(world, events[first - 1]["recordedAt"])


def test_known_at_and_known_at_time_together_are_refused(world: World) -> None:
    body = world.api.post(DECISIONS, {"t": "2030-01-01T00:00:00Z", "p": 1},
                          token=world.auditor).json()
    assert [e["extensions"] for e in body["errors"]] == [
        {"code": "INVALID_ARGUMENT", "argument": "knownAtTime"}]


def test_only_auditors_read_as_known_at_a_time(world: World) -> None:
    body = world.api.post(DECISIONS, {"t": "2030-01-01T00:00:00Z"}).json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


# The audit trail by recording time ------------------------------------------------------------


def test_the_audit_trail_by_recording_time(world: World) -> None:
    events = world.trail(world.auditor)
    times = sorted({e["recordedAt"] for e in events})
    start, end = times[2], times[-3]
    found = world.trail(world.auditor, recordedFrom=start, recordedUntil=end)
    assert [e["position"] for e in found] == [
        e["position"] for e in events
        if datetime.fromisoformat(start) <= datetime.fromisoformat(e["recordedAt"])
        < datetime.fromisoformat(end)]
    assert found and len(found) < len(events)
    assert [e["position"] for e in world.trail(world.auditor, recordedFrom=times[-1])] \
        == [e["position"] for e in events if e["recordedAt"] == times[-1]]


@pytest.mark.parametrize("bound", ["recordedFrom", "recordedUntil"])
def test_only_auditors_filter_by_recording_time(world: World, bound: str) -> None:
    body = world.api.post(f"query($t: DateTime) {{ auditTrail(first: 5, {bound}: $t) "
                          "{ nodes { position } } }", {"t": "2030-01-01T00:00:00Z"}).json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


# Events by their hash -------------------------------------------------------------------------

BY_HASH = ("query($hash: String!) { ledgerEventsByHash(hash: $hash) "
           "{ position recordKind recordCode } }")


def test_an_event_is_found_by_its_hash_or_its_first_digits(world: World) -> None:
    events = world.trail(world.auditor)
    for event in (events[0], events[len(events) // 2], events[-1]):
        whole = event["stored"]["hash"]
        for given in (whole, whole[:8], whole.upper()[:16]):
            found = world.api.data(BY_HASH, {"hash": given}, token=world.auditor)
            assert event["position"] in [e["position"] for e in found["ledgerEventsByHash"]]
        assert [e["position"] for e in world.api.data(
            BY_HASH, {"hash": whole}, token=world.auditor)["ledgerEventsByHash"]] == [
            event["position"]]


def test_the_public_finds_by_hash_only_what_it_may_see(world: World) -> None:
    hidden = [e for e in world.trail(world.auditor) if e["recordCode"] == UNPUBLISHED]
    assert hidden
    for event in hidden:
        given = {"hash": event["stored"]["hash"]}
        assert world.api.data(BY_HASH, given)["ledgerEventsByHash"] == []
        assert world.api.data(BY_HASH, given, token=world.auditor)["ledgerEventsByHash"]


LEAF_OF = ("query($position: Int!, $size: Int!) { inclusionProof(position: $position, "
           "treeSize: $size) { leafHash } }")


def _leaf_hash(world: World, position: int) -> str:
    return str(world.api.data(LEAF_OF, {"position": position, "size": world.position},
                              token=world.auditor)["inclusionProof"]["leafHash"])


def _found(world: World, hash_: str, token: str | None = None) -> list[int]:
    return [e["position"] for e in world.api.data(BY_HASH, {"hash": hash_},
                                                  token=token)["ledgerEventsByHash"]]


def test_an_event_is_found_by_its_leaf_hash(world: World) -> None:
    """The leaf hash as proofs and tiles give it (base64), whole; a hash one bit away finds
    nothing, whether the bit is in the part the lookup starts from or in the rest."""
    events = world.trail(world.auditor)
    for event in (events[0], events[len(events) // 2], events[-1]):
        leaf = _leaf_hash(world, event["position"])
        assert _found(world, leaf, world.auditor) == [event["position"]]
        for byte in (0, 31):
            changed = bytearray(base64.b64decode(leaf))
            changed[byte] ^= 1
            assert _found(world, base64.b64encode(bytes(changed)).decode(), world.auditor) == []


def test_the_public_finds_by_leaf_hash_only_what_it_may_see(world: World) -> None:
    hidden = [e for e in world.trail(world.auditor) if e["recordCode"] == UNPUBLISHED]
    shown = next(e for e in world.trail(world.auditor) if e["recordCode"] != UNPUBLISHED)
    for event in hidden:
        leaf = _leaf_hash(world, event["position"])
        assert _found(world, leaf) == []
        assert _found(world, leaf, world.auditor) == [event["position"]]
    assert _found(world, _leaf_hash(world, shown["position"])) == [shown["position"]]


@pytest.mark.parametrize("given", ["abc", "abcdefg", "zzzzzzzz", "0" * 66, "12345678 ", "Z" * 44,
                                   "A" * 42 + "B="])
def test_a_hash_that_is_no_hash_is_refused(world: World, given: str) -> None:
    answer = world.api.post(BY_HASH, {"hash": given}).json()
    assert answer["data"] is None
    assert answer["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"
    assert answer["errors"][0]["extensions"]["argument"] == "hash"
