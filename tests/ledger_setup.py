"""Running commands in tests: on the small world of tests/world.py, or the demo data set."""

from __future__ import annotations

import itertools

from ledger import commands as c
from ledger.application import Ledger
from ledger.demo import DEMO_FILE
from ledger.importer import LineOutcome, import_lines
from ledger.pipeline import CommandContext, CommandResult
from tests.world import world_commands

_keys = itertools.count()


def run(ledger: Ledger, command: c.Command, key: str | None = None) -> CommandResult:
    return ledger.execute(command, CommandContext(key or f"test-{next(_keys)}", actor="griffie"))


def build_world(ledger: Ledger) -> None:
    for command in world_commands():
        run(ledger, command)


def import_demo(ledger: Ledger) -> list[LineOutcome]:
    """The Drechtsteden demo data set, imported as `bevoegd import` does; one outcome a line."""
    with DEMO_FILE.open(encoding="utf-8") as lines:
        return list(import_lines(ledger, lines, actor="demo", correlation_id="demo"))
