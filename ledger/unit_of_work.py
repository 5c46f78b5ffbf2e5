"""A unit of work: the aggregates one or more commands touch, the events they record and the
answers to their idempotency keys (refusals too), saved together in one transaction (so a batch
of imported commands costs one commit).

A unit may read records as this process last saw them (`RecentRecords`), without asking the
store; it notes the version of every record it reads, and the write refuses the unit if any of
them has moved on since (`LedgerRecorder.insert_events`), so a stale copy is never acted on. It
notes too which of them serialise their writers: the write gives way if another writer of one is
under way.

Decisions under one holding commute: each records an exercise on it, which nothing a decision
relies on depends on. A unit that writes a record only such events (`commuting_events`) is not
refused for the ones others wrote since it read the record; its events follow theirs. Its copy
of the record then lacks those others' events, and is kept as partial (`RecentRecords`)."""

from __future__ import annotations

import pickle
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, suppress
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, LRUCache
from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from ledger.errors import AlreadyRecorded, LedgerError, UnknownReference
from ledger.store import CommandRecord, Reads

if TYPE_CHECKING:
    from eventsourcing.application import Repository

A = TypeVar("A", bound=Aggregate)

CONTENDED_SECONDS = 1.0
"""How long a record whose writers take turns is read in turn, from the store, after a unit
that had read it had to give way: while others write it, a remembered copy is mostly stale, and
a command that tried one would do its work twice."""

OUT = object()
"""Kept in place of a record a unit has taken and not yet put back."""


class RecentRecords:
    """Records as units of work of this process left them after their save. A unit takes a
    record out and its save puts it back (`keep`), so a record is in one unit's hands at a
    time and needs no copy. Two kinds are kept pickled instead, and each unit gets a copy:
    - a record a unit made, until a unit reads it: most (decisions) are not read again soon,
      and a pickle is one object, which the garbage collector need not walk;
    - a record two units of this process wanted at once, for CONTENDED_SECONDS: the second
      read it from the store, and threads deciding under one holding should not read it in
      turn. Unpickling a record is a third of the time of copying the object
      (bench/RESULTS.md).

    A record whose events from this process followed others' commuting events is kept partial:
    it has every other event up to the store's version before its own last ones (`as_of`), and
    is read as of that version. A unit that writes it only commuting events is checked against
    that version exactly; any other unit that read it is refused, for the record has moved on
    since (its own last events at least), and reads it from the store."""

    def __init__(self, maxsize: int) -> None:
        # a record, or its pickle, or OUT while a unit has it; and as_of
        self._records: LRUCache[UUID, tuple[Any, int | None]] = LRUCache(maxsize)
        self._wanted_together: LRUCache[UUID, float] = LRUCache(maxsize)  # until when
        self._contended: LRUCache[UUID, float] = LRUCache(maxsize)  # until when
        self._taking = threading.Lock()

    def take(self, aggregate_id: UUID) -> tuple[Aggregate, int | None] | None:
        """The record for a unit to use, and the version it is read as of if it is partial."""
        with self._taking:
            entry = self._entry(aggregate_id)
            if entry is None:
                return None
            kept, as_of = entry
            if kept is OUT:
                self._wanted_together.put(aggregate_id, time.monotonic() + CONTENDED_SECONDS)
                return None
            if isinstance(kept, bytes):
                return cast(Aggregate, pickle.loads(kept)), as_of  # pickled below
            self._records.put(aggregate_id, (OUT, as_of))
            return cast(Aggregate, kept), as_of

    def keep(self, uow: UnitOfWork) -> None:
        """The records of a saved unit, as it leaves them, but for one a refused command left
        changes in: it is forgotten, and read from the store when next needed."""
        for aggregate_id, aggregate in uow.loaded():
            if aggregate.pending_events:
                self._evict(aggregate_id)
                continue
            as_of = uow.partial_as_of(aggregate_id)
            if self._kept_as_it_is(uow, aggregate_id):
                with self._taking:
                    self._records.put(aggregate_id, (aggregate, as_of))
            elif (as_of is not None or not uow.as_remembered(aggregate_id, aggregate)
                  or not self._pickled(aggregate_id)):  # an unchanged copy's pickle stands
                pickled = pickle.dumps(aggregate, pickle.HIGHEST_PROTOCOL)
                with self._taking:
                    self._records.put(aggregate_id, (pickled, as_of))

    def _kept_as_it_is(self, uow: UnitOfWork, aggregate_id: UUID) -> bool:
        return uow.found(aggregate_id) and not self._until(self._wanted_together, aggregate_id)

    def forget(self, uow: UnitOfWork) -> None:
        """The records a unit read, after its save was refused: one of them had moved on, or
        another writer of one was under way; or after the unit failed otherwise."""
        for aggregate_id in uow.read:
            self._evict(aggregate_id)
        until = time.monotonic() + CONTENDED_SECONDS
        for aggregate_id in uow.serialised:
            self._contended.put(aggregate_id, until)

    def _entry(self, aggregate_id: UUID) -> tuple[Any, int | None] | None:
        try:
            return self._records.get(aggregate_id)
        except KeyError:
            return None

    def _pickled(self, aggregate_id: UUID) -> bool:
        entry = self._entry(aggregate_id)
        return entry is not None and isinstance(entry[0], bytes)

    def _evict(self, aggregate_id: UUID) -> None:
        with suppress(KeyError):
            self._records.get(aggregate_id, evict=True)

    @staticmethod
    def _until(deadlines: LRUCache[UUID, float], aggregate_id: UUID) -> bool:
        try:
            return deadlines.get(aggregate_id) > time.monotonic()
        except KeyError:
            return False

    def contended(self, aggregate_id: UUID) -> bool:
        """Whether a unit that read the record had to give way less than CONTENDED_SECONDS
        ago."""
        return self._until(self._contended, aggregate_id)

    def known_absent(self, aggregate_id: UUID) -> bool:
        """Whether the record is known to have no events (this class never knows it)."""
        return False

    def note_absent(self, aggregate_id: UUID) -> None:
        """The store has no events of the record (this class keeps nothing of it)."""


