"""The event store: eventsourcing's PostgreSQL recorder, extended with the hash chain and the
command log (idempotency keys), both written in the transaction that writes the events.

The command log answers each idempotency key once: an accepted command with its result and
position (its last event's), a refused one with its refusal (code, message, field) and no
position, for it has no event.

Canonical form of an event's hash (hex in exports, bytea in the table)::

    event_hash(n) = SHA-256( event_hash(n-1)               32 bytes; 32 zero bytes before the first
                             || int8(notification_id)       8 bytes, big-endian
                             || originator_id               16 bytes, the UUID's bytes
                             || int8(originator_version)    8 bytes, big-endian
                             || int4(len(topic)) || topic   length in bytes, then UTF-8
                             || int4(len(state)) || state ) length in bytes, then the stored bytes

where n-1 is the event just before it in global (notification id) order. The recorder takes an
EXCLUSIVE lock on the events table before every insert, so the chain cannot fork.

A command runs in one transaction on one connection (`LedgerRecorder.write`): its reads and its
write. Writers of the same competence holding take turns on an advisory lock. A writer that reads
the holding from the store takes it first (`LedgerRecorder.serialise`), so none of them reads a
state another is about to change; a writer that took the holding as its process last saw it only
tries to take the lock in its write, and gives way (its write refused, to run again reading the
store) if another writer has it or the holding has moved on. A writer that only records
commuting events on the holding (a decision's exercise) takes the lock shared and waits for it,
and follows the commuting events others recorded since it read the holding (`Reads`).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg import Connection
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier, Literal

GENESIS_HASH = bytes(32)
PREVIOUS_HASH_SQL = (
    "coalesce((SELECT p.event_hash FROM {table} p WHERE p.notification_id < e.notification_id"
    " ORDER BY p.notification_id DESC LIMIT 1), '\\x" + GENESIS_HASH.hex() + "'::bytea)")
"""The hash an event `e` of `{table}` is chained to: its predecessor's in position order (the
trigger's `previous`), or the genesis hash for the first event."""

SERIALISED_WRITERS = 0x42657600
"""The first key of the two-key advisory locks that queue a record's writers; the projections'
locks take one key, a space of their own."""


FIRST_CONNECTION_SECONDS = 10.0
"""How long a new process waits for its first connection: a loaded server may take more than
the second a call waits for one of the pool's connections later."""

TURNS = 64
"""How many locks the threads of one process take turns on before a record's writers' lock."""

MOVED_ON = "23000"  # integrity_constraint_violation, which no constraint of the tables raises
"""The SQLSTATE of the write function's refusals (`moved_on`)."""


def writers_lock(record: UUID) -> int:
    """The second key of the advisory lock a record's writers take turns on."""
    return int.from_bytes(record.bytes[:4], "big", signed=True)


@dataclass
class _Write:
    """A command's reads and write under way in this thread: its store's datastore, the one
    connection they use, and whether a transaction was begun on it (by the first lock)."""

    datastore: PostgresDatastore
    conn: Connection[DictRow]
    begun: bool = False
    turns: list[threading.Lock] = field(default_factory=list)  # this process's, held


_WRITE: ContextVar[_Write | None] = ContextVar("bevoegd_write", default=None)


def event_hash(previous: bytes, position: int, originator_id: UUID, originator_version: int,
               topic: str, state: bytes) -> bytes:
    """The chain's hash of an event, as the trigger computes it (the module's docstring), for
    checking a chain outside the database."""
    return hashlib.sha256(previous + encoded_identity(position, originator_id, originator_version)
                          + encoded_content(topic, state)).digest()


def encoded_identity(position: int, originator_id: UUID, originator_version: int) -> bytes:
    """Position, aggregate id and version: 8, 16 and 8 bytes, as the chain and the transparency
    log's leaves take them."""
    return (position.to_bytes(8, "big") + originator_id.bytes
            + originator_version.to_bytes(8, "big"))


