"""The transparency log as a server publishes it (C2SP tlog-tiles under /log), and as the CLI
proves it: a client mirrors the log with plain GETs and Go's sumdb tlog and note packages, none
of Bevoegd's code, verify every entry, tree and signature of it; the CLI's proofs verify against
the signed checkpoint; the signing key stays out of the database."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from api.app import create_app
from api.cli import main
from ledger.application import EVENTS_TABLE, Ledger
from ledger.database import DATABASE_URL_VARIABLE
from ledger.store import event_hash
from ledger.transparency.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ledger.transparency.keys import SIGNING_KEY_FILE_VARIABLE, SIGNING_KEY_VARIABLE
from ledger.transparency.leaf import EventLeaf
from ledger.transparency.merkle import leaf_hash, root_of, verify_consistency, verify_inclusion
from ledger.transparency.note import Signer, Verifier
from projections.tracking import SCHEMA
from tests.graphql_client import UNPUBLISHED, eventually, issue_token, load_world, serving
from tests.ledger_setup import build_world
from tests.merkle_reference import mth
from tests.read_models import import_history
from tests.test_verification_vectors import chain_hash
from tests.tlogcheck import built_tlogcheck, run

pytestmark = pytest.mark.database

ORIGIN = "bevoegd.test/log"


def tile_paths(size: int) -> list[str]:
    """Every tile and entry bundle of a tree of `size` leaves, written from C2SP tlog-tiles."""
    def index(n: int) -> str:
        digits = str(n).zfill(-(-len(str(n)) // 3) * 3)
        groups = [digits[i:i + 3] for i in range(0, len(digits), 3)]
        return "/".join([f"x{g}" for g in groups[:-1]] + groups[-1:])

    paths, level = [], 0
    while hashes := size // 256 ** level:
        for n in range(-(-hashes // 256)):
            width = min(256, hashes - n * 256)
            suffix = "" if width == 256 else f".p/{width}"
            paths.append(f"tile/{level}/{index(n)}{suffix}")
            if level == 0:
                paths.append(f"tile/entries/{index(n)}{suffix}")
        level += 1
    return paths


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer.generate(ORIGIN)


@pytest.fixture
def client(ledger: Ledger, database_url: str, signer: Signer) -> Iterator[TestClient]:
    """A server of a ledger of some 1,500 events that has signed a checkpoint of all of them."""
    build_world(ledger)
    head = import_history(ledger, events=1200)
    events = ledger.store.max_notification_id()
    assert events == head
    with TestClient(create_app(database_url, ledger=ledger, signer=signer)) as client:
        def signed_all() -> bool:
            answer = client.get("/log/checkpoint")
            return answer.status_code == 200 and answer.text.split("\n")[1] == str(events)
        eventually(signed_all, "a checkpoint of every event", seconds=30)
        yield client


def test_the_checkpoint_opens_with_the_published_key(client: TestClient, signer: Signer) -> None:
    answer = client.get("/log/checkpoint")
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.headers["cache-control"] == "no-cache"
    key = client.get("/log/verifier-key")
    assert Verifier.from_text(key.text.strip()) == signer.verifier
    checkpoint = open_checkpoint(answer.content, ORIGIN, [Verifier.from_text(key.text.strip())])
    assert checkpoint.size > 1000


def test_go_verifies_the_log_mirrored_with_plain_gets(client: TestClient, tmp_path: Path) -> None:
    tlogcheck = built_tlogcheck(tmp_path)
    mirror = tmp_path / "mirror"
    checkpoint = client.get("/log/checkpoint").content
    size = int(checkpoint.split(b"\n")[1])
    for path in tile_paths(size):
        answer = client.get(f"/log/{path}")
        assert answer.status_code == 200, path
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
        (mirror / path).parent.mkdir(parents=True, exist_ok=True)
        (mirror / path).write_bytes(answer.content)
    (tmp_path / "checkpoint").write_bytes(checkpoint)
    (tmp_path / "vkey").write_text(client.get("/log/verifier-key").text)
    result = run(tlogcheck, "verify", mirror, tmp_path / "vkey", tmp_path / "checkpoint")
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode() == f"1 checkpoints, {size} entries, 0 proofs of ours checked\n"


def test_a_tile_served_once_is_served_again_without_the_database(
        client: TestClient, database_url: str) -> None:
    """A tile's path holds the same bytes for ever: the server keeps what it served. Emptied
    tables behind its back (as a test may), a tile served before still answers; one never
    served is read, and found missing."""
    size = int(client.get("/log/checkpoint").text.split("\n")[1])
    first, last = tile_paths(size)[0], tile_paths(size)[-1]
    served = client.get(f"/log/{first}").content
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {SCHEMA}.log_tiles, {SCHEMA}.log_bundles")
    assert client.get(f"/log/{first}").content == served
    assert client.get(f"/log/{last}").status_code == 404


def test_tiles_the_log_has_not_reached_are_not_found(client: TestClient) -> None:
    size = int(client.get("/log/checkpoint").text.split("\n")[1])
    beyond = size // 256 + 1
    for path in (f"tile/0/{beyond:03d}", f"tile/entries/{beyond:03d}", "tile/0/000.p/0",
                 "tile/0/0", "tile/64/000", "tile/0/000.p/256"):
        answer = client.get(f"/log/{path}")
        assert answer.status_code == 404, path
        assert answer.headers["cache-control"] == "no-store", path


def test_entry_bundles_are_compressed_for_clients_that_accept_it(client: TestClient) -> None:
    plain = client.get("/log/tile/entries/000", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    zipped = client.get("/log/tile/entries/000", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == plain.content  # the client undid the compression
    assert len(gzip.compress(plain.content)) < len(plain.content)


def test_the_cli_proves_inclusion_and_consistency(client: TestClient, database_url: str,
                                                  signer: Signer) -> None:
    cli = CliRunner()
    env = {DATABASE_URL_VARIABLE: database_url}
    head = cli.invoke(main, ["head"], env=env)
    assert head.exit_code == 0, head.output
    checkpoint = open_checkpoint(head.stdout.encode(), ORIGIN, [signer.verifier])
    for position in (1, 2, 257, checkpoint.size):
        proved = cli.invoke(main, ["prove", "--position", str(position), "--json"], env=env)
        assert proved.exit_code == 0, proved.output
        answer = json.loads(proved.stdout)
        assert answer["treeSize"] == checkpoint.size and answer["checkpoint"] == head.stdout
        verify_inclusion(leaf_hash(base64.b64decode(answer["leafData"])), answer["leafIndex"],
                         checkpoint.size, [base64.b64decode(h) for h in answer["hashes"]],
                         checkpoint.root_hash)
    proved = cli.invoke(main, ["prove", "--from", "100", "--json"], env=env)
    answer = json.loads(proved.stdout)
    verify_consistency(100, checkpoint.size, base64.b64decode(answer["fromRootHash"]),
                       checkpoint.root_hash, [base64.b64decode(h) for h in answer["hashes"]])
    for wrong in (["prove", "--position", "999999"], ["head", "--size", "3"]):
        refused = cli.invoke(main, wrong, env=env)
        assert refused.exit_code == 1, refused.output
    for usage in (["prove"], ["prove", "--position", "1", "--from", "2"],
                  ["prove", "--from", "2", "--size", "3"]):
        assert cli.invoke(main, usage, env=env).exit_code == 2, usage


def test_the_signing_key_is_kept_out_of_the_database(client: TestClient, database_url: str,
                                                     signer: Signer) -> None:
    import psycopg

    secret = base64.b64encode(signer.seed).decode()
    with psycopg.connect(database_url) as conn:
        tables = [row[0] for row in conn.execute(
            "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables"
            " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")]
        for table in tables:
            dumped = conn.execute(f"SELECT string_agg(t::text, '') FROM {table} t").fetchone()
            assert secret not in str(dumped[0] or ""), table
    assert EVENTS_TABLE in " ".join(tables)


def test_keys_create_writes_a_key_for_its_owner_and_prints_the_verifier(tmp_path: Path) -> None:
    out = tmp_path / "log.key"
    made = CliRunner().invoke(main, ["keys", "create", "--name", ORIGIN, "--out", str(out)])
    assert made.exit_code == 0, made.output
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    signer = Signer.from_text(out.read_text().strip())
    assert made.stdout.strip() == signer.verifier.text()
    again = CliRunner().invoke(main, ["keys", "create", "--name", ORIGIN, "--out", str(out)])
    assert again.exit_code == 2 and Signer.from_text(out.read_text().strip()) == signer
    bad_name = CliRunner().invoke(main, ["keys", "create", "--name", "a b", "--out",
                                         str(tmp_path / "other")])
    assert bad_name.exit_code == 2 and not (tmp_path / "other").exists()


@pytest.mark.parametrize("variable", [SIGNING_KEY_VARIABLE, SIGNING_KEY_FILE_VARIABLE])
def test_a_signing_key_that_cannot_be_read_stops_the_worker(variable: str, tmp_path: Path,
                                                            database_url: str) -> None:
    value = "PRIVATE+KEY+broken" if variable == SIGNING_KEY_VARIABLE else str(tmp_path / "none")
    result = CliRunner().invoke(main, ["project"],
                                env={DATABASE_URL_VARIABLE: database_url, variable: value})
    assert result.exit_code == 2, result.output
    assert variable in result.output


PROOFS = """query($position: Int!, $from: Int!) {
  ledger { checkpoint { origin size rootHash signedNote } }
  inclusionProof(position: $position) {
    position leafIndex treeSize leafHash leafData rootHash hashes checkpoint { size } }
  consistencyProof(from: $from) { fromSize toSize fromRootHash toRootHash hashes }
}"""
DECISION_PROOF = """query($code: String!) {
  decision(code: $code) { proof { position leafIndex treeSize leafHash rootHash hashes } } }"""


def _bytes(text: str) -> bytes:
    return base64.b64decode(text)


def test_graphql_proves_what_the_checkpoint_holds(ledger: Ledger, database_url: str,
                                                  signer: Signer) -> None:
    position = load_world(ledger)
    auditor = issue_token(database_url, "auditor", name="rekenkamer")
    with serving(database_url, ledger, signer=signer) as api:
        eventually(lambda: (api.data("{ ledger { checkpoint { size } } }")["ledger"]["checkpoint"]
                            or {}).get("size") == position, "a checkpoint of every event")
        hidden = next(e["position"] for e in api.data(
            "query($at: Int!) { auditTrail(first: 100, atLeast: $at) { nodes { position"
            " recordCode } } }", {"at": position}, token=auditor)["auditTrail"]["nodes"]
            if e["recordCode"] == UNPUBLISHED)
        for token, sees in ((None, False), (auditor, True)):
            data = api.data(PROOFS, {"position": hidden, "from": 3}, token=token)
            signed = data["ledger"]["checkpoint"]
            checkpoint = open_checkpoint(signed["signedNote"].encode(), ORIGIN, [signer.verifier])
            assert (signed["size"], _bytes(signed["rootHash"])) == (checkpoint.size,
                                                                    checkpoint.root_hash)
            proof = data["inclusionProof"]
            assert proof["treeSize"] == checkpoint.size == proof["checkpoint"]["size"]
            assert (proof["leafData"] is not None) == sees  # the public sees only its hash
            verify_inclusion(_bytes(proof["leafHash"]), proof["leafIndex"], checkpoint.size,
                             [_bytes(h) for h in proof["hashes"]], checkpoint.root_hash)
            consistency = data["consistencyProof"]
            verify_consistency(3, checkpoint.size, _bytes(consistency["fromRootHash"]),
                               checkpoint.root_hash, [_bytes(h) for h in consistency["hashes"]])
        proofs = api.data(DECISION_PROOF, {"code": "college-delegeert"})["decision"]["proof"]
        assert len(proofs) >= 2
        for proof in proofs:
            verify_inclusion(_bytes(proof["leafHash"]), proof["leafIndex"], proof["treeSize"],
                             [_bytes(h) for h in proof["hashes"]], _bytes(proof["rootHash"]))
        refused = api.post("{ inclusionProof(position: 99999) { position } }").json()
        assert [e["extensions"]["code"] for e in refused["errors"]] == ["NOT_IN_LOG"]


def test_an_export_checks_out_by_the_documented_algorithms(client: TestClient, database_url: str,
                                                           signer: Signer, tmp_path: Path) -> None:
    """Chain, leaves and tree head recomputed from the export alone, as docs/verification.md
    says, with the test's own code; the checkpoint at the end opens with the log's key."""
    out = tmp_path / "ledger.jsonl"
    exported = CliRunner().invoke(main, ["export", "--out", str(out)],
                                  env={DATABASE_URL_VARIABLE: database_url})
    assert exported.exit_code == 0, exported.output
    *events, last = [json.loads(line) for line in out.read_text().splitlines()]
    checkpoint = open_checkpoint(last["checkpoint"].encode(), ORIGIN, [signer.verifier])
    assert len(events) == checkpoint.size
    previous, leaves = bytes(32), []
    for index, event in enumerate(events):
        aggregate_id, state = UUID(event["aggregate_id"]), event["state"].encode()
        previous = chain_hash(previous, event["position"], aggregate_id, event["version"],
                              event["topic"], state)
        assert previous.hex() == event["event_hash"], event["position"]
        topic = event["topic"].encode()
        leaves.append(b"\x01" + event["position"].to_bytes(8, "big") + aggregate_id.bytes
                      + event["version"].to_bytes(8, "big") + hashlib.sha256(
                          len(topic).to_bytes(4, "big") + topic + len(state).to_bytes(4, "big")
                          + state).digest())
        assert event["leaf_index"] == index
    assert mth(leaves) == checkpoint.root_hash


def _resealed(events: list[dict[str, Any]], signer: Signer) -> list[str]:
    """The export as one who holds the signing key would forge it: every hash recomputed after
    the change, and the checkpoint signed anew."""
    previous, leaves = bytes(32), []
    for event in events:
        aggregate_id, state = UUID(event["aggregate_id"]), event["state"].encode()
        previous = event_hash(previous, event["position"], aggregate_id, event["version"],
                              event["topic"], state)
        leaves.append(leaf_hash(EventLeaf.of_event(event["position"], aggregate_id,
                                                   event["version"], event["topic"],
                                                   state).data()))
        event.update(event_hash=previous.hex(), leaf_hash=leaves[-1].hex())
    note = sign_checkpoint(Checkpoint(ORIGIN, len(leaves), root_of(leaves)), signer).decode()
    return [json.dumps(event) for event in events] + [json.dumps({"checkpoint": note})]


def test_verify_export_checks_chain_tree_signature_and_every_decision(
    client: TestClient, database_url: str, signer: Signer, tmp_path: Path
) -> None:
    cli, key = CliRunner(), signer.verifier.text()
    out = tmp_path / "ledger.jsonl"
    assert cli.invoke(main, ["export", "--out", str(out)],
                      env={DATABASE_URL_VARIABLE: database_url}).exit_code == 0
    held = cli.invoke(main, ["verify-export", str(out), "--key", key, "--json"])
    assert held.exit_code == 0, held.output
    assert json.loads(held.stdout)["ok"] is True

    lines = out.read_text().splitlines()
    events = [json.loads(line) for line in lines[:-1]]
    edited = tmp_path / "edited.jsonl"
    taken = next(e for e in events if e["topic"].endswith("Decision.Taken"))
    edited.write_text("\n".join(lines).replace(taken["state"].replace('"', '\\"'), taken[
        "state"].replace("2", "3", 1).replace('"', '\\"'), 1) + "\n")
    found = json.loads(cli.invoke(main, ["verify-export", str(edited), "--key", key,
                                         "--json"]).stdout)
    assert found["ok"] is False and found["first_difference"]["position"] == taken["position"]

    other = Signer.generate(ORIGIN).verifier.text()
    refused = cli.invoke(main, ["verify-export", str(out), "--key", other, "--json"])
    assert refused.exit_code == 1 and "does not open" in refused.stdout

    # one who holds the key rewrites a decision to a body that was never competent for it
    state = json.loads(taken["state"])
    state["body"] = "directeur-sdd" if state["body"] != "directeur-sdd" else "raad-dordrecht"
    taken["state"] = json.dumps(state, separators=(",", ":"))
    forged = tmp_path / "forged.jsonl"
    forged.write_text("\n".join(_resealed(events, signer)) + "\n")
    doubted = cli.invoke(main, ["verify-export", str(forged), "--key", key, "--json"])
    assert doubted.exit_code == 1, doubted.output
    answer = json.loads(doubted.stdout)
    assert answer["first_difference"] is None  # chain, tree and signature hold: it was resealed
    assert [d["position"] for d in answer["decisions_in_doubt"]] == [taken["position"]]