class ImportedRecords(RecentRecords):
    """The records one import has loaded or made, and those it found absent, kept for the
    whole run, as they are: only the importer's thread takes them, and it reads again most of
    what it made. A record a unit could not save, or that a refused command left changed, is
    forgotten (`forget`, `keep`). A record taken to be absent counts as read at version 0, so a
    writer that created it meanwhile makes the unit's save fail, and the batch goes the normal
    way."""

    def __init__(self, maxsize: int) -> None:
        super().__init__(maxsize)
        self._absent: LRUCache[UUID, None] = LRUCache(maxsize)

    def keep(self, uow: UnitOfWork) -> None:
        super().keep(uow)
        for aggregate_id, _ in uow.loaded():
            with suppress(KeyError):
                self._absent.get(aggregate_id, evict=True)

    def take(self, aggregate_id: UUID) -> tuple[Aggregate, int | None] | None:
        """The record stays in place while a unit has it: no other takes it."""
        return cast("tuple[Aggregate, int | None] | None", self._entry(aggregate_id))

    def _kept_as_it_is(self, uow: UnitOfWork, aggregate_id: UUID) -> bool:
        return True

    def forget(self, uow: UnitOfWork) -> None:
        super().forget(uow)
        for aggregate_id in uow.read:
            with suppress(KeyError):
                self._absent.get(aggregate_id, evict=True)

    def known_absent(self, aggregate_id: UUID) -> bool:
        try:
            self._absent.get(aggregate_id)
        except KeyError:
            return False
        return True

    def note_absent(self, aggregate_id: UUID) -> None:
        self._absent.put(aggregate_id, None)


