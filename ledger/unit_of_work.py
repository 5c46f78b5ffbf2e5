"""A unit of work: the aggregates one or more commands touch, the events they record and the
answers to their idempotency keys (refusals too), saved together in one transaction (so a batch
of imported commands costs one commit)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ledger.errors import AlreadyRecorded, LedgerError, UnknownReference
from ledger.store import CommandRecord

if TYPE_CHECKING:
    from eventsourcing.application import Repository

A = TypeVar("A", bound=Aggregate)


class UnitOfWork:
    def __init__(self, repository: Repository[UUID],
                 serialise: Callable[[UUID], None] = lambda _: None) -> None:
        self._repository = repository
        self._serialise = serialise  # called before a record that serialises writers is read
        self._aggregates: dict[UUID, Aggregate | None] = {}
        self._in_command: dict[UUID, Aggregate] = {}  # what the current command has touched
        self.events: list[Any] = []
        self.commands: list[CommandRecord] = []

    def know_absent(self, ids: set[UUID]) -> None:
        """Records known to have no events yet: looking them up needs no query."""
        for aggregate_id in ids:
            self._aggregates.setdefault(aggregate_id, None)

    def find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        if aggregate_id not in self._aggregates:
            if getattr(cls, "serialises_writers", False):
                self._serialise(aggregate_id)
            try:
                self._aggregates[aggregate_id] = self._repository.get(aggregate_id)
            except AggregateNotFoundError:
                self._aggregates[aggregate_id] = None
        aggregate = self._aggregates[aggregate_id]
        if aggregate is None or not isinstance(aggregate, cls):
            return None
        self._in_command[aggregate_id] = aggregate
        return aggregate

    def get(self, cls: type[A], code: str, field: str) -> A:
        aggregate = self.find(cls, cls.create_id(code=code))
        if aggregate is None:
            raise UnknownReference(f"No {_noun(cls)} '{code}' is recorded.", field=field)
        return aggregate

    def check_new(self, cls: type[Aggregate], code: str) -> None:
        if self.find(cls, cls.create_id(code=code)) is not None:
            raise AlreadyRecorded(f"A {_noun(cls)} '{code}' is already recorded.", field="code")

    def add(self, aggregate: A) -> A:
        self._aggregates[aggregate.id] = aggregate
        self._in_command[aggregate.id] = aggregate
        return aggregate

    def has_pending_events(self) -> bool:
        return any(a.pending_events for a in self._in_command.values())

    def complete_command(self, key: str, command: str, fingerprint: str,
                         result: dict[str, Any]) -> None:
        """Moves the events the command recorded, in the order they were recorded, into the
        unit's list, and notes the command so its idempotency key is saved with them."""
        pending = [e for a in self._in_command.values() for e in a.collect_events()]
        self._in_command.clear()
        pending.sort(key=lambda e: e.timestamp)
        self.events.extend(pending)
        self.commands.append(CommandRecord(key, command, fingerprint, result, len(pending)))

    def refuse_command(self, key: str, command: str, fingerprint: str,
                       refusal: LedgerError) -> None:
        """Notes the refusal so its idempotency key is saved with it. Whatever the command
        changed before it was refused stays pending, never collected (has_pending_events tells
        the caller to drop this unit's aggregates after saving it)."""
        self.commands.append(CommandRecord(key, command, fingerprint, None, 0, refusal.as_dict()))


def _noun(cls: type[Aggregate]) -> str:
    return {"CompetenceHolding": "competence holding"}.get(cls.__name__, cls.__name__.lower())
