"""Append-only, also against the operator: the ledger's tables belong to an owner role, and the
role Bevoegd runs as (`bevoegd setup --writer ROLE`) may add and read events but not change,
delete or truncate them; the owner is stopped by the triggers. Only a superuser, who can drop the
triggers, is beyond this: signed checkpoints published elsewhere are what catch that."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from api.cli import main
from ledger import commands as c
from ledger.application import EVENTS_TABLE, Ledger
from ledger.database import DATABASE_URL_VARIABLE, eventsourcing_env
from tests.ledger_setup import run

pytestmark = pytest.mark.database

CHANGES = {
    "UPDATE": f"UPDATE {EVENTS_TABLE} SET topic = topic",
    "DELETE": f"DELETE FROM {EVENTS_TABLE}",
    "TRUNCATE": f"TRUNCATE {EVENTS_TABLE}",
}


@dataclass(frozen=True)
class Roles:
    owner_url: str
    writer_url: str
    writer: str


@pytest.fixture
def roles(database_url: str) -> Iterator[Roles]:
    """An owner role that owns the test database, and a writer role; both dropped afterwards."""
    suffix = uuid.uuid4().hex[:8]
    owner, writer = f"bevoegd_owner_{suffix}", f"bevoegd_writer_{suffix}"
    database = conninfo_to_dict(database_url)["dbname"]
    with psycopg.connect(database_url, autocommit=True) as conn:
        for role in (owner, writer):
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
            sql.Identifier(str(database)), sql.Identifier(owner)))
        conn.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(owner)))
    try:
        yield Roles(make_conninfo(database_url, user=owner),
                    make_conninfo(database_url, user=writer), writer)
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            for role in (writer, owner):
                conn.execute(sql.SQL("DROP OWNED BY {} CASCADE").format(sql.Identifier(role)))
        with psycopg.connect(make_conninfo(database_url, dbname="postgres"),
                             autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(str(database))))
            for role in (writer, owner):
                conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def bevoegd(url: str, *arguments: str) -> str:
    result = CliRunner().invoke(main, list(arguments), env={DATABASE_URL_VARIABLE: url})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def set_up(roles: Roles) -> Roles:
    """The owner made the tables and admitted the writer; the writer recorded one event."""
    bevoegd(roles.owner_url, "setup", "--writer", roles.writer)
    ledger = Ledger(env=eventsourcing_env(roles.writer_url))
    try:
        run(ledger, c.EstablishJurisdiction(code="dordrecht", title="Dordrecht",
                                            kind="municipality"))
    finally:
        ledger.close()
    return roles


def refusal(url: str, statement: str) -> psycopg.Error | None:
    with psycopg.connect(url) as conn:
        try:
            conn.execute(statement)
        except psycopg.Error as error:
            return error
    return None


def events(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(f"SELECT count(*) FROM {EVENTS_TABLE}").fetchone()
    assert row is not None
    return int(row[0])


def test_the_writer_runs_bevoegd(set_up: Roles) -> None:
    """Commands, tokens and a rebuild of the projections, all as the writer."""
    bevoegd(set_up.writer_url, "tokens", "create", "--role", "auditor")
    bevoegd(set_up.writer_url, "projections", "rebuild")
    status = bevoegd(set_up.writer_url, "projections", "status")
    assert "structure" in status
    assert events(set_up.writer_url) == 1


@pytest.mark.parametrize("change", CHANGES)
def test_the_writer_may_not_change_events(set_up: Roles, change: str) -> None:
    error = refusal(set_up.writer_url, CHANGES[change])
    assert isinstance(error, psycopg.errors.InsufficientPrivilege), error
    assert events(set_up.owner_url) == 1


@pytest.mark.parametrize("change", CHANGES)
def test_the_owner_is_stopped_by_the_triggers(set_up: Roles, change: str) -> None:
    error = refusal(set_up.owner_url, CHANGES[change])
    assert isinstance(error, psycopg.errors.RaiseException), error
    assert "immutable" in str(error)
    assert events(set_up.owner_url) == 1


def test_the_writer_may_not_lift_the_triggers(set_up: Roles) -> None:
    error = refusal(set_up.writer_url,
                    f"ALTER TABLE {EVENTS_TABLE} DISABLE TRIGGER events_are_immutable")
    assert isinstance(error, psycopg.errors.InsufficientPrivilege), error


def test_setup_names_a_role_that_does_not_exist(roles: Roles) -> None:
    result = CliRunner().invoke(main, ["setup", "--writer", "nobody_of_bevoegd"],
                                env={DATABASE_URL_VARIABLE: roles.owner_url})
    assert result.exit_code == 2, result.output
    assert "nobody_of_bevoegd" in result.output
