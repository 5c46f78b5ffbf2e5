"""kill -9 of `bevoegd import` midway, then the same import run again to its end: the ledger
equals that of the same file imported without interruption, event for event and line for line.

The file is a generated history in which some publications come before the decision they
publish (forward references, as in a file put together from several sources): such a line is
refused when it is read, and must stay refused when the file is run again after the kill,
although the decision exists by then, or the resumed import would record what the
uninterrupted one refused."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bench.generate import generate_commands
from ledger.application import EVENTS_TABLE
from tests.databases import fresh_database
from tests.reliability.processes import Bevoegd, eventually, running
from tests.reliability.suite import Figures
from tests.reliability.writers import COMMANDS_TABLE

pytestmark = [pytest.mark.database, pytest.mark.reliability, pytest.mark.timeout(300)]

HISTORY_EVENTS = 12_000
FORWARD_EVERY = 5
"""Every fifth publication is moved before its decision."""
BATCH_SIZE = 50  # small batches, so that many are committed before the kill
KILL_AT = 1 / 3
"""The share of the uninterrupted import's events stored before the kill."""
REFUSAL = re.compile(r"^line \d+: (refused as expected|REFUSED) .*$", re.MULTILINE)
ANSWERED_AGAIN = " (as before: the refusal is recorded for this key)"
"""How the second run marks a line whose refusal the first run recorded: the same refusal."""
SUMMARY = re.compile(r"^(\d+) accepted, (\d+) already recorded, (\d+) refused as the file "
                     r"expects, (\d+) refused;", re.MULTILINE)


def with_forward_references(lines: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """The lines, every FORWARD_EVERY-th publication moved to just before the line that records
    the decision it publishes; and how many were moved."""
    recorded_at = {line["input"]["code"]: n for n, line in enumerate(lines)
                   if line["command"] in ("take_decision", "propose_decision")}
    moved: dict[int, list[dict[str, Any]]] = {}
    publications = [n for n, line in enumerate(lines) if line["command"] == "publish_decision"
                    and line["input"]["decision"] in recorded_at]
    for n in publications[::FORWARD_EVERY]:
        moved.setdefault(recorded_at[lines[n]["input"]["decision"]], []).append(lines[n])
    skipped = set(publications[::FORWARD_EVERY])
    reordered = [*itertools.chain.from_iterable(
        [*moved.get(n, []), *([] if n in skipped else [line])] for n, line in enumerate(lines))]
    return reordered, len(skipped)


def events_count(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        found = conn.execute(f"SELECT to_regclass('{EVENTS_TABLE}')").fetchone()
        if found is None or found[0] is None:
            return 0
        return int(conn.execute(f"SELECT count(*) FROM {EVENTS_TABLE}").fetchone()[0])  # type: ignore[index]


def ledger_contents(database_url: str) -> tuple[list[Any], list[Any]]:
    """The events in ledger order and the command log, without what legitimately differs
    between two runs of the same file: the wall-clock times (`timestamp`, `recorded_at`), the
    correlation id the CLI draws for each run, and the positions themselves (a transaction
    killed midway may leave a gap in the sequence), which become ordinals: a command's position
    is compared as the number of its last event in ledger order."""
    with psycopg.connect(database_url) as conn:
        events = conn.execute(
            "SELECT originator_id, originator_version, topic,"
            " (convert_from(state, 'UTF8')::jsonb - 'timestamp')"
            "  #- '{meta,_data_,recorded_at}' #- '{meta,_data_,correlation_id}'"
            f" FROM {EVENTS_TABLE} ORDER BY notification_id").fetchall()
        commands = conn.execute(
            "SELECT to_jsonb(c) - 'recorded_at' - 'position', e.ordinal"
            f" FROM {COMMANDS_TABLE} c LEFT JOIN (SELECT notification_id, row_number()"
            f"  OVER (ORDER BY notification_id) AS ordinal FROM {EVENTS_TABLE}) e"
            "  ON e.notification_id = c.position ORDER BY c.idempotency_key").fetchall()
    return events, commands


def refusals(output: str) -> list[str]:
    """The refusal lines, in line order (refusals the file expects go to stdout, the others to
    stderr, so the two streams may interleave differently from run to run)."""
    found = [line.group(0).removesuffix(ANSWERED_AGAIN) for line in REFUSAL.finditer(output)]
    return sorted(found, key=lambda line: int(line.split()[1].rstrip(":")))


def summary(output: str) -> tuple[int, ...]:
    found = SUMMARY.search(output)
    assert found is not None, output
    return tuple(int(n) for n in found.groups())


def test_an_import_killed_and_run_again_equals_one_not_interrupted(
    server_url: str, database_url: str, tmp_path: Path, figures: Figures
) -> None:
    file = tmp_path / "history.jsonl"
    lines, forward = with_forward_references(list(generate_commands(HISTORY_EVENTS, seed=11)))
    file.write_text("".join(json.dumps(line) + "\n" for line in lines))
    args = ["import", "--batch-size", str(BATCH_SIZE), "--quiet", str(file)]

    whole = Bevoegd(args, database_url, tmp_path / "uninterrupted.log")
    whole.wait()
    uninterrupted = whole.output(characters=10**7)
    total = events_count(database_url)
    assert total > 0, uninterrupted

    with fresh_database(server_url, "bevoegd_test") as resumed_url:
        with running(args, resumed_url, tmp_path / "killed.log") as killed:
            eventually(lambda: events_count(resumed_url) >= total * KILL_AT or not killed.alive,
                       "the import to store a third of its events", seconds=120)
            killed.kill()
        stored_at_kill = events_count(resumed_url)
        assert 0 < stored_at_kill < total, "the kill did not land midway"
        again = Bevoegd(args, resumed_url, tmp_path / "resumed.log")
        assert again.wait() == whole.process.returncode
        resumed = again.output(characters=10**7)

        assert refusals(resumed) == refusals(uninterrupted)
        accepted, replayed, expected, refused = summary(resumed)
        assert (accepted + replayed, 0, expected, refused) == summary(uninterrupted)
        assert ledger_contents(resumed_url) == ledger_contents(database_url)

    figures["import killed (kill -9) and run again"] = {
        "lines": len(lines), "events": total, "events stored at the kill": stored_at_kill,
        "forward references": forward,
        "lines refused": len(refusals(uninterrupted)),
        "lines already recorded on the second run": replayed}
