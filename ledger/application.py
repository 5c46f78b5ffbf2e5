"""The application service: the ledger the API, the CLI and the importer give commands to and read
the write side from. A command runs through the pipeline (ledger/pipeline.py) to its handler
(ledger/handlers.py) and returns its result with the ledger position."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder
from eventsourcing.utils import EnvType

from ledger import commands as c
from ledger.domain.competence import Competence, CompetenceHolding, holding_id
from ledger.domain.jurisdiction import Jurisdiction
from ledger.handlers import CommandHandlers, acting_body
from ledger.personal_data import NoVault, PersonalDataVault
from ledger.pipeline import Answer, CommandContext, CommandPipeline, CommandResult
from ledger.store import LedgerRecorder, command_positions
from ledger.transcoding import register_ledger_transcodings
from ledger.unit_of_work import RecentRecords, UnitOfWork
from ledger.values import ChainLink
from ledger.vault import VAULT_VARIABLE, DatabaseVault, vault_wanted

EVENTS_TABLE = "bevoegd_events"  # eventsourcing names it after the application: "<name>_events"


@dataclass(frozen=True)
class Competent:
    """A body that may exercise a competence on a date, and the chain that makes it so; its
    capacity is the last link: attribution or delegation (in its own name), or (sub)mandate."""

    body: str
    capacity: str
    chain: list[ChainLink]


class Ledger(Application[UUID]):
    name = "Bevoegd"
    vault: PersonalDataVault = NoVault()

    def __init__(self, env: EnvType | None = None) -> None:
        super().__init__(env)
        if vault_wanted(self.env.get(VAULT_VARIABLE)):
            self.vault = DatabaseVault(self.store.datastore)
        recent = RecentRecords(int(self.env.get(self.AGGREGATE_CACHE_MAXSIZE) or 10_000))
        self.pipeline = CommandPipeline(self.repository, self.store,
                                        CommandHandlers(self.vault).handle, self._save, recent)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        register_ledger_transcodings(transcoder)

    @property
    def store(self) -> LedgerRecorder:
        assert isinstance(self.recorder, LedgerRecorder)
        return self.recorder

    # Running commands ------------------------------------------------------------------------

    def execute(self, command: c.Command, context: CommandContext) -> CommandResult:
        return self.pipeline.execute(command, context)

    def execute_batch(self, items: Sequence[tuple[c.Command, CommandContext]],
                      records: RecentRecords | None = None) -> list[Answer]:
        return self.pipeline.execute_batch(items, records)

    def acting_body(self, command: c.Command) -> str | None:
        return acting_body(UnitOfWork(self.repository), command)

    def _save(self, uow: UnitOfWork) -> list[int | None]:
        """Saves the unit atomically; returns each command's position (its last event's, none
        for a refused command). The events go to the event store as they are: `save` would ask
        of each whether it is an event or an aggregate, a protocol check slower than the
        event's encoding, and do nothing more for events."""
        recordings = self.events.put(uow.events, commands=uow.commands, reads=uow.reads())
        return command_positions(uow.commands, [r.notification.id for r in recordings])

    # Reading the write side ----------------------------------------------------------------

    def position(self) -> int:
        return self.recorder.max_notification_id() or 0

    def who_is_competent(self, competence: str, jurisdiction: str, on: date,
                         subject: str | None = None) -> list[Competent]:
        uow = UnitOfWork(self.repository)
        uow.get(Competence, competence, "competence")
        uow.get(Jurisdiction, jurisdiction, "jurisdiction")
        holding = uow.find(CompetenceHolding, holding_id(competence, jurisdiction))
        if holding is None:
            return []
        return [Competent(body, chain[-1].kind, chain)
                for body, chain in holding.exercisers_on(on, subject)]
