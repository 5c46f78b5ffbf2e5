"""The benchmarks' history generator: the same seed gives the same file, and the ledger accepts
every line it should, refuses every line meant to be refused with the code named, and ends with
about as many events as were asked for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bench.generate import generate_commands, main
from ledger.application import Ledger
from ledger.errors import LedgerError
from ledger.importer import import_lines

EVENTS = 5000


def write(tmp_path: Path, name: str, seed: int) -> bytes:
    out = tmp_path / name
    result = CliRunner().invoke(main, ["--events", str(EVENTS), "--out", str(out),
                                       "--seed", str(seed)])
    assert result.exit_code == 0, result.output
    return out.read_bytes()


def test_the_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    assert write(tmp_path, "a.jsonl", 2013) == write(tmp_path, "b.jsonl", 2013)


def test_another_seed_writes_another_history(tmp_path: Path) -> None:
    assert write(tmp_path, "a.jsonl", 2013) != write(tmp_path, "b.jsonl", 2014)


def test_the_file_is_what_the_generator_yields(tmp_path: Path) -> None:
    written = write(tmp_path, "a.jsonl", 2013).decode().splitlines()
    assert [json.loads(line) for line in written] == list(generate_commands(EVENTS, seed=2013))


@pytest.mark.database
def test_the_ledger_takes_the_history_as_the_file_expects(ledger: Ledger) -> None:
    lines = [json.dumps(envelope) for envelope in generate_commands(EVENTS)]
    outcomes = list(import_lines(ledger, lines, actor="bench", correlation_id="gen"))

    def verdict(outcome: object) -> str:
        return outcome.code if isinstance(outcome, LedgerError) else "accepted"

    unexpected = [(o.line, o.expect or "accepted", verdict(o.outcome))
                  for o in outcomes if not o.as_expected]
    assert unexpected == []
    assert len(outcomes) == len(lines)
    assert not any(getattr(o.outcome, "replayed", False) for o in outcomes)  # keys are unique
    refused = sum(1 for o in outcomes if o.expect is not None)
    assert 0.005 * len(lines) <= refused <= 0.03 * len(lines)
    assert abs(ledger.position() - EVENTS) <= 0.05 * EVENTS
