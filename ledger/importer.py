"""Import of JSON Lines command files: one command per line, run in batches, each line answered.

A line is an object::

    {"command": "take_decision", "idempotency_key": "drechtraad-2013-03-05-1",
     "actor": "griffie-drechtraad", "input": {...},
     "note": "why this line is here", "illustrative": true, "expect": "LOCAL_COMPETENCE"}

`note` and `illustrative` document the file (illustrative marks facts the sources do not give);
`expect` names the refusal code the line is meant to draw, for files that show the rules at work.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from ledger.application import Ledger
from ledger.commands import COMMANDS, Command
from ledger.errors import InvalidCommand, LedgerError
from ledger.pipeline import CommandContext, CommandResult
from ledger.unit_of_work import ImportedRecords

Key = Annotated[str, StringConstraints(min_length=1, max_length=200)]
KEPT_RECORDS = 100_000
"""The most records an import keeps in hand between its batches (least recently used go)."""


class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid")
    command: str
    idempotency_key: Key
    actor: Key | None = None
    correlation_id: Key | None = None
    input: dict[str, Any]
    note: str | None = None
    illustrative: bool = False
    expect: str | None = None


@dataclass(frozen=True)
class LineOutcome:
    line: int
    outcome: CommandResult | LedgerError
    expect: str | None = None

    @property
    def as_expected(self) -> bool:
        if isinstance(self.outcome, LedgerError):
            return self.outcome.code == self.expect
        return self.expect is None


def parse_command(name: str, data: dict[str, Any]) -> Command:
    """A typed command from its name and input, or InvalidCommand saying what is wrong."""
    command_type = COMMANDS.get(name)
    if command_type is None:
        raise InvalidCommand(f"Unknown command '{name}'. Known: {', '.join(sorted(COMMANDS))}.",
                             field="command")
    try:
        return command_type.model_validate(data)
    except ValidationError as error:
        raise invalid_input(error) from None


def invalid_input(error: ValidationError) -> InvalidCommand:
    problems = [f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}"
                for e in error.errors()]
    first = error.errors()[0]["loc"] if error.errors() else ()
    return InvalidCommand("; ".join(problems), field=".".join(str(p) for p in first) or None)


def parse_line(text: str, default_actor: str, correlation_id: str
               ) -> tuple[Command, CommandContext, str | None]:
    try:
        envelope = Envelope.model_validate(json.loads(text))
    except json.JSONDecodeError as error:
        raise InvalidCommand(f"Not valid JSON: {error.msg} at column {error.colno}.") from None
    except ValidationError as error:
        raise invalid_input(error) from None
    command = parse_command(envelope.command, envelope.input)
    context = CommandContext(
        idempotency_key=envelope.idempotency_key,
        actor=envelope.actor or default_actor,
        correlation_id=envelope.correlation_id or correlation_id,
    )
    return command, context, envelope.expect


def import_lines(
    ledger: Ledger,
    lines: Iterable[str],
    *,
    actor: str,
    correlation_id: str,
    batch_size: int = 500,
    progress: Callable[[int], None] = lambda _: None,
) -> Iterator[LineOutcome]:
    """Runs the commands of `lines` in batches; yields one outcome per non-blank line, in order.
    Memory stays flat in the size of the file. Every key keeps its first answer, refusals too,
    so a file run again (whole, or after an interrupted run) answers each line as before and
    appends nothing for the lines that were run. The records the run has read or made stay in
    hand from batch to batch (ImportedRecords)."""
    records = ImportedRecords(KEPT_RECORDS)
    batch: list[tuple[int, Command, CommandContext, str | None]] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            progress(1)
            continue
        try:
            command, context, expect = parse_line(text, actor, correlation_id)
        except InvalidCommand as error:
            yield from _run(ledger, batch, records, progress)
            batch = []
            progress(1)
            yield LineOutcome(number, error)
            continue
        batch.append((number, command, context, expect))
        if len(batch) >= batch_size:
            yield from _run(ledger, batch, records, progress)
            batch = []
    yield from _run(ledger, batch, records, progress)


def _run(
    ledger: Ledger,
    batch: list[tuple[int, Command, CommandContext, str | None]],
    records: ImportedRecords,
    progress: Callable[[int], None],
) -> Iterator[LineOutcome]:
    if not batch:
        return
    outcomes = ledger.execute_batch([(command, context) for _, command, context, _ in batch],
                                    records)
    progress(len(batch))
    for (number, _, _, expect), outcome in zip(batch, outcomes, strict=True):
        yield LineOutcome(number, outcome, expect)
