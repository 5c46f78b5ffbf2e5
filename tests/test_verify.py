"""`bevoegd verify` derives everything again from the stored events and compares: a clean ledger
verifies, and every tampering a superuser can do in SQL with the triggers off is caught and
placed at its position: an event edited, deleted, swapped or inserted, the chain and the tiles
recomputed after a rewrite (only a checkpoint signed before catches that), a fork of the signed
log, a tile or a projection's row changed."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from api.cli import main
from ledger.application import EVENTS_TABLE, Ledger
from ledger.store import event_hash
from ledger.transparency.checkpoint import Checkpoint, sign_checkpoint
from ledger.transparency.keys import SIGNING_KEY_FILE_VARIABLE, SIGNING_KEY_VARIABLE
from ledger.transparency.note import Signer
from ledger.transparency.tiles import bundles_of, tiles_of
from projections.checkpoints import CHECKPOINTS_TABLE, setup_checkpoints, sign_if_grown
from projections.queries.log import tree_head
from projections.rebuild import connections_needed, rebuild
from projections.runner import all_projections
from projections.tracking import SCHEMA
from projections.verification import CHECKING_LOG, REPLAYING, verify
from tests.ledger_setup import build_world
from tests.read_models import import_history, pool_on, project, write_fresh_event

pytestmark = pytest.mark.database

ORIGIN = "bevoegd.test/log"


@dataclass(frozen=True)
class Signed:
    """A ledger of some 2,400 events, projected, with a checkpoint of its first events (`early`
    leaves) and one of them all (`late`); one position, `gap`, was skipped near the end."""

    url: str
    signer: Signer
    early: int
    late: int
    gap: int

    def note(self, size: int) -> bytes:
        with psycopg.connect(self.url) as conn:
            row = conn.execute(f"SELECT note FROM {CHECKPOINTS_TABLE} WHERE size = %s",
                               (size,)).fetchone()
        assert row is not None
        return row[0].encode()


async def project_and_sign(url: str, signer: Signer) -> int:
    async with pool_on(url) as pool:
        async with pool.acquire() as conn:
            await setup_checkpoints(conn)
        await project(pool)
        signed = await sign_if_grown(pool, signer)
        assert signed is not None
        return signed.size


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer.generate(ORIGIN)


@pytest.fixture
def signed(ledger: Ledger, database_url: str, signer: Signer,
           monkeypatch: pytest.MonkeyPatch) -> Signed:
    monkeypatch.delenv(SIGNING_KEY_FILE_VARIABLE, raising=False)
    monkeypatch.setenv(SIGNING_KEY_VARIABLE, signer.text())
    build_world(ledger)
    early = asyncio.run(project_and_sign(database_url, signer))
    import_history(ledger, events=1200)
    write_fresh_event(ledger)
    with psycopg.connect(database_url) as conn:
        conn.execute(f"SELECT nextval('{EVENTS_TABLE}_notification_id_seq')")
    gap = write_fresh_event(ledger) - 1
    write_fresh_event(ledger)
    late = asyncio.run(project_and_sign(database_url, signer))
    return Signed(database_url, signer, early, late, gap)


def tamper(url: str, statement: str, *params: Any) -> None:
    """As a superuser, with the triggers (the chain's, the events' immutability) off."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(statement, params)


def event(url: str, position: int) -> dict[str, Any]:
    with psycopg.connect(url) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cursor:
        row = cursor.execute(
            f"SELECT notification_id, originator_id, originator_version, topic, state, event_hash"
            f" FROM {EVENTS_TABLE} WHERE notification_id = %s", (position,)).fetchone()
    assert row is not None
    return row


def change_one_byte(url: str, position: int) -> None:
    """The first letter of the event's actor changes case: still JSON, still an event."""
    state = event(url, position)["state"]
    at = state.index(b'"actor":"') + len(b'"actor":"')
    tamper(url, f"UPDATE {EVENTS_TABLE} SET state = set_byte(state, %s, %s)"
                " WHERE notification_id = %s", at, state[at] ^ 0x20, position)