class UnitOfWork:
    def __init__(self, repository: Repository[UUID],
                 serialise: Callable[[UUID], AbstractContextManager[None]] | None = None,
                 recent: RecentRecords | None = None) -> None:
        """A record is read from `recent` when it is there; else from the store, and if its
        writers take turns, inside `serialise`, which has the read wait for this one's."""
        self._repository = repository
        self._serialise = serialise
        self._recent = recent
        self._aggregates: dict[UUID, Aggregate | None] = {}
        self._in_command: dict[UUID, Aggregate] = {}  # what the current command has touched
        self.read: dict[UUID, int] = {}  # the version of each stored record read
        self.serialised: set[UUID] = set()  # the records read whose writers take turns
        self._remembered: dict[UUID, int] = {}  # the records read from `recent`, their versions
        self._partial: set[UUID] = set()  # those of them read as partial
        self._reads: Reads | None = None  # as the last save was conditioned, its bases filled
        self.events: list[Any] = []
        self.commands: list[CommandRecord] = []

    def know_absent(self, ids: set[UUID]) -> None:
        """Records taken to have no events yet: looking them up needs no query. They count as
        read at version 0, so the write refuses the unit if one has events after all."""
        for aggregate_id in ids:
            if aggregate_id not in self._aggregates:
                self._aggregates[aggregate_id] = None
                self.read[aggregate_id] = 0

    def find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        if aggregate_id not in self._aggregates:
            serialised = getattr(cls, "serialises_writers", False)
            if serialised:
                self.serialised.add(aggregate_id)
            found = self._load(aggregate_id, serialised)
            self._aggregates[aggregate_id] = found
            if found is not None:
                self.read.setdefault(aggregate_id, found.version)  # a partial one's is noted
            elif self._recent is not None and self._recent.known_absent(aggregate_id):
                self.read[aggregate_id] = 0
        aggregate = self._aggregates[aggregate_id]
        if aggregate is None or not isinstance(aggregate, cls):
            return None
        self._in_command[aggregate_id] = aggregate
        return aggregate

    def _load(self, aggregate_id: UUID, serialised: bool) -> Aggregate | None:
        if self._recent is not None and not (serialised and self._recent.contended(aggregate_id)):
            recent = self._recent.take(aggregate_id)
            if recent is not None:
                aggregate, as_of = recent
                self._remembered[aggregate_id] = aggregate.version
                if as_of is not None:
                    self._partial.add(aggregate_id)
                    self.read[aggregate_id] = as_of
                return aggregate
            if self._recent.known_absent(aggregate_id):
                return None
        try:
            if serialised and self._serialise is not None:
                with self._serialise(aggregate_id):
                    return self._repository.get(aggregate_id)
            return self._repository.get(aggregate_id)
        except AggregateNotFoundError:
            if self._recent is not None:
                self._recent.note_absent(aggregate_id)
            return None

    def found(self, aggregate_id: UUID) -> bool:
        """Whether the record was there before the unit: read, not made."""
        return self.read.get(aggregate_id, 0) > 0

    def loaded(self) -> list[tuple[UUID, Aggregate]]:
        return [(i, a) for i, a in self._aggregates.items() if a is not None]

    def as_remembered(self, aggregate_id: UUID, aggregate: Aggregate) -> bool:
        """Whether the record was read from `recent` and is unchanged since."""
        return self._remembered.get(aggregate_id) == aggregate.version

    def reads(self) -> Reads:
        """What the unit's save is conditional on (`Reads`): the records read, and the
        commuting ones among those it writes."""
        written: dict[UUID, set[str]] = {}
        for event in self.events:
            written.setdefault(event.originator_id, set()).add(type(event).__name__)
        commuting: set[UUID] = set()  # looked up per event and per record read, in the write
        topics: set[str] = set()
        for aggregate_id, names in written.items():
            cls = type(self._aggregates[aggregate_id])
            allowed = getattr(cls, "commuting_events", ())
            if aggregate_id in self.read and names <= set(allowed):
                commuting.add(aggregate_id)
                topics.update(get_topic(getattr(cls, name)) for name in allowed)
        self._reads = Reads(self.read, self.serialised, commuting, topics)
        return self._reads

    def partial_as_of(self, aggregate_id: UUID) -> int | None:
        """After the save: the version a record the unit wrote commuting events to is to be
        read as of, if its copy is now partial (it was, or others' events came between). A
        record read partial and not written fails the save, which checks it strictly."""
        base = self._reads.bases.get(aggregate_id) if self._reads is not None else None
        if base is None or (aggregate_id not in self._partial
                            and base == self.read[aggregate_id]):
            return None
        return base

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
