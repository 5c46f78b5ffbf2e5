"""The command pipeline: runs a command through its handler in a unit of work and saves the events
atomically with the answer to the command's idempotency key (a result, or a refusal by the rules).
A key already answered gets its first answer again; a version conflict with a concurrent writer
is retried a bounded number of times; a batch runs many commands in one transaction."""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from ledger import commands as c
from ledger.domain.competence import holding_id
from ledger.errors import ConcurrencyConflict, IdempotencyKeyReused, LedgerError, RecordedRefusal
from ledger.store import LedgerRecorder, RecordedCommand, moved_on
from ledger.unit_of_work import RecentRecords, UnitOfWork
from ledger.values import Meta, record_id

if TYPE_CHECKING:
    from eventsourcing.application import Repository

MAX_ATTEMPTS = 10
BACKOFF_SECONDS = 0.005

Handle = Callable[[UnitOfWork, c.Command, Meta], dict[str, Any]]
Save = Callable[[UnitOfWork], list[int | None]]


@dataclass(frozen=True)
class CommandContext:
    """Who sends a command and under which idempotency key (the event's `command_id`)."""

    idempotency_key: str
    actor: str = "system"
    correlation_id: str | None = None


@dataclass(frozen=True)
class CommandResult:
    command: str
    idempotency_key: str
    position: int
    result: dict[str, Any]
    replayed: bool = False


Answer = CommandResult | LedgerError


@dataclass(frozen=True)
class SameAs:
    """A batch item that repeats, under the same key and content, the item at `index` before
    it: it gets that item's answer, as a replay."""

    index: int


RECORD_FIELDS = ("decision", "commission", "consultation", "grant", "body", "region")
"""The input fields by which a command names the record it acts on."""


def input_field(command: c.Command, field: str | None) -> str | None:
    """A refusal's field in the command's own terms: the aggregates speak of their record as
    `code`, where a step on an existing record names it in one of RECORD_FIELDS."""
    fields = type(command).model_fields
    if field is None or field in fields or field == "idempotency_key":
        return field
    if field == "code":
        return next((name for name in RECORD_FIELDS if name in fields), None)
    return None


def opened_records(commands: Iterable[c.Command]) -> set[UUID]:
    """The records these commands open, if they are new (a decision may exist, proposed)."""
    return {record_id(command.creates, command.code)  # type: ignore[attr-defined]
            for command in commands if command.creates is not None}


def opened_holdings(commands: Iterable[c.Command]) -> set[UUID]:
    """The competence holdings these commands' attributions open, if they are new (the first
    attribution of a competence in a jurisdiction does)."""
    return {holding_id(command.competence, command.jurisdiction)
            for command in commands if isinstance(command, c.AttributeCompetence)}