def rechain(url: str, after: int) -> None:
    """Recomputes every event's hash after position `after`, as the trigger would have."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        previous = event(url, after)["event_hash"]
        rows = conn.execute(f"SELECT notification_id, originator_id, originator_version, topic,"
                            f" state FROM {EVENTS_TABLE} WHERE notification_id > %s"
                            f" ORDER BY notification_id", (after,)).fetchall()
        for row in rows:
            previous = event_hash(previous, *row)
            conn.execute(f"UPDATE {EVENTS_TABLE} SET event_hash = %s WHERE notification_id = %s",
                         (previous, row[0]))


def rebuild_projections(url: str) -> None:
    async def run() -> None:
        async with pool_on(url, max_size=connections_needed(len(all_projections()))) as pool:
            await rebuild(pool, all_projections())

    asyncio.run(run())


def verified(*args: str) -> tuple[int, dict[str, Any]]:
    """The exit code and the JSON report of `bevoegd verify --json ARGS`."""
    result = CliRunner().invoke(main, ["verify", "--json", *args])
    assert isinstance(result.exception, SystemExit | None), result.exc_info
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def differences(report: dict[str, Any], check: str) -> list[dict[str, Any]]:
    return [found for found in report["differences"] if found["check"] == check]


@pytest.fixture
def cli_env(signed: Signed, monkeypatch: pytest.MonkeyPatch) -> Iterator[Signed]:
    monkeypatch.setenv("BEVOEGD_DATABASE_URL", signed.url)
    yield signed


# A clean ledger -------------------------------------------------------------------------------


def test_a_clean_ledger_verifies(cli_env: Signed, tmp_path: Path) -> None:
    kept = tmp_path / "checkpoint"
    kept.write_bytes(cli_env.note(cli_env.late))
    code, report = verified("--checkpoint", str(kept))
    assert code == 0, report
    head = cli_env.late + 1  # one position skipped
    assert report["ok"] and report["first_difference"] is None and report["differences"] == []
    assert (report["events"], report["head"]) == (cli_env.late, head)
    assert report["tree"] == {"position": head, "size": cli_env.late,
                              "tiles": len(tiles_of(cli_env.late)),
                              "bundles": len(bundles_of(cli_env.late))}
    assert report["checkpoints"] == {"stored": 2, "given": 1, "signatures_checked": True}
    assert report["projections"] == {
        "position": head, "tables": sum(len(p.tables) for p in all_projections())}

    text = CliRunner().invoke(main, ["verify"])
    assert text.exit_code == 0, text.output
    assert "Everything agrees with the stored events." in text.stdout


def test_a_ledger_without_events_or_read_side_verifies(cli: CliRunner,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SIGNING_KEY_VARIABLE, raising=False)
    monkeypatch.delenv(SIGNING_KEY_FILE_VARIABLE, raising=False)
    result = cli.invoke(main, ["verify", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["ok"], report["events"], report["tree"]["size"]) == (True, 0, 0)
    assert report["projections"] == {"position": None, "tables": 0}  # none set up
    assert "Projections: none set up." in cli.invoke(main, ["verify"]).stdout


def test_without_a_key_the_signatures_are_not_checked(cli_env: Signed,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    monkeypatch.delenv(SIGNING_KEY_VARIABLE)
    code, report = verified("--no-projections")
    assert code == 0, report
    assert report["checkpoints"]["signatures_checked"] is False
    assert report["projections"] is None
    kept = tmp_path / "checkpoint"
    kept.write_bytes(cli_env.note(cli_env.late))
    for usage in (["--checkpoint", str(kept)], ["--key", "no+key"],
                  ["--checkpoint", str(kept), "--key", Signer.generate(ORIGIN).verifier.text()]):
        result = CliRunner().invoke(main, ["verify", *usage])
        assert result.exit_code == 2, (usage, result.output)
    code, report = verified("--no-projections", "--key", cli_env.signer.verifier.text(),
                            "--checkpoint", str(kept))
    assert code == 0 and report["checkpoints"]["signatures_checked"], report


# Events tampered with -------------------------------------------------------------------------


EDITED = {"the first": lambda s: 1, "the last of a tile": lambda s: 256,
          "the first of a tile": lambda s: 257, "one in the middle": lambda s: s.early + 300,
          "the last, after a gap": lambda s: s.late + 1}


@pytest.mark.parametrize("edited", EDITED.values(), ids=EDITED.keys())
def test_an_event_with_one_byte_changed_is_named(cli_env: Signed,
                                                 edited: Callable[[Signed], int]) -> None:
    position = edited(cli_env)
    change_one_byte(cli_env.url, position)
    code, report = verified()
    assert code == 1
    first = report["first_difference"]
    assert (first["check"], first["position"]) == ("chain", position)
    assert "hash differs" in first["what"]
    for check in ("tiles", "bundles"):
        assert differences(report, check)[0]["position"] == position
    assert [found["position"] for found in differences(report, "projection")
            if found["table"] == "audit_trail"] == [position]  # its actor

    text = CliRunner().invoke(main, ["verify", "--no-projections"])
    assert text.exit_code == 1
    assert f"DIFFERS at position {position}: the event's hash differs" in text.stdout


def test_a_deleted_event_breaks_the_chain_at_the_next(cli_env: Signed) -> None:
    position = cli_env.early + 300
    tamper(cli_env.url, f"DELETE FROM {EVENTS_TABLE} WHERE notification_id = %s", position)
    code, report = verified("--no-projections")
    assert code == 1
    assert report["first_difference"]["position"] == position + 1
    assert report["first_difference"]["check"] == "chain"
    # the read side's tree still has the deleted event's leaf there
    assert differences(report, "tiles")[0]["position"] == position + 1
    assert report["events"] == cli_env.late - 1


def test_the_last_event_deleted_is_named_by_the_tree_and_the_checkpoint(cli_env: Signed) -> None:
    """No hash after it breaks: the read side's tree and the signed checkpoint still hold it."""
    last = cli_env.late + 1  # one position was skipped
    tamper(cli_env.url, f"DELETE FROM {EVENTS_TABLE} WHERE notification_id = %s", last)
    code, report = verified("--no-projections")
    assert code == 1
    assert differences(report, "chain") == []
    first = report["first_difference"]
    assert (first["check"], first["position"], first["leaf"]) == ("bundles", last, cli_env.late - 1)
    assert differences(report, "checkpoint")[0]["size"] == cli_env.late
    assert differences(report, "tiles")