def encoded_content(topic: str, state: bytes) -> bytes:
    """Topic and stored state, each after its length in bytes (4 bytes)."""
    encoded = topic.encode()
    return len(encoded).to_bytes(4, "big") + encoded + len(state).to_bytes(4, "big") + state


def moved_on(error: IntegrityError) -> bool:
    """Whether a write was refused because a record its commands read has moved on, or another
    writer of one is under way (the write function's own refusal), rather than because a key
    or a version it writes is taken."""
    return getattr(error.__cause__, "sqlstate", None) == MOVED_ON


@dataclass(frozen=True)
class CommandRecord:
    """A command answered, kept so a repeat of its idempotency key returns the first answer:
    accepted with its result and events, or refused (then it has no events)."""

    idempotency_key: str
    command: str
    fingerprint: str
    result: dict[str, Any] | None
    event_count: int
    refusal: dict[str, str | None] | None = None


@dataclass
class Reads:
    """What a unit's write is conditional on: the version of each record its commands read
    (`versions`), those of them whose writers take turns (`serialised`), and those it writes
    only commuting events to (`commuting`), with the topics of the events that may have come
    between (`commuting_topics`). The write fills in `bases`: each commuting record's last
    version before the unit's events."""

    versions: Mapping[UUID, int] = field(default_factory=dict)
    serialised: Collection[UUID] = ()
    commuting: Collection[UUID] = ()
    commuting_topics: Collection[str] = ()
    bases: dict[UUID, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordedCommand:
    """What the command log holds for a key: the fingerprint of the command's content, and its
    result and position if it was accepted, or its refusal."""

    fingerprint: str
    result: dict[str, Any] | None
    position: int | None
    refusal: dict[str, str | None] | None


def command_positions(commands: Sequence[CommandRecord], ids: Sequence[int]) -> list[int | None]:
    """A command's position is that of its last event; the events come in command order. A
    refused command has none."""
    positions: list[int | None] = []
    end = 0
    for command in commands:
        end += command.event_count
        positions.append(None if command.refusal is not None else ids[end - 1])
    return positions


class LedgerRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        waits = datastore.pool.timeout
        datastore.pool.timeout = max(waits, FIRST_CONNECTION_SECONDS)
        try:
            super().__init__(datastore, events_table_name=events_table_name)  # the first query
        finally:
            datastore.pool.timeout = waits
        names = {
            "schema": Identifier(datastore.schema),
            "table": Identifier(events_table_name),
            "commands": Identifier(f"{events_table_name}_commands"),
            "answered": Identifier(f"{events_table_name}_commands_answered"),
            "chain_fn": Identifier(f"{events_table_name}_chain"),
            "freeze_fn": Identifier(f"{events_table_name}_immutable"),
            "lock_fn": Identifier(f"{events_table_name}_lock"),
            "write_fn": Identifier(f"{events_table_name}_write"),
            "sequence": Identifier(f"{events_table_name}_notification_id_seq"),
            "hash_index": Identifier(f"{events_table_name}_event_hash_idx"),
            # the transaction's setting that carries the last hash from row to row
            "carried": SQL(f"bevoegd.{events_table_name}_tail"),
        }
        self.names = names
        # this process's turns, as `serialise` takes them: a record's is the one at its writers'
        # lock modulo their number (records sharing one take turns together)
        self._turns = [threading.Lock() for _ in range(TURNS)]
        self.commands_table = SQL("{schema}.{commands}").format(**names)
        self.events_table = SQL("{schema}.{table}").format(**names)
        self.sql_create_statements.extend(
            SQL(statement).format(**names)
            for statement in (
                "ALTER TABLE {schema}.{table} ADD COLUMN IF NOT EXISTS event_hash bytea",
                "CREATE TABLE IF NOT EXISTS {schema}.{commands} ("
                " idempotency_key text PRIMARY KEY,"
                " command text NOT NULL,"
                " fingerprint text NOT NULL,"
                " result jsonb,"
                " position bigint,"
                " refusal jsonb,"
                " recorded_at timestamptz NOT NULL DEFAULT now())",
                # Brings a table made before refusals were recorded to the shape above, and
                # makes every row either accepted or refused. Once only: on a table that has
                # the constraint, adding it fails and the block changes nothing.
                "DO $$ BEGIN"
                " ALTER TABLE {schema}.{commands} ADD COLUMN IF NOT EXISTS refusal jsonb,"
                "  ALTER COLUMN result DROP NOT NULL, ALTER COLUMN position DROP NOT NULL,"
                "  ADD CONSTRAINT {answered} CHECK ((refusal IS NULL) = (result IS NOT NULL)"
                "   AND (refusal IS NULL) = (position IS NOT NULL));"
                " EXCEPTION WHEN duplicate_object THEN NULL;"
                " END $$",
                # The hash before is the last row's: looked up for a transaction's first event,
                # then carried from row to row in a setting local to the transaction (which a
                # rolled-back savepoint undoes with its rows). The table lock every writer takes
                # keeps the transaction's last row the table's last.
                "CREATE OR REPLACE FUNCTION {schema}.{chain_fn}() RETURNS trigger"
                " LANGUAGE plpgsql VOLATILE AS $$"
                " DECLARE previous bytea; carried text := current_setting('{carried}', true);"
                " BEGIN"
                "  IF carried IS NOT NULL AND carried <> ''"
                "   AND split_part(carried, ':', 1)::bigint < NEW.notification_id THEN"
                "   previous := decode(split_part(carried, ':', 2), 'hex');"
                "  ELSE"
                "   SELECT event_hash INTO previous FROM {schema}.{table}"
                "    ORDER BY notification_id DESC LIMIT 1;"
                "  END IF;"
                "  NEW.event_hash := sha256("
                "   coalesce(previous, '\\x" + GENESIS_HASH.hex() + "'::bytea)"
                "   || int8send(NEW.notification_id)"
                "   || uuid_send(NEW.originator_id)"
                "   || int8send(NEW.originator_version)"
                "   || int4send(octet_length(convert_to(NEW.topic, 'UTF8')))"
                "   || convert_to(NEW.topic, 'UTF8')"
                "   || int4send(octet_length(NEW.state))"
                "   || NEW.state);"
                "  PERFORM set_config('{carried}',"
                "   NEW.notification_id || ':' || encode(NEW.event_hash, 'hex'), true);"
                "  RETURN NEW;"
                " END $$",
                "CREATE OR REPLACE TRIGGER chain_event BEFORE INSERT ON {schema}.{table}"
                " FOR EACH ROW EXECUTE FUNCTION {schema}.{chain_fn}()",
                # an auditor holding an event's hash (or its first digits) finds the event
                "CREATE INDEX IF NOT EXISTS {hash_index} ON {schema}.{table} (event_hash)",
                "CREATE OR REPLACE FUNCTION {schema}.{freeze_fn}() RETURNS trigger"
                " LANGUAGE plpgsql AS $$"
                " BEGIN RAISE EXCEPTION 'ledger events are immutable: record a new event instead';"
                " END $$",
                "CREATE OR REPLACE TRIGGER events_are_immutable"
                " BEFORE UPDATE OR DELETE ON {schema}.{table}"
                " FOR EACH STATEMENT EXECUTE FUNCTION {schema}.{freeze_fn}()",
                "CREATE OR REPLACE TRIGGER events_are_not_truncated"
                " BEFORE TRUNCATE ON {schema}.{table}"
                " FOR EACH STATEMENT EXECUTE FUNCTION {schema}.{freeze_fn}()",
                # PostgreSQL lets only a role that may UPDATE, DELETE or TRUNCATE a table lock it
                # EXCLUSIVE; through this function a writer that may only INSERT takes the lock
                # that keeps the log's order equal to its commit order.
                "CREATE OR REPLACE FUNCTION {schema}.{lock_fn}() RETURNS void"
                " LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$"
                " BEGIN LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; END $$",
                "REVOKE ALL ON FUNCTION {schema}.{lock_fn}() FROM PUBLIC",
            )
        )
        # The write in one round trip: the writers' locks of the records that serialise them
        # (tried, never waited for: a writer holding one may be changing the record, so this
        # one gives way; taken before the table lock, as a serialised writer takes them), the
        # table lock, the check that no record read has changed since (under the lock, so
        # nothing can change it before the commit; a refusal alone, which changes nothing, is
        # checked without it), the notification, the events and the answers to the commands. A
        # lock not had or a stale read is refused as an integrity error, like a version taken by
        # another writer: the command runs again.
        #
        # A record the unit wrote only commuting events to (`commuting_ids`: a decision's
        # exercise of its holding) is checked more leniently: events of `commuting_topics`
        # recorded since the read do not make it stale, and the unit's events follow them (their
        # versions move up). Its writers' lock is taken shared, waited for: writers of commuting
        # events do not wait for each other, only for a writer in turn. Each such record's last
        # version before the unit's events is returned (`bases`). An old database keeps the
        # function of the version before beside this one, so that a process of that version
        # still writes until it is replaced.
        self.sql_create_statements.append(SQL(
            "CREATE OR REPLACE FUNCTION {schema}.{write_fn}("
            " ids uuid[], versions bigint[], topics text[], states bytea[],"
            " read_ids uuid[], read_versions bigint[], writers_locks int[],"
            " commuting_ids uuid[], commuting_firsts bigint[], commuting_topics text[],"
            " commuting_locks int[],"
            " keys text[], commands text[], prints text[], results jsonb[], ends int[],"
            " refusals jsonb[]) RETURNS bigint[]"
            " LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$"
            " DECLARE positions bigint[] := '{{}}'; bases bigint[] := '{{}}'; shifted boolean;"
            " BEGIN"
            "  IF cardinality(ids) > 0 THEN"
            "   IF EXISTS (SELECT FROM unnest(writers_locks) AS k"
            "    WHERE NOT pg_try_advisory_xact_lock({serialised}, k)) THEN"
            "    RAISE EXCEPTION 'another writer of a record the command read is under way'"
            "     USING ERRCODE = {moved_on};"
            "   END IF;"
            "   PERFORM set_config('lock_timeout', {lock_timeout}, true);"
            # A unit holding writers' locks only tries the shared ones: two such units waiting
            # for each other's would wait forever.
            "   IF cardinality(writers_locks) > 0 THEN"
            "    IF EXISTS (SELECT FROM unnest(commuting_locks) AS k"
            "     WHERE NOT pg_try_advisory_xact_lock_shared({serialised}, k)) THEN"
            "     RAISE EXCEPTION 'another writer of a record the command read is under way'"
            "      USING ERRCODE = {moved_on};"
            "    END IF;"
            "   ELSE"
            "    PERFORM pg_advisory_xact_lock_shared({serialised}, k)"
            "     FROM unnest(commuting_locks) AS k;"
            "   END IF;"
            "   PERFORM {schema}.{lock_fn}();"
            "  END IF;"
            # each record's last version (or, for a commuting one, its first other event since
            # the read) from the index, in a subquery that is not made a join: a join, planned
            # once for any arguments, scans the whole table
            "  IF EXISTS (SELECT FROM unnest(read_ids, read_versions) AS r(id, version)"
            "   WHERE CASE WHEN r.id = ANY(commuting_ids)"
            "    THEN (SELECT min(e.originator_version) FROM {schema}.{table} AS e"
            "     WHERE e.originator_id = r.id AND e.originator_version > r.version"
            "     AND e.topic <> ALL(commuting_topics)) IS NOT NULL"
            "    ELSE (SELECT max(e.originator_version) FROM {schema}.{table} AS e"
            "     WHERE e.originator_id = r.id) > r.version END) THEN"
            "   RAISE EXCEPTION 'a record changed since the command read it'"
            "    USING ERRCODE = {moved_on};"
            "  END IF;"
            # the unit's events of a commuting record move up behind those that came between
            "  IF cardinality(commuting_ids) > 0 THEN"
            "   SELECT array_agg(l.base ORDER BY c.o), bool_or(l.base + 1 <> c.first)"
            "    INTO bases, shifted"
            "    FROM unnest(commuting_ids, commuting_firsts) WITH ORDINALITY AS c(id, first, o),"
            "    LATERAL (SELECT max(e.originator_version) AS base FROM {schema}.{table} AS e"
            "     WHERE e.originator_id = c.id) AS l;"
            "   IF shifted THEN"
            "    SELECT array_agg(x.v + coalesce((SELECT b.base + 1 - b.first"
            "     FROM unnest(commuting_ids, bases, commuting_firsts) AS b(id, base, first)"
            "     WHERE b.id = x.id), 0) ORDER BY x.o) INTO versions"
            "     FROM unnest(ids, versions) WITH ORDINALITY AS x(id, v, o);"
            "   END IF;"
            "  END IF;"
            "  IF cardinality(ids) > 0 THEN"
            "   NOTIFY {channel};"
            "   WITH inserted AS (INSERT INTO {schema}.{table}"
            "    (originator_id, originator_version, topic, state)"
            "    SELECT * FROM unnest(ids, versions, topics, states) RETURNING notification_id)"
            "   SELECT array_agg(notification_id ORDER BY notification_id) INTO positions"
            "    FROM inserted;"
            "  END IF;"
            "  INSERT INTO {schema}.{commands}"
            "   (idempotency_key, command, fingerprint, result, position, refusal)"
            "   SELECT k, c, p, r, CASE WHEN f IS NULL THEN positions[e] END, f"
            "   FROM unnest(keys, commands, prints, results, ends, refusals) AS a(k, c, p, r, e, f);"
            "  RETURN positions || bases;"
            " END $$").format(**names, channel=Identifier(self.channel_name),
                             lock_timeout=Literal(f"{datastore.lock_timeout}s"),
                             serialised=Literal(SERIALISED_WRITERS),
                             moved_on=Literal(MOVED_ON)))
        # arrays in binary: building text arrays (of escaped bytea above all) was a fifth of
        # an import's time
        self.write_statement = SQL(
            "SELECT {schema}.{write_fn}(%b, %b, %b, %b, %b, %b, %b::int[], %b, %b, %b,"
            " %b::int[], %b, %b, %b, %b::jsonb[], %b, %b::jsonb[]) AS written").format(**names)
        # Every query of this store, the library's reads of aggregates too, joins the write
        # under way in the thread, if there is one, so a command reads what it writes over.
        pooled = datastore.get_connection

        @contextmanager
        def connection() -> Iterator[Connection[DictRow]]:
            write = _WRITE.get()
            if write is not None and write.datastore is datastore:
                yield write.conn
                return
            with pooled() as conn:
                yield conn

        datastore.get_connection = connection  # type: ignore[method-assign]

    @contextmanager
    def write(self) -> Iterator[None]:
        """One connection for every query made in the block: a command's reads and its write.
        The first `serialise` begins a transaction on it, which then holds the locks and every
        later read until the block ends; without one, the write is a transaction of its own
        (its check of what was read keeps it consistent). Either way the write commits once."""
        with self.datastore.get_connection() as conn:
            write = _Write(self.datastore, conn)
            token = _WRITE.set(write)
            try:
                yield
            except BaseException:
                if write.begun:
                    with suppress(psycopg.Error):  # a lost connection took the transaction along
                        conn.execute("ROLLBACK")
                raise
            else:
                if write.begun:  # nothing was written: the write commits in its round trip
                    conn.execute("COMMIT")
            finally:
                _WRITE.reset(token)
                for turn in write.turns:
                    turn.release()

    @contextmanager
    def serialise(self, record: UUID) -> Iterator[None]:
        """Inside `write`: the reads in the block wait until no other write serialised on the
        record is under way, and others wait until this one ends. The lock and the reads go in
        one round trip (a pipeline), so the holding's next writer starts reading as soon as it
        has the lock. Outside `write`, the block just runs.

        The threads of this process take turns first: a read waiting in the pipeline for the
        lock holds the repository's lock on the record in this process, which the thread that
        has the database's lock may need for its own read."""
        write = _WRITE.get()
        if write is None or write.datastore is not self.datastore:
            yield
            return
        turn = self._turns[writers_lock(record) % TURNS]
        if turn not in write.turns:
            turn.acquire()
            write.turns.append(turn)
        with write.conn.pipeline():
            if not write.begun:
                write.conn.execute("BEGIN")
                write.begun = True
            write.conn.execute(SQL("SELECT pg_advisory_xact_lock({}, {})").format(
                SERIALISED_WRITERS, writers_lock(record)))
            yield

    def create_table(self) -> None:
        """Brings the tables to this version's shape, unless they have it already. The
        statements take table locks (ALTER TABLE, CREATE TRIGGER), so run on a live ledger they
        would queue behind its writers and could deadlock with them: a server process started
        beside others (a worker replaced, a second container) must find nothing to do. The
        shape is known by a digest of the statements, kept as the commands table's comment."""
        shape = f"bevoegd schema {self._shape_digest()}"
        if self._stored_shape() == shape:
            self.datastore.register_type_adapters()
            return
        super().create_table()
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("COMMENT ON TABLE {} IS {}").format(self.commands_table,
                                                                 Literal(shape)))

    def admit_writer(self, role: str) -> None:
        """Lets `role` run Bevoegd (commands, projections, tokens) on the ledger's tables as
        they are now: add events and answers and read them, never change or remove them. The
        tables stay this role's (the one connected), so the writer cannot alter them or their
        triggers either; only the owner or a superuser can."""
        grants = [
            "GRANT SELECT, INSERT ON {schema}.{table}, {schema}.{commands} TO {role}",
            "GRANT USAGE ON SEQUENCE {schema}.{sequence} TO {role}",
            "GRANT EXECUTE ON FUNCTION {schema}.{lock_fn}() TO {role}",
            "GRANT USAGE, CREATE ON SCHEMA {schema} TO {role}",  # the tokens' table
            "GRANT CONNECT, CREATE ON DATABASE {database} TO {role}",  # the projections' schemas
        ]
        with self.datastore.transaction(commit=True) as curs:
            curs.execute("SELECT current_database(), EXISTS (SELECT FROM pg_roles"
                         " WHERE rolname = %s) AS known", (role,))
            row = curs.fetchone()
            assert row is not None
            if not row["known"]:
                raise LookupError(f"PostgreSQL has no role '{role}': create it first "
                                  "(CREATE ROLE ... LOGIN).")
            database = Identifier(row["current_database"])
            for grant in grants:
                curs.execute(SQL(grant).format(**self.names, role=Identifier(role),
                                               database=database))

    def _shape_digest(self) -> str:
        statements = "\n".join(statement.as_string() for statement in self.sql_create_statements)
        return hashlib.sha256(statements.encode()).hexdigest()

    def _stored_shape(self) -> str | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT obj_description(to_regclass({}), 'pg_class') AS shape").format(
                Literal(self.commands_table.as_string(curs))))
            row = curs.fetchone()
        return row["shape"] if row is not None else None

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], *, commands: Sequence[CommandRecord] = (),
        reads: Reads | None = None, **kwargs: Any,
    ) -> Sequence[int] | None:
        """Inserts the events (the trigger chains their hashes) and the commands they answer, in
        one transaction and one round trip; refused commands come with no events, and may come
        alone. If a record in `reads` has moved on since (otherwise than by commuting events,
        for a commuting one), or another writer of a serialised one is under way, nothing is
        written and IntegrityError is raised."""
        if not stored_events and not commands:
            return []
        reads = reads or Reads()
        write = _WRITE.get()
        if write is not None and write.datastore is self.datastore:  # the write under way
            # A transaction begun by a writers' lock commits in the write's round trip, for
            # the lock is held until then, and the holding's next writer waits.
            positions = self._insert(write.conn, stored_events, commands, reads,
                                     commit=write.begun)
            write.begun = False
            return positions
        with self.datastore.get_connection() as conn:
            return self._insert(conn, stored_events, commands, reads)

    def _insert(self, conn: Connection[DictRow], stored_events: Sequence[StoredEvent],
                commands: Sequence[CommandRecord], reads: Reads, *, commit: bool = False
                ) -> list[int]:
        ends: list[int] = []
        end = 0
        for command in commands:
            end += command.event_count
            ends.append(end)
        commuting = list(reads.commuting)
        firsts: dict[UUID, int] = {}  # the first version of each commuting record's events
        for e in stored_events:
            if e.originator_id in reads.commuting:
                firsts[e.originator_id] = min(e.originator_version,
                                              firsts.get(e.originator_id, e.originator_version))
        arguments = (
            [e.originator_id for e in stored_events],
            [e.originator_version for e in stored_events],
            [e.topic for e in stored_events],
            [e.state for e in stored_events],
            list(reads.versions), list(reads.versions.values()),
            sorted({writers_lock(r) for r in reads.serialised if r not in reads.commuting}),
            commuting, [firsts[r] for r in commuting], list(reads.commuting_topics),
            sorted({writers_lock(r) for r in commuting if r in reads.serialised}),
            [command.idempotency_key for command in commands],
            [command.command for command in commands],
            [command.fingerprint for command in commands],
            [_jsonb(command.result) for command in commands],
            ends,
            [_jsonb(command.refusal) for command in commands],
        )
        if not commit:
            row = conn.execute(self.write_statement, arguments, prepare=True).fetchone()
        else:
            with conn.pipeline():
                written = conn.execute(self.write_statement, arguments, prepare=True)
                conn.execute("COMMIT")
            row = written.fetchone()
        assert row is not None
        written = row["written"] or []
        reads.bases.update(zip(commuting, written[len(stored_events):], strict=True))
        return written[:len(stored_events)]

    def find_commands(self, keys: Sequence[str]) -> dict[str, RecordedCommand]:
        """What the log holds for each of these keys it has."""
        if not keys:
            return {}
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL("SELECT idempotency_key, fingerprint, result, position, refusal FROM {}"
                    " WHERE idempotency_key = ANY(%s)").format(self.commands_table),
                (list(keys),),
            )
            return {
                row["idempotency_key"]: RecordedCommand(
                    row["fingerprint"], row["result"], row["position"], row["refusal"])
                for row in curs.fetchall()
            }

    def existing(self, ids: set[UUID]) -> set[UUID]:
        """Which of these aggregates have events (one query, for a whole import batch)."""
        if not ids:
            return set()
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL("SELECT originator_id FROM {} WHERE originator_id = ANY(%s)"
                    " AND originator_version = 1").format(self.events_table),
                (list(ids),),
            )
            return {row["originator_id"] for row in curs.fetchall()}

    def chain_rows(self, after: int = 0, limit: int = 10_000, originator_id: UUID | None = None,
                   *, with_previous_hash: bool = False) -> list[dict[str, Any]]:
        """Stored events with their hashes in global order (of one aggregate, if given); with
        `with_previous_hash`, also the hash each is chained to (`previous_hash`), which takes a
        look-up per event."""
        previous = SQL(", " + PREVIOUS_HASH_SQL + " AS previous_hash").format(
            table=self.events_table) if with_previous_hash else SQL("")
        query = SQL("SELECT notification_id, originator_id, originator_version, topic, state,"
                    " event_hash{previous} FROM {table} e WHERE notification_id > %s").format(
            previous=previous, table=self.events_table)
        params: list[Any] = [after]
        if originator_id is not None:
            query += SQL(" AND originator_id = %s")
            params.append(originator_id)
        query += SQL(" ORDER BY notification_id LIMIT %s")
        params.append(limit)
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(query, params)
            return list(curs.fetchall())


def _jsonb(value: dict[str, Any] | None) -> str | None:
    """A value for a jsonb column: absent is SQL NULL, not JSON null."""
    return None if value is None else json.dumps(value)