def fingerprint(command: c.Command) -> str:
    canonical = json.dumps({"command": command.name, "input": command.model_dump(mode="json")},
                           sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class Unit:
    """The batch items handled since the last save, and the unit of work holding their events
    and answers."""

    def __init__(self, repository: Repository[UUID], recent: RecentRecords) -> None:
        self.uow = UnitOfWork(repository, recent=recent)
        self.handled: list[tuple[int, dict[str, Any] | LedgerError]] = []

    def start(self, default: int) -> int:
        """The first item in the unit: where to start again if it cannot be saved."""
        return self.handled[0][0] if self.handled else default


class CommandPipeline:
    """Runs commands through `handle` in units of work on `repository`, which `save` stores;
    `store` holds the answers already given; `recent` the records as the last save left them."""

    def __init__(self, repository: Repository[UUID], store: LedgerRecorder, handle: Handle,
                 save: Save, recent: RecentRecords) -> None:
        self._repository = repository
        self._recent = recent
        self._store = store
        self._handle_command = handle
        self._save = save

    def execute(self, command: c.Command, context: CommandContext) -> CommandResult:
        """Runs one command in its own transaction, its reads and its write. The first attempt
        takes records as this process last saw them, and does not look up the record the
        command opens: with nobody else writing them, the command is one round trip. The write
        refuses it if a guess was wrong or another writer of the competence holding is under
        way (a decision, whose exercise commutes with others', waits for that writer instead,
        and is refused only if the holding changed otherwise), and the command runs again
        reading the store; writers of the same holding reading
        it there wait for each other (the unit of work serialises them before it reads the
        holding), so a valid command is not refused because others were faster. A version
        conflict can still come from a writer that is not serialised (a batch's, on other
        records) or from a record the command opens that turns out to exist: the command then
        runs again, a bounded number of times. A refusal by the rules is recorded under the
        command's key, as an acceptance is, and raised."""
        key, print_ = context.idempotency_key, fingerprint(command)
        for attempt in range(MAX_ATTEMPTS):
            if attempt > 1:  # the second only reads what the first guessed
                time.sleep(random.uniform(0, BACKOFF_SECONDS * attempt))  # let the winner finish
            uow = UnitOfWork(self._repository, self._store.serialise,
                             self._recent if attempt == 0 else None)
            if attempt == 0:
                uow.know_absent(opened_records([command]))
            try:
                with self._store.write():
                    answer = self._handle_or_refuse(uow, command, context, print_)
                    (position,) = self._save(uow)
            except IntegrityError as refused:
                self._recent.forget(uow)
                if moved_on(refused):  # re-read, re-check, try again
                    continue
                # Either the key is recorded (by a concurrent client, or before: a repeat of an
                # accepted command may fail the rules the second time round, ALREADY_TAKEN say,
                # and the first answer stands), or the command met a version it did not read:
                # re-read, re-check, try again. The key is looked up only then, which spares
                # every first attempt a query.
                replay = self._recorded_result(command, key, print_)
                if replay is not None:
                    return replay
                continue
            except BaseException:
                self._recent.forget(uow)  # the records it took may be half changed
                raise
            self._recent.keep(uow)
            outcome = _answer(command, key, answer, position)
            if isinstance(outcome, LedgerError):
                raise outcome
            return outcome
        # Not recorded: the conflict says nothing about the command, so the key stays free
        # for a retry.
        raise ConcurrencyConflict(
            f"'{command.name}' kept conflicting with concurrent changes to the same records and "
            f"was given up after {MAX_ATTEMPTS} attempts; nothing was stored. Try again.")

    def execute_batch(self, items: Sequence[tuple[c.Command, CommandContext]],
                      records: RecentRecords | None = None) -> list[Answer]:
        """Runs many commands in one transaction; each is checked against the state the ones
        before it left. A refused command stores no event and does not stop the others; its
        refusal is recorded under its key in the transaction of the batch's events. If a
        concurrent writer interferes, the rest of the batch runs command by command. `records`
        are those the caller keeps across its batches (an import's), else this process's."""
        records = records or self._recent
        recorded = self._store.find_commands([context.idempotency_key for _, context in items])
        answers: dict[int, Answer | SameAs] = {}
        prints = [fingerprint(command) for command, _ in items]
        first_index: dict[str, int] = {}
        unit = Unit(self._repository, records)
        # A holding is looked up with the records the batch opens, not read one by one: a
        # single command reads it after taking its writers' lock instead.
        commands = [command for command, _ in items]
        opened = opened_records(commands) | opened_holdings(commands)
        unit.uow.know_absent(opened - self._store.existing(opened))
        for index, (command, context) in enumerate(items):
            key = context.idempotency_key
            if key in recorded:
                answers[index] = self._replay(command, key, prints[index], recorded[key])
                continue
            if key in first_index:  # the same key earlier in this batch
                same = prints[first_index[key]] == prints[index]
                answers[index] = SameAs(first_index[key]) if same else _key_reused(key)
                continue
            first_index[key] = index
            answer = self._handle_or_refuse(unit.uow, command, context, prints[index])
            unit.handled.append((index, answer))
            if isinstance(answer, LedgerError) and unit.uow.has_pending_events():
                # a refusal after partial work: save the unit without that work, start afresh
                if not self._flush(unit, items, answers, records):
                    return self._finish_one_by_one(items, answers, unit.start(index))
                unit = Unit(self._repository, records)
        if not self._flush(unit, items, answers, records):
            return self._finish_one_by_one(items, answers, unit.start(len(items)))
        return [_resolve(answers, index) for index in range(len(items))]

    def _flush(self, unit: Unit, items: Sequence[tuple[c.Command, CommandContext]],
               answers: dict[int, Answer | SameAs], records: RecentRecords) -> bool:
        """Saves the unit and notes its answers; False if a concurrent writer interfered."""
        try:
            positions = self._save(unit.uow) if unit.handled else []
        except IntegrityError:
            records.forget(unit.uow)
            return False
        except BaseException:
            records.forget(unit.uow)
            raise
        records.keep(unit.uow)
        for (index, answer), position in zip(unit.handled, positions, strict=True):
            command, context = items[index]
            answers[index] = _answer(command, context.idempotency_key, answer, position)
        return True

    def _finish_one_by_one(self, items: Sequence[tuple[c.Command, CommandContext]],
                           answers: dict[int, Answer | SameAs], start: int) -> list[Answer]:
        for index in range(start, len(items)):
            command, context = items[index]
            try:
                answers[index] = self.execute(command, context)
            except LedgerError as refusal:
                answers[index] = refusal
        return [_resolve(answers, index) for index in range(len(items))]

    def _handle_or_refuse(self, uow: UnitOfWork, command: c.Command, context: CommandContext,
                          print_: str) -> dict[str, Any] | LedgerError:
        """The command's result, its events and key noted in the unit; or its refusal, noted
        under its key."""
        key = context.idempotency_key
        meta = Meta(
            recorded_at=datetime.now(UTC),
            actor=context.actor,
            command_id=key,
            correlation_id=context.correlation_id or key,
        )
        try:
            result = self._handle_command(uow, command, meta)
        except LedgerError as refusal:
            refusal.field = input_field(command, refusal.field)
            uow.refuse_command(key, command.name, print_, refusal)
            return refusal
        uow.complete_command(key, command.name, print_, result)
        return result

    def _recorded_result(self, command: c.Command, key: str, print_: str
                         ) -> CommandResult | None:
        """The first answer to the key if it is recorded; a recorded refusal is raised."""
        found = self._store.find_commands([key]).get(key)
        if found is None:
            return None
        outcome = self._replay(command, key, print_, found)
        if isinstance(outcome, LedgerError):
            raise outcome
        return outcome

    @staticmethod
    def _replay(command: c.Command, key: str, print_: str, recorded: RecordedCommand) -> Answer:
        """The first answer to a key already recorded (result or refusal), or a refusal if the
        content differs."""
        if recorded.fingerprint != print_:
            return _key_reused(key)
        if recorded.refusal is not None:
            return RecordedRefusal.from_dict(recorded.refusal)
        assert recorded.position is not None and recorded.result is not None
        return CommandResult(command.name, key, recorded.position, recorded.result, replayed=True)


def _answer(command: c.Command, key: str, answer: dict[str, Any] | LedgerError,
            position: int | None) -> Answer:
    """A saved command's answer: its refusal, or its result at its position."""
    if isinstance(answer, LedgerError):
        return answer
    assert position is not None  # an accepted command has events
    return CommandResult(command.name, key, position, answer)


def _resolve(answers: dict[int, Answer | SameAs], index: int) -> Answer:
    answer = answers[index]
    if not isinstance(answer, SameAs):
        return answer
    first = answers[answer.index]
    if isinstance(first, CommandResult):
        return replace(first, replayed=True)
    assert isinstance(first, LedgerError)
    return RecordedRefusal.from_dict(first.as_dict())


def _key_reused(key: str) -> IdempotencyKeyReused:
    return IdempotencyKeyReused(
        f"The idempotency key '{key}' was already used for a different command; use a new "
        "key for a new command.", field="idempotency_key")