def test_two_events_swapped_are_named_at_the_first(cli_env: Signed) -> None:
    first, second = cli_env.early + 300, cli_env.early + 305
    tamper(cli_env.url, f"UPDATE {EVENTS_TABLE} AS e SET state = o.state FROM {EVENTS_TABLE} o"
                        " WHERE (e.notification_id, o.notification_id) IN ((%s, %s), (%s, %s))",
           first, second, second, first)
    code, report = verified()
    assert code == 1
    assert (report["first_difference"]["check"], report["first_difference"]["position"]) == (
        "chain", first)
    assert differences(report, "projection")  # drawn from the events as they were


def test_an_event_inserted_in_a_gap_is_named(cli_env: Signed) -> None:
    """Chained as the trigger would have chained it: the chain breaks only at the event after
    it, the tree already at the inserted one."""
    copied = event(cli_env.url, cli_env.gap - 1)
    record = uuid.uuid4()
    tamper(cli_env.url, f"INSERT INTO {EVENTS_TABLE} (notification_id, originator_id,"
                        " originator_version, topic, state, event_hash)"
                        " VALUES (%s, %s, 1, %s, %s, %s)",
           cli_env.gap, record, copied["topic"], copied["state"],
           event_hash(copied["event_hash"], cli_env.gap, record, 1, copied["topic"],
                      copied["state"]))
    code, report = verified("--no-projections")
    assert code == 1
    assert (report["first_difference"]["check"], report["first_difference"]["position"]) == (
        "tiles", cli_env.gap)
    assert differences(report, "chain")[0]["position"] == cli_env.gap + 1
    assert differences(report, "bundles")[0]["position"] == cli_env.gap


# A rewrite covered up, and a fork ---------------------------------------------------------------


def test_a_rewrite_with_the_chain_and_tiles_recomputed_is_caught_by_a_checkpoint(
        cli_env: Signed, tmp_path: Path) -> None:
    kept = []  # checkpoints an auditor kept, published elsewhere
    for size in (cli_env.early, cli_env.late):
        (tmp_path / str(size)).write_bytes(cli_env.note(size))
        kept += ["--checkpoint", str(tmp_path / str(size))]
    position = cli_env.early + 300
    change_one_byte(cli_env.url, position)
    rechain(cli_env.url, position - 1)
    rebuild_projections(cli_env.url)

    code, report = verified()
    assert code == 1
    assert {found["check"] for found in report["differences"]} == {"checkpoint", "consistency"}
    first = report["first_difference"]
    assert (first["check"], first["size"]) == ("checkpoint", cli_env.late)
    low, high = first["between"]
    assert low == cli_env.early + 1 and low <= position <= high  # after the early checkpoint

    # With the stored checkpoints gone, the ledger agrees with itself ...
    tamper(cli_env.url, f"DELETE FROM {CHECKPOINTS_TABLE}")
    assert verified()[0] == 0
    # ... and only the checkpoints kept elsewhere still hold the old tree.
    code, report = verified("--no-projections", *kept)
    assert code == 1
    first = report["first_difference"]
    assert (first["check"], first["size"]) == ("checkpoint", cli_env.late)
    assert first["between"] == [low, high]
    assert str(tmp_path / str(cli_env.late)) in first["what"]


