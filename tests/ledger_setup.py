"""Running commands in tests, on the small world of bench/world.py."""

from __future__ import annotations

import itertools

from bench.world import world_commands
from ledger import commands as c
from ledger.application import Ledger
from ledger.pipeline import CommandContext, CommandResult

_keys = itertools.count()


def run(ledger: Ledger, command: c.Command, key: str | None = None) -> CommandResult:
    return ledger.execute(command, CommandContext(key or f"test-{next(_keys)}", actor="griffie"))


def build_world(ledger: Ledger) -> None:
    for command in world_commands():
        run(ledger, command)