def test_a_fork_is_named_by_its_size(cli_env: Signed, tmp_path: Path) -> None:
    forked = tmp_path / "forked"
    forked.write_bytes(sign_checkpoint(Checkpoint(ORIGIN, cli_env.late, bytes(32)),
                                       cli_env.signer))
    code, report = verified("--no-projections", "--checkpoint", str(forked))
    assert code == 1
    first = report["first_difference"]
    assert (first["check"], first["size"]) == ("fork", cli_env.late)
    assert str(forked) in first["what"]
    assert differences(report, "checkpoint")[0]["size"] == cli_env.late  # the forged one


def test_two_checkpoints_from_elsewhere_of_one_size_are_a_fork(cli_env: Signed,
                                                                tmp_path: Path) -> None:
    size = cli_env.early + 10  # no stored checkpoint has this size
    root = asyncio.run(_tree_head(cli_env.url, size))
    files = []
    for name, head in (("true", root), ("forked", bytes(32))):
        (tmp_path / name).write_bytes(sign_checkpoint(Checkpoint(ORIGIN, size, head),
                                                      cli_env.signer))
        files += ["--checkpoint", str(tmp_path / name)]
    code, report = verified("--no-projections", *files)
    assert code == 1
    assert [(found["check"], found["size"]) for found in report["differences"]] == [
        ("fork", size), ("checkpoint", size)]
    assert verified("--no-projections", *files[:2])[0] == 0  # the true one alone


async def _tree_head(url: str, size: int) -> bytes:
    async with pool_on(url, max_size=1) as pool:
        return (await tree_head(pool, size))[1]


def test_a_stored_checkpoint_that_differs_from_its_signed_note_is_named(cli_env: Signed) -> None:
    tamper(cli_env.url, f"UPDATE {CHECKPOINTS_TABLE} SET root_hash = %s WHERE size = %s",
           bytes(32), cli_env.early)
    code, report = verified("--no-projections")
    assert code == 1
    assert [(found["check"], found["size"]) for found in report["differences"]] == [
        ("signature", cli_env.early)]


# The read side tampered with --------------------------------------------------------------------


def test_a_tile_changed_is_named_by_its_first_leaf(cli_env: Signed) -> None:
    hash_at = 3
    tamper(cli_env.url, f"UPDATE {SCHEMA}.log_tiles SET hashes = set_byte(hashes, %s,"
                        " 255 - get_byte(hashes, %s)) WHERE level = 0 AND index = 1",
           hash_at * 32, hash_at * 32)
    code, report = verified("--no-projections")
    assert code == 1
    first = report["first_difference"]
    assert (first["check"], first["leaf"], first["position"]) == ("tiles", 259, 260)
    assert "tile 0/1: hash 3 differs" in first["what"]


def test_a_projection_row_changed_is_named_by_its_table(cli_env: Signed) -> None:
    position = cli_env.early + 300
    tamper(cli_env.url, f"UPDATE {SCHEMA}.audit_trail SET actor = 'iemand' WHERE position = %s",
           position)
    assert verified("--no-projections")[0] == 0
    code, report = verified()
    assert code == 1
    first = report["first_difference"]
    assert (first["check"], first["table"], first["position"]) == (
        "projection", "audit_trail", position)
    assert "differs from the one the events give in actor: live 'iemand'" in first["what"]


# While the ledger goes on -----------------------------------------------------------------------


async def test_the_projections_moving_on_meanwhile_are_compared_where_they_stand(
        signed: Signed, ledger: Ledger) -> None:
    """Events recorded while the chain and the tree are checked are not in that stage's
    snapshot; the projections, moved on by the runner while the replay ran, are compared where
    they stand, the replay caught up to them."""
    happened: set[str] = set()

    def progress(stage: str, position: int, head: int) -> None:
        if stage == CHECKING_LOG and stage not in happened:
            for _ in range(3):
                write_fresh_event(ledger)
        if stage == REPLAYING and stage not in happened:
            # the runner, on connections of its own, while the replay waits
            runner = threading.Thread(target=asyncio.run, args=(project_anew(signed.url),))
            runner.start()
            runner.join()
        happened.add(stage)

    report = await verify(signed.url, verifiers=[signed.signer.verifier], progress=progress)
    assert happened == {CHECKING_LOG, REPLAYING}
    assert report.ok, report.differences
    assert report.log.events == signed.late
    assert report.read_models is not None
    assert report.read_models.position == ledger.position() == signed.late + 4  # one skipped


async def project_anew(url: str) -> None:
    async with pool_on(url) as pool:
        await project(pool)
